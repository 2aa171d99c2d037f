"""The model of a format definition: sections, tables (label trees with stable ids), rules.

A :class:`Format` is immutable and compared by identity: two formats loaded from two files are
two formats even when they share an id (a local variant copied from a built-in keeps its id
unless the county changes it). Everything derived from a format — its layout, its rule engine —
is therefore cached on the object, never on the id. A format travels to a worker process by its
origin (a built-in by id, a variant by its file) and its content digest, so the worker gets the
very same definition or an error, never a look-alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any

SPEC_VERSION = 1
PATH_SEP = " › "

#: ``(table, row, column)`` ids of one value cell (row or column may name a group).
CellKey = tuple[str, str, str]

#: The largest magnitude a value cell may hold. No count, change or amount (万元) a government
#: body reports comes near it; beyond it spreadsheet programs stop adding exactly (LibreOffice
#: takes numbers that close in relative terms as equal), so the sheet and ``check`` could give
#: different verdicts. A value beyond it breaks R5, and a relation over it cannot be verified.
VALUE_LIMIT = 999_999_999


class CellKind(StrEnum):
    """What a value cell may hold."""

    COUNT = "count"  # whole number >= 0
    SIGNED = "signed"  # whole number, may be negative (2019's 本年增/减)
    AMOUNT = "amount"  # decimal >= 0, in a unit (万元)
    TEXT = "text"

    @property
    def label(self) -> str:
        return {
            CellKind.COUNT: "非负整数",
            CellKind.SIGNED: "整数（减少填负数）",
            CellKind.AMOUNT: "非负数金额",
            CellKind.TEXT: "文字",
        }[self]


class Severity(StrEnum):
    """How much an issue matters: an error must be fixed, a warning explained, a notice read."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"

    @property
    def label(self) -> str:
        return {Severity.ERROR: "错误", Severity.WARNING: "警告", Severity.NOTICE: "提示"}[self]


class RuleKind(StrEnum):
    EQUATION = "equation"  # lhs == rhs inside one report
    CELLS = "cells"  # every value cell obeys its kind (R5)
    PREVIOUS = "previous"  # lhs == rhs where terms may name last year's report
    RESTATED = "restated"  # numbers the text of a section restates equal the tables (R9)
    TEXT = "text"  # a text section says what it must (T1: the 信息处理费 statement)
    PLAUSIBLE = "plausible"  # a value that can be right but seldom is (an amount in 元 in a 万元 cell)


class Each(StrEnum):
    ROW = "row"  # the equation holds in every row; terms name columns
    COLUMN = "column"  # the equation holds in every column; terms name rows


