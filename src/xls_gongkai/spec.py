"""Format definitions: the declarative description of a report, loaded from YAML.

A :class:`Format` holds the sections, tables (rows and columns as label trees with stable ids),
the kind of every value cell and the cross-check rules. Everything else — the workbook layout,
the Excel formulas, the Python checks, the reader — is derived from it, so a table's shape or a
rule is written down once, in ``templates/*.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml

from xls_gongkai.errors import SpecError, UsageError

SPEC_VERSION = 1
PATH_SEP = " › "
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_E = TypeVar("_E", bound=StrEnum)


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
    ERROR = "error"
    WARNING = "warning"

    @property
    def label(self) -> str:
        return "错误" if self is Severity.ERROR else "警告"


class RuleKind(StrEnum):
    EQUATION = "equation"  # lhs == rhs inside one report
    CELLS = "cells"  # every value cell obeys its kind (R5)
    PREVIOUS = "previous"  # lhs == rhs where rhs may name last year's report


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

    def cell_kind(self, row: str, column: str) -> CellKind:
        r = self.row_nodes[row]
        c = self.column_nodes[column]
        return r.kind or c.kind or CellKind.COUNT

    def decimals(self, row: str, column: str) -> int:
        r = self.row_nodes[row]
        return r.decimals if r.kind else self.column_nodes[column].decimals

    def unit(self, row: str, column: str) -> str:
        r = self.row_nodes[row]
        return r.unit if r.kind else self.column_nodes[column].unit

    def cells(self) -> Iterator[tuple[str, str]]:
        """Every value cell as (row id, column id), row by row."""
        for r in self.leaf_rows:
            for c in self.leaf_columns:
                yield r.id, c.id


@dataclass(frozen=True)
class Section:
    id: str
    label: str
    kind: str  # "text" or "tables"
    tables: tuple[str, ...] = ()
    prompt: str = ""


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
    source: str = field(default="", compare=False)

    @cached_property
    def table_map(self) -> Mapping[str, Table]:
        return {t.id: t for t in self.tables}

    def table(self, table_id: str) -> Table:
        return self.table_map[table_id]

    @property
    def text_sections(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.kind == "text")

    def covers(self, year: int) -> bool:
        return year >= self.year_from and (self.year_to is None or year <= self.year_to)

    @property
    def years_text(self) -> str:
        if self.year_to is None:
            return f"{self.year_from} 年及以后"
        return f"{self.year_from}–{self.year_to} 年"

    def cells(self) -> Iterator[tuple[str, str, str]]:
        """Every value cell as (table, row, column), in layout order."""
        for t in self.tables:
            for r, c in t.cells():
                yield t.id, r, c

    def to_dict(self) -> dict[str, Any]:
        """The structure as plain data (what ``formats show --json`` prints)."""

        def node(n: Node) -> dict[str, Any]:
            d: dict[str, Any] = {"id": n.id, "label": n.label, "path": n.path_text}
            if n.is_leaf:
                if n.kind:
                    d["kind"] = n.kind.value
                if n.decimals:
                    d["decimals"] = n.decimals
                if n.unit:
                    d["unit"] = n.unit
            else:
                d["children"] = [node(c) for c in n.children]
            return d

        return {
            "spec_version": SPEC_VERSION,
            "id": self.id,
            "name": self.name,
            "document": self.document,
            "years": {"from": self.year_from, "to": self.year_to},
            "sections": [
                {"id": s.id, "label": s.label, "kind": s.kind, "tables": list(s.tables)}
                | ({"prompt": s.prompt} if s.prompt else {})
                for s in self.sections
            ],
            "tables": [
                {
                    "id": t.id,
                    "sheet": t.sheet,
                    "title": t.title,
                    "corner": t.corner,
                    "columns": [node(c) for c in t.columns],
                    "rows": [node(r) for r in t.rows],
                    "cells": [{"row": r, "column": c, "kind": t.cell_kind(r, c).value} for r, c in t.cells()],
                }
                for t in self.tables
            ],
            "rules": [
                {
                    "id": r.id,
                    "title": r.title,
                    "severity": r.severity.value,
                    "kind": r.kind.value,
                    "tables": list(r.tables),
                    "each": r.each.value if r.each else None,
                    "computes": r.computes,
                    "equations": [
                        {"name": e.name, "lhs": [str(t) for t in e.lhs], "rhs": [str(t) for t in e.rhs]}
                        for e in r.equations
                    ],
                    "message": r.message,
                }
                for r in self.rules
            ],
        }


# --------------------------------------------------------------------------- loading


class _Reader:
    """Walks the YAML tree, keeping the key path so every complaint can name it."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, what: str) -> SpecError:
        return SpecError(f"格式定义文件 {self.source} 有误：{where}：{what}。请对照内置的格式定义修改。")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, "应为键值对（映射）")
        return value

    def seq(self, value: Any, where: str) -> Sequence[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "应为列表")
        return value

    def text(self, m: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
        if key not in m or m[key] is None:
            if default is None:
                raise self.fail(f"{where}.{key}", "缺少此项")
            return default
        value = m[key]
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise self.fail(f"{where}.{key}", "应为文字")
        return str(value)

    def ident(self, m: Mapping[str, Any], key: str, where: str) -> str:
        value = self.text(m, key, where)
        if not _ID.match(value):
            raise self.fail(f"{where}.{key}", f"“{value}”不是合法的 id（小写字母开头，只含小写字母、数字、下划线）")
        return value

    def year(self, m: Mapping[str, Any], key: str, where: str, required: bool) -> int | None:
        value = m.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}.{key}", "缺少此项")
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 1990 <= value <= 2100:
            raise self.fail(f"{where}.{key}", f"“{value}”不是合理的年份")
        return value

    def enum(self, m: Mapping[str, Any], key: str, where: str, enum: type[_E], default: _E | None) -> _E | None:
        if key not in m:
            return default
        try:
            return enum(m[key])
        except ValueError:
            allowed = "、".join(e.value for e in enum)
            raise self.fail(f"{where}.{key}", f"“{m[key]}”不是可用的取值（可用：{allowed}）") from None

    def node(self, raw: Any, where: str, parents: tuple[str, ...], depth: int, is_column: bool) -> Node:
        m = self.mapping(raw, where)
        known = {"id", "label", "kind", "decimals", "unit", "children"}
        for key in m:
            if key not in known:
                raise self.fail(f"{where}.{key}", "不认识的键")
        node_id = self.ident(m, "id", where)
        label = self.text(m, "label", where, default="" if not is_column else None)
        path = (*parents, label)
        kind = self.enum(m, "kind", where, CellKind, None)
        decimals = m.get("decimals", 0)
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
            raise self.fail(f"{where}.decimals", "应为 0 到 6 的整数")
        if decimals and kind is not CellKind.AMOUNT:
            raise self.fail(f"{where}.decimals", "只有 kind: amount 的单元格可以有小数位")
        unit = self.text(m, "unit", where, default="")
        children: tuple[Node, ...] = ()
        if "children" in m:
            raw_children = self.seq(m["children"], f"{where}.children")
            if not raw_children:
                raise self.fail(f"{where}.children", "不能为空列表")
            if kind is not None:
                raise self.fail(f"{where}.kind", "分组不能指定 kind，请写在其下的末级项上")
            children = tuple(
                self.node(c, f"{where}.children[{i}]", path, depth + 1, is_column) for i, c in enumerate(raw_children)
            )
        return Node(node_id, label, path, depth, kind, decimals, unit, children)

    def table(self, raw: Any, where: str) -> Table:
        m = self.mapping(raw, where)
        table_id = self.ident(m, "id", where)
        rows = tuple(
            self.node(r, f"{where}.rows[{i}]", (), 0, False)
            for i, r in enumerate(self.seq(m.get("rows"), f"{where}.rows"))
        )
        columns = tuple(
            self.node(c, f"{where}.columns[{i}]", (), 0, True)
            for i, c in enumerate(self.seq(m.get("columns"), f"{where}.columns"))
        )
        if not rows or not columns:
            raise self.fail(where, "表格至少要有一行一列")
        table = Table(
            id=table_id,
            sheet=self.text(m, "sheet", where),
            title=self.text(m, "title", where),
            corner=self.text(m, "corner", where, default=""),
            rows=rows,
            columns=columns,
        )
        for label, nodes in (
            ("rows", [n for top in rows for n in top.walk()]),
            ("columns", [n for top in columns for n in top.walk()]),
        ):
            seen: set[str] = set()
            for n in nodes:
                if n.id in seen:
                    raise self.fail(f"{where}.{label}", f"id“{n.id}”重复")
                seen.add(n.id)
        return table

    def terms(self, raw: Any, where: str) -> tuple[Term, ...]:
        items = self.seq(raw, where)
        if not items:
            raise self.fail(where, "不能为空")
        return tuple(Term.parse(str(x)) for x in items)

    def rule(self, raw: Any, where: str, tables: Mapping[str, Table]) -> Rule:
        m = self.mapping(raw, where)
        rule_id = self.text(m, "id", where)
        kind = self.enum(m, "kind", where, RuleKind, RuleKind.EQUATION)
        assert kind is not None  # a default was given
        severity = self.enum(m, "severity", where, Severity, None)
        if severity is None:
            raise self.fail(f"{where}.severity", "缺少此项（error 或 warning）")
        table_ids: tuple[str, ...] = ()
        if "table" in m:
            table_ids = (self.text(m, "table", where),)
        elif "tables" in m:
            table_ids = tuple(str(t) for t in self.seq(m["tables"], f"{where}.tables"))
        for t in table_ids:
            if t not in tables:
                raise self.fail(f"{where}.table", f"没有 id 为“{t}”的表")
        each = self.enum(m, "each", where, Each, None)
        equations: list[Equation] = []
        if kind is not RuleKind.CELLS:
            if not table_ids or each is None:
                raise self.fail(where, "等式规则要写明 table 和 each（row 或 column）")
            for i, raw_eq in enumerate(self.seq(m.get("equations"), f"{where}.equations")):
                ew = f"{where}.equations[{i}]"
                em = self.mapping(raw_eq, ew)
                eq = Equation(
                    self.terms(em.get("lhs"), f"{ew}.lhs"),
                    self.terms(em.get("rhs"), f"{ew}.rhs"),
                    str(em.get("name", "")),
                )
                for t in table_ids:
                    nodes = tables[t].row_nodes if each is Each.COLUMN else tables[t].column_nodes
                    for term in (*eq.lhs, *eq.rhs):
                        if term.id not in nodes:
                            what = "行" if each is Each.COLUMN else "列"
                            raise self.fail(ew, f"表“{t}”没有 id 为“{term.id}”的{what}")
                    if kind is RuleKind.EQUATION and any(term.previous for term in (*eq.lhs, *eq.rhs)):
                        raise self.fail(ew, "prev. 只能用于 kind: previous 的规则")
                equations.append(eq)
            if not equations:
                raise self.fail(f"{where}.equations", "不能为空")
        computes = bool(m.get("computes", False))
        if computes:
            for eq in equations:
                if len(eq.lhs) != 1 or eq.lhs[0].sign < 0:
                    raise self.fail(where, "computes: true 的规则左边只能有一个单元格（合计）")
                for t in table_ids:
                    nodes = tables[t].row_nodes if each is Each.COLUMN else tables[t].column_nodes
                    if not nodes[eq.lhs[0].id].is_leaf:
                        raise self.fail(where, "合计必须是末级行或列")
        return Rule(
            id=rule_id,
            title=self.text(m, "title", where),
            severity=severity,
            kind=kind,
            message=self.text(m, "message", where),
            short=self.text(m, "short", where, default=""),
            tables=table_ids,
            each=each,
            computes=computes,
            equations=tuple(equations),
        )

    def format(self, raw: Any) -> Format:
        m = self.mapping(raw, "顶层")
        version = m.get("spec_version")
        if version != SPEC_VERSION:
            raise self.fail("spec_version", f"应为 {SPEC_VERSION}，实际为“{version}”")
        years = self.mapping(m.get("years"), "years")
        tables_raw = self.seq(m.get("tables"), "tables")
        tables = tuple(self.table(t, f"tables[{i}]") for i, t in enumerate(tables_raw))
        table_map = {t.id: t for t in tables}
        if len(table_map) != len(tables):
            raise self.fail("tables", "表的 id 有重复")
        sections: list[Section] = []
        for i, raw_s in enumerate(self.seq(m.get("sections"), "sections")):
            where = f"sections[{i}]"
            sm = self.mapping(raw_s, where)
            kind = self.text(sm, "kind", where)
            if kind not in ("text", "tables"):
                raise self.fail(f"{where}.kind", "应为 text 或 tables")
            refs = tuple(str(t) for t in sm.get("tables", []) or [])
            for t in refs:
                if t not in table_map:
                    raise self.fail(f"{where}.tables", f"没有 id 为“{t}”的表")
            sections.append(
                Section(
                    self.ident(sm, "id", where),
                    self.text(sm, "label", where),
                    kind,
                    refs,
                    self.text(sm, "prompt", where, ""),
                )
            )
        rules = tuple(self.rule(r, f"rules[{i}]", table_map) for i, r in enumerate(self.seq(m.get("rules"), "rules")))
        if len({r.id for r in rules}) != len(rules):
            raise self.fail("rules", "规则 id 有重复")
        year_from = self.year(years, "from", "years", required=True)
        assert year_from is not None  # required=True
        return Format(
            id=self.text(m, "id", "顶层"),
            name=self.text(m, "name", "顶层"),
            document=self.text(m, "document", "顶层", default=""),
            year_from=year_from,
            year_to=self.year(years, "to", "years", required=False),
            sections=tuple(sections),
            tables=tables,
            rules=rules,
            source=self.source,
        )