@dataclass(frozen=True)
class Node:
    """A row or a column of a table: a leaf holds values, a group holds children."""

    id: str
    label: str
    path: tuple[str, ...]  # labels from the outermost group down to this node
    depth: int
    kind: CellKind | None = None  # None: inherit (rows) / count (columns)
    decimals: int = 0
    unit: str = ""
    children: tuple[Node, ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def path_text(self) -> str:
        return PATH_SEP.join(p for p in self.path if p)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> tuple[Node, ...]:
        if self.is_leaf:
            return (self,)
        return tuple(leaf for child in self.children for leaf in child.leaves())

    def height(self) -> int:
        """Levels from this node down to its deepest leaf, counting itself."""
        return 1 + max((c.height() for c in self.children), default=0)


@dataclass(frozen=True, eq=False)
class Table:
    id: str
    sheet: str
    title: str
    corner: str
    rows: tuple[Node, ...]
    columns: tuple[Node, ...]

    @cached_property
    def leaf_rows(self) -> tuple[Node, ...]:
        return tuple(leaf for node in self.rows for leaf in node.leaves())

    @cached_property
    def leaf_columns(self) -> tuple[Node, ...]:
        return tuple(leaf for node in self.columns for leaf in node.leaves())

    @cached_property
    def row_nodes(self) -> Mapping[str, Node]:
        return {n.id: n for top in self.rows for n in top.walk()}

    @cached_property
    def column_nodes(self) -> Mapping[str, Node]:
        return {n.id: n for top in self.columns for n in top.walk()}

    @property
    def row_depth(self) -> int:
        return max(n.height() for n in self.rows)

    @property
    def column_depth(self) -> int:
        return max(n.height() for n in self.columns)

    @property
    def name(self) -> str:
        """How messages name the table: 表三 and 表四 are whole sheets, 表二's blocks are named
        by sheet and block title (表二第二十条第（一）项)."""
        return self.sheet if "、" in self.title else f"{self.sheet}{self.title}"

    def _leaf_nodes(self, row: str, column: str) -> tuple[Node, Node]:
        """The cell's row and column, a group standing for its first leaf."""
        return self.row_nodes[row].leaves()[0], self.column_nodes[column].leaves()[0]

    def cell_kind(self, row: str, column: str) -> CellKind:
        r, c = self._leaf_nodes(row, column)
        return r.kind or c.kind or CellKind.COUNT

    def decimals(self, row: str, column: str) -> int:
        r = self.row_nodes[row]
        return r.decimals if r.kind else self.column_nodes[column].decimals

    def unit(self, row: str, column: str) -> str:
        r, c = self._leaf_nodes(row, column)
        return r.unit if r.kind else c.unit

    def cells(self) -> Iterator[tuple[str, str]]:
        """Every value cell as (row id, column id), row by row."""
        for r in self.leaf_rows:
            for c in self.leaf_columns:
                yield r.id, c.id

    def has(self, row: str, column: str) -> bool:
        return row in self.row_nodes and column in self.column_nodes

    def where(self, row: str, column: str) -> str:
        """A cell in words: “（三）不予公开 › 1.属于国家秘密”行“自然人”列; a column by its path
        where its label repeats (表四's three 总计), no row words for an unlabelled row."""
        rnode, cnode = self.row_nodes[row], self.column_nodes[column]
        same = sum(1 for c in self.leaf_columns if c.label == cnode.label)
        column_text = cnode.path_text if same > 1 else cnode.label
        row_text = f"“{rnode.path_text}”行" if rnode.path_text else ""
        return f"{row_text}“{column_text}”列"


@dataclass(frozen=True)
class Section:
    id: str
    label: str
    kind: str  # "text" or "tables"
    tables: tuple[str, ...] = ()
    prompt: str = ""
    #: Words that name the section in a heading, tried when a report renumbers or rewords it.
    aliases: tuple[str, ...] = ()
    #: A text section's expected length in characters (0: not stated): the template gives it
    #: as many cells on the 文字说明 sheet as that length needs.
    length: int = 0


@dataclass(frozen=True)
class Term:
    """One summand of an equation: ``[-][prev.]id``."""

    id: str
    sign: int = 1
    previous: bool = False

    @classmethod
    def parse(cls, text: str) -> Term:
        sign = 1
        if text.startswith("-"):
            sign, text = -1, text[1:]
        previous = text.startswith("prev.")
        if previous:
            text = text[len("prev.") :]
        return cls(text, sign, previous)

    def __str__(self) -> str:
        return ("-" if self.sign < 0 else "") + ("prev." if self.previous else "") + self.id


@dataclass(frozen=True)
class Equation:
    lhs: tuple[Term, ...]
    rhs: tuple[Term, ...]
    name: str = ""


@dataclass(frozen=True)
class Fact:
    """A number a text section restates (R9): the phrases it is found by and the cells it equals.

    ``patterns`` are regular expressions whose first non-empty group is the number; ``clause``
    holds the facts that may follow in the same clause (复议 … 其中结果维持 N 件).
    """

    name: str
    patterns: tuple[str, ...]
    cells: tuple[CellKey, ...]
    clause: tuple[Fact, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    kind: RuleKind
    message: str
    short: str = ""
    tables: tuple[str, ...] = ()
    each: Each | None = None
    computes: bool = False
    equations: tuple[Equation, ...] = ()
    #: restated and text rules: the text section they read
    section: str = ""
    #: restated rules: the numbers the section restates
    facts: tuple[Fact, ...] = ()
    #: restated rules: a sentence with ``{t.r.c}`` (or ``{t.r.c+t.r.c}``) placeholders that
    #: states the key counts the way the rule reads them (render offers it as a draft)
    summary: str = ""
    #: text rules: words the section must contain (any of them)
    mentions: tuple[str, ...] = ()
    #: what to write when the section lacks them (render inserts it, marked 【待补充】)
    placeholder: str = ""
    #: plausibility and text rules: which test (plausible: ``yuan``, ``jump``, ``peers``; text:
    #: ``mentions``, ``short``, ``contradicts``, ``copied``)
    test: str = ""
    #: plausibility and text rules: the test's parameters (``at_least``, ``factor``…), by name
    params: tuple[tuple[str, Decimal], ...] = ()
    #: plausibility and text rules: the cells the test looks at
    cells: tuple[CellKey, ...] = ()
    #: text rules (``contradicts``): words that contradict a figure above zero in ``cells``
    words: tuple[str, ...] = ()

    def param(self, name: str, default: Decimal | int) -> Decimal:
        return next((v for k, v in self.params if k == name), Decimal(default))


@dataclass(frozen=True)
class Indicator:
    """A figure computed from the tables (实质公开率 = （一）+（二） over （七）): per unit, and for
    a summary from its sums (never an average of the units' rates)."""

    id: str
    name: str
    numerator: tuple[CellKey, ...]
    denominator: tuple[CellKey, ...]
    #: shown as a percentage (×100, with "%")
    percent: bool = True
    decimals: int = 1


@dataclass(frozen=True)
class Chart:
    """A chart of the summary workbook, declared by the format (the summary has no table knowledge)."""

    kind: str  # "bar": one bar per unit of ``cell``; "pie": the parts of ``row`` in ``column``
    title: str
    table: str
    row: str
    column: str


@dataclass(frozen=True, eq=False)
class Format:
    id: str
    name: str
    document: str
    year_from: int
    year_to: int | None
    sections: tuple[Section, ...]
    tables: tuple[Table, ...]
    rules: tuple[Rule, ...]
    charts: tuple[Chart, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    #: where it was loaded from: a built-in's id, or the path of a local variant's file
    source: str = field(default="")
    #: sha-256 of the definition's text: what makes two formats the same one
    digest: str = field(default="")
    builtin: bool = False

    def __reduce__(self) -> tuple[Any, tuple[str, str, bool]]:
        # Workers get the format by origin and digest (never a copy of a look-alike): the
        # registry of loaded formats answers with the same object, or loads its file again.
        from xls_gongkai.spec.builtin import restore_format

        return (restore_format, (self.source, self.digest, self.builtin))

    def __repr__(self) -> str:
        return f"Format({self.id!r}, source={self.source!r})"

    @cached_property
    def table_map(self) -> Mapping[str, Table]:
        return {t.id: t for t in self.tables}

    def table(self, table_id: str) -> Table:
        return self.table_map[table_id]

    def has(self, key: CellKey) -> bool:
        t = self.table_map.get(key[0])
        return t is not None and t.has(key[1], key[2])

    @cached_property
    def section_map(self) -> Mapping[str, Section]:
        return {s.id: s for s in self.sections}

    @property
    def text_sections(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.kind == "text")

    def rules_of(self, *kinds: RuleKind) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.kind in kinds)

    def covers(self, year: int) -> bool:
        return year >= self.year_from and (self.year_to is None or year <= self.year_to)

    @property
    def years_text(self) -> str:
        if self.year_to is None:
            return f"{self.year_from} 年及以后"
        return f"{self.year_from}–{self.year_to} 年"

    @cached_property
    def cell_keys(self) -> tuple[CellKey, ...]:
        """Every value cell as (table, row, column), in layout order."""
        return tuple((t.id, r, c) for t in self.tables for r, c in t.cells())

    def cells(self) -> Iterator[CellKey]:
        return iter(self.cell_keys)

    @cached_property
    def cell_kinds(self) -> Mapping[CellKey, tuple[CellKind, str]]:
        """Every value cell's kind and unit, worked out once."""
        return {(t.id, r, c): (t.cell_kind(r, c), t.unit(r, c)) for t in self.tables for r, c in t.cells()}

    @cached_property
    def group_keys(self) -> frozenset[CellKey]:
        """Keys whose row or column is a group (their value is a sum of leaves)."""
        return frozenset(
            (t.id, rn.id, cn.id)
            for t in self.tables
            for rn in t.row_nodes.values()
            for cn in t.column_nodes.values()
            if not (rn.is_leaf and cn.is_leaf)
        )

    @cached_property
    def leaf_labels(self) -> frozenset[str]:
        """The labels of every leaf row and column (what tells one format's tables from another's)."""
        return frozenset(n.label for t in self.tables for n in (*t.leaf_rows, *t.leaf_columns) if n.label) | frozenset(
            t.title for t in self.tables
        )

    @cached_property
    def key_positions(self) -> Mapping[CellKey, tuple[int, int, int]]:
        """Every cell key (groups included) → (table, row, column) index in the definition's order."""
        out: dict[CellKey, tuple[int, int, int]] = {}
        for ti, t in enumerate(self.tables):
            rows = [n.id for top in t.rows for n in top.walk()]
            cols = [n.id for top in t.columns for n in top.walk()]
            for ri, r in enumerate(rows):
                for ci, c in enumerate(cols):
                    out[(t.id, r, c)] = (ti, ri, ci)
        return out

    def key_order(self, key: CellKey) -> tuple[int, int, int]:
        """Sort key of a cell: table, row, column in the definition's order (unknown keys last)."""
        return self.key_positions.get(key, (len(self.tables), 0, 0))

    def to_dict(self) -> dict[str, Any]:
        """The structure as plain data (what ``formats show --json`` prints)."""
        from xls_gongkai.spec.load import format_to_dict

        return format_to_dict(self)