def load_format(path: str | Path) -> Format:
    """Load and validate one format definition file.

    Raises :class:`SpecError` naming the file and the key when the definition is broken.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"无法读取格式定义文件 {p}：{exc}。请确认文件存在且为 UTF-8 编码。") from exc
    return parse_format(text, str(p))


def parse_format(text: str, source: str = "<文本>") -> Format:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"格式定义文件 {source} 不是合法的 YAML：{exc}。") from exc
    return _Reader(source).format(raw)


def _builtin_dir() -> Path:
    # In a wheel the definitions are packaged as xls_gongkai/templates; in a source checkout
    # they live at the top-level templates/ folder, which is where a county officer edits them.
    packaged = resources.files("xls_gongkai").joinpath("templates")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "templates"


_BUILTIN: dict[str, Format] = {}
_BUILTIN_ORDER: list[tuple[Format, ...]] = []


def builtin_formats() -> tuple[Format, ...]:
    """The formats shipped with the package, oldest first (loaded once)."""
    if not _BUILTIN_ORDER:
        for path in sorted(_builtin_dir().glob("*.yaml")):
            fmt = load_format(path)
            _BUILTIN[fmt.id] = fmt
        _BUILTIN_ORDER.append(tuple(sorted(_BUILTIN.values(), key=lambda f: f.year_from)))
    return _BUILTIN_ORDER[0]


def format_for_year(year: int) -> Format:
    for fmt in builtin_formats():
        if fmt.covers(year):
            return fmt
    raise UsageError(f"没有适用于 {year} 年度报告的格式（内置格式从 2019 年起）。请检查年份，或用 --format 指定格式。")


def get_format(name: str | int) -> Format:
    """A format by id (``gongkai-2021``), report year (``2024``) or path to a YAML file."""
    if isinstance(name, str) and name in _BUILTIN:  # the reader asks once a file
        return _BUILTIN[name]
    if isinstance(name, int) or (isinstance(name, str) and name.isdigit()):
        return format_for_year(int(name))
    for fmt in builtin_formats():
        if name in (fmt.id, fmt.id.removeprefix("gongkai-")):
            return fmt
    if name.endswith((".yaml", ".yml")):
        return load_format(name)
    known = "、".join(f.id for f in builtin_formats())
    raise UsageError(f"未知的格式“{name}”。可用：{known}，或年份（如 2024），或 YAML 文件路径。")
