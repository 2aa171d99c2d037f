"""Where every cell of a format sits in the workbook — computed once, shared by writer and reader.

One sheet per table group (the tables of a format that name the same ``sheet`` share it, one
block under another), a 文字说明 sheet for the text sections, a 填报说明 sheet first. Each table is laid out as in the
official attachment: title, merged multi-level column headers, the corner cell, row labels with
their nesting as merged cells, then the value cells. Check cells for rules that hold in every
row stand in columns to the right of the table — except in a table of one row (表四), where
they stand in one row below it, each under the total it checks, so the table prints wide; those
for rules that hold in every column stand in rows below it; the cell rule R5 has one cell below
each table.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache

from xls_gongkai.rules import Check, expand
from xls_gongkai.spec import CellKey, Each, Format, Node, RuleKind, Section, Severity, Table

GUIDE_SHEET = "填报说明"
TEXT_SHEET = "文字说明"
META_SHEET = "_meta"
#: The sheet listing a workbook's problems (an annotated copy, a summary); the reader skips it.
ISSUES_SHEET = "问题清单"
#: The sheet of 说明: what a unit writes to explain a warning (one row per warning rule and a
#: general one); a summary lists its units' 说明 below its own.
EXPLAIN_SHEET = "说明"
#: 说明 sheet columns: the key (a rule id, "" for the general row), what it explains, the unit,
#: the 说明 itself (the only cell a clerk types in); its rows start under a header row.
EXPLAIN_COLUMNS = ("编号", "检查提示", "单位", "说明")
EXPLAIN_FIRST_ROW = 4
#: A summary's sheet of its units' figures, one row per unit summed, and the heading of its
#: column saying how many units each row adds up (a county's row stands for its townships).
DETAIL_SHEET = "明细"
STATUS_SHEET = "报送情况"
UNITS_HEADING = "汇总单位数"
FIRST_TABLE_ROW = 3  # rows 0-2: sheet title, unit line, check summary (first data sheet)


def col_letter(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int, absolute: bool = False) -> str:
    d = "$" if absolute else ""
    return f"{d}{col_letter(col)}{d}{row + 1}"


def parse_a1(ref: str) -> tuple[int, int]:
    """``"B5"`` → ``(4, 1)`` (0-based row, column)."""
    ref = ref.replace("$", "").upper()
    i = 0
    col = 0
    while i < len(ref) and ref[i].isalpha():
        col = col * 26 + ord(ref[i]) - 64
        i += 1
    return int(ref[i:]) - 1, col - 1


def sheet_ref(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


@dataclass(frozen=True)
class Pos:
    sheet: str
    row: int
    col: int

    @property
    def a1(self) -> str:
        return a1(self.row, self.col)

    def ref(self, from_sheet: str | None = None) -> str:
        """An absolute reference, sheet-qualified unless it is on ``from_sheet``."""
        cell = a1(self.row, self.col, absolute=True)
        return cell if from_sheet == self.sheet else f"{sheet_ref(self.sheet)}!{cell}"


@dataclass(frozen=True)
class Label:
    """A locked label cell (possibly merged): title, corner, header, row label, check label."""

    role: str
    text: str
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    node: str = ""  # the row or column id for header and row labels


@dataclass(frozen=True, eq=False)
class TableLayout:
    table: Table
    sheet: str
    top: int
    bottom: int  # last sheet row used by the block (check rows included)
    stub_cols: int
    header_top: int
    data_top: int
    rows: Mapping[str, int]  # leaf row id -> sheet row
    cols: Mapping[str, int]  # leaf column id -> sheet column
    labels: tuple[Label, ...]
    checks: Mapping[tuple[str, str, str, int], Pos]
    right: int  # last column used

    def pos(self, row: str, col: str) -> Pos:
        return Pos(self.sheet, self.rows[row], self.cols[col])

    def row_span(self, node: Node) -> tuple[int, int]:
        leaves = node.leaves()
        return self.rows[leaves[0].id], self.rows[leaves[-1].id]

    def col_span(self, node: Node) -> tuple[int, int]:
        leaves = node.leaves()
        return self.cols[leaves[0].id], self.cols[leaves[-1].id]

    @property
    def value_left(self) -> int:
        return self.stub_cols

    @property
    def value_right(self) -> int:
        return self.stub_cols + len(self.table.leaf_columns) - 1


@dataclass(frozen=True)
class TextLayout:
    """A text section on the 文字说明 sheet: its heading, an optional prompt, and its cells —
    one, or several one under another for a long section, read back joined (:func:`join_text`)."""

    section: Section
    label: Pos
    prompt: Pos | None
    cells: tuple[Pos, ...]

    @property
    def cell(self) -> Pos:
        """The first cell: where a text section is located in messages."""
        return self.cells[0]


# ---- a long text over several cells

#: Characters one text cell is made for: a sub-part of 一、总体情况 (主动公开, 依申请公开…) is
#: typically 500–800. Excel shows at most 409 points of a row, about 1,300 characters at the
#: 文字说明 sheet's width; a section expected to be longer (the format's ``length``) gets
#: several cells, and a text longer than its cells fill evenly is spread over them densely.
TEXT_CELL_CHARS = 800
#: The width of the 文字说明 sheet's one column, in Excel's character units.
TEXT_WIDTH = 110.0
#: Width units of one printed line in a text cell (52 Chinese characters: a Chinese character
#: at 10.5 pt takes two units of :data:`TEXT_WIDTH`, the rest is padding and font slack).
TEXT_LINE_UNITS = 104
#: Lines one text cell holds: 25 lines of 15.5 pt stay under Excel's 409-point row limit.
TEXT_CELL_LINES = 25
TEXT_LINE_PT = 15.5
_SENTENCE_END = re.compile(r"(?<=[。！？；;!?])")


@lru_cache(maxsize=4096)
def display_width(text: str) -> float:
    """Approximate width in Excel character units (a CJK character is two)."""
    return sum(2.0 if ord(ch) > 0x2E7F else 1.0 for ch in text)


def text_lines(text: str, units: int = TEXT_LINE_UNITS) -> int:
    """The lines a text takes in a text cell ``units`` wide per line (each paragraph wraps on its own)."""
    return sum(max(1, math.ceil(display_width(p) / units)) for p in text.split("\n"))


def text_height(text: str, units: int = TEXT_LINE_UNITS) -> float:
    """A text cell's row height for ``text`` (points, within Excel's 409-point limit)."""
    return min(409.0, max(3, text_lines(text, units)) * TEXT_LINE_PT + 6)


def text_cells(section: Section) -> int:
    """How many cells a text section gets: its expected length over :data:`TEXT_CELL_CHARS`."""
    return max(1, math.ceil(section.length / TEXT_CELL_CHARS))


def _prefix(paragraph: str, lines: int, units: int) -> int:
    """How much of a paragraph, cut after a sentence, takes at most ``lines`` lines (0: not
    even its first sentence; a first sentence longer than a whole cell is cut where it ends)."""
    room = lines * units
    end, width = 0, 0.0
    for sentence in _SENTENCE_END.split(paragraph):
        width += display_width(sentence)
        if width > room:
            break
        end += len(sentence)
    if end == 0 and lines == TEXT_CELL_LINES:
        width = 0.0
        for i, ch in enumerate(paragraph):
            width += display_width(ch)
            if width > room:
                return max(1, i)
    return end


def _pack(paragraphs: list[str], cells: int, dense: bool, units: int) -> list[list[str]]:
    """Paragraphs into at most ``cells`` parts of at most :data:`TEXT_CELL_LINES` lines each
    (the last part takes what is left). ``dense`` breaks a paragraph after a sentence where a
    part is full; otherwise a paragraph is broken only when it is longer than a whole part. A
    new part always starts with text (a blank line stays with the part before)."""
    parts: list[list[str]] = [[]]
    lines = 0
    for paragraph in paragraphs:
        rest = paragraph
        while True:
            n = text_lines(rest, units)
            if lines + n <= TEXT_CELL_LINES or len(parts) == cells or not rest.strip():
                parts[-1].append(rest)
                lines += n
                break
            if dense or not parts[-1]:  # not dense: only a paragraph longer than a whole part
                cut = _prefix(rest, TEXT_CELL_LINES - lines, units)
                if cut and rest[cut:].strip():
                    parts[-1].append(rest[:cut])
                    rest = rest[cut:]
            parts.append([])
            lines = 0
    return parts


def split_text(text: str, cells: int, units: int = TEXT_LINE_UNITS) -> tuple[str, ...]:
    """A section's text over its ``cells`` cells (``units`` wide per line), each part as many
    whole paragraphs as one cell shows (:data:`TEXT_CELL_LINES`); :func:`join_text` gives the
    text back.

    When whole paragraphs do not fit, paragraphs are broken after a sentence where a cell is
    full — the only place where the joined text has a line break the text did not have. What
    does not fit at all stays in the last cell. No part is blank.
    """
    paragraphs = text.split("\n")
    parts = _pack(paragraphs, cells, False, units)
    if text_lines("\n".join(parts[-1]), units) > TEXT_CELL_LINES:
        parts = _pack(paragraphs, cells, True, units)
    return tuple("\n".join(p) for p in parts if p)


def join_text(parts: Iterable[str]) -> str:
    """A section's text from its cells: the cells that hold text, one after another, each on a
    new line (a clerk continues in the next cell where the previous one is full)."""
    return "\n".join(p for p in parts if p.strip()).strip()


@dataclass(frozen=True)
class ExplainRow:
    """One row of the 说明 sheet: which warning rule it explains ("" for anything else)."""

    key: str
    label: str
    cell: Pos  # where the 说明 is typed


@dataclass(frozen=True, eq=False)
class Layout:
    format: Format
    sheets: tuple[str, ...]  # visible sheets in order (guide first)
    data_sheets: tuple[str, ...]
    sheet_titles: Mapping[str, str]
    tables: Mapping[str, TableLayout]
    texts: Mapping[str, TextLayout]
    checks: Mapping[tuple[str, str, str, int], Pos] = field(default_factory=dict)
    #: the cell holding the number of failing checks (the defined name CHECK_FAILURES)
    failures_cell: Pos = Pos(GUIDE_SHEET, 0, 0)
    summary_cell: Pos = Pos(GUIDE_SHEET, 0, 0)  # "共 N 项校验，X 项未通过"
    guide_unit_cells: Mapping[str, Pos] = field(default_factory=dict)
    explains: tuple[ExplainRow, ...] = ()

    def pos(self, table: str, row: str, col: str) -> Pos:
        return self.tables[table].pos(row, col)

    @property
    def cell_refs(self) -> Mapping[CellKey, tuple[str, str]]:
        """Every value cell of the template → ``(sheet, A1)`` (one shared mapping per layout)."""
        return _cell_refs(self)

    def locate(self, key: CellKey) -> tuple[str, str]:
        """Where a value cell (or the first cell of a group) is in the template: ``(sheet, A1)``."""
        ref = _cell_refs(self).get(key)
        if ref is not None:
            return ref
        tl = self.tables[key[0]]
        rnode, cnode = tl.table.row_nodes[key[1]], tl.table.column_nodes[key[2]]
        return tl.sheet, tl.pos(rnode.leaves()[0].id, cnode.leaves()[0].id).a1

    def locate_text(self, section: str) -> tuple[str, str]:
        """Where a text section's cell is in the template: ``(sheet, A1)``."""
        tl = self.texts.get(section)
        return (tl.cell.sheet, tl.cell.a1) if tl is not None else (TEXT_SHEET, "")

    @property
    def fingerprint(self) -> str:
        return _fingerprint(self)

    def width(self, sheet: str) -> int:
        return max((tl.right for tl in self.tables.values() if tl.sheet == sheet), default=4) + 1


@cache
def _cell_refs(lay: Layout) -> Mapping[CellKey, tuple[str, str]]:
    return {
        (tid, r, c): (tl.sheet, a1(tl.rows[r], tl.cols[c]))
        for tid, tl in lay.tables.items()
        for r, c in tl.table.cells()
    }


@cache
def _fingerprint(lay: Layout) -> str:
    desc = {
        "format": lay.format.id,
        "sheets": lay.sheets,
        "tables": {
            tid: {
                "sheet": tl.sheet,
                "cells": sorted([r, c, tl.rows[r], tl.cols[c]] for r, c in tl.table.cells()),
                "labels": [
                    [lb.role, lb.text, lb.first_row, lb.first_col, lb.last_row, lb.last_col] for lb in tl.labels
                ],
            }
            for tid, tl in lay.tables.items()
        },
        "texts": {sid: [[c.sheet, c.row, c.col] for c in t.cells] for sid, t in lay.texts.items()},
        "explains": [[e.key, e.cell.row, e.cell.col] for e in lay.explains],
        "checks": sorted([list(map(str, k)), p.sheet, p.row, p.col] for k, p in lay.checks.items()),
    }
    return hashlib.sha256(json.dumps(desc, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def check_label(check: Check) -> str:
    name = f"：{check.name}" if check.name else ""
    return f"{check.rule.title}{name}校验"


def _below_column(check: Check, cols: Mapping[str, int]) -> int:
    """The column a row check stands in below a one-row table: under the total its equation
    defines (the left side's first cell; a column group by its last leaf)."""
    _t, _r, column = check.lhs[0].key
    return cols[check.table.column_nodes[column].leaves()[-1].id]


def _checks_below(
    sheet: str,
    r: int,
    stub: int,
    cols: Mapping[str, int],
    checks: tuple[list[Check], list[Check], list[Check]],
    labels: list[Label],
    pos: dict[tuple[str, str, str, int], Pos],
) -> int:
    """The check rows under a table from row ``r``, each with its label in the stub: a one-row
    table's row checks (one row per rule), one row per equation of the column rules, one per
    cell rule. Returns the row after the last."""
    below, col_checks, cell_checks = checks
    rows: dict[tuple[str, int], int] = {}
    for c in below:
        k = (c.rule.id, -1)
        if k not in rows:
            rows[k] = r
            labels.append(Label("check-label", f"{c.rule.title}校验", r, 0, r, stub - 1))
            r += 1
        pos[c.key] = Pos(sheet, rows[k], _below_column(c, cols))
    for c in col_checks:
        k = (c.rule.id, c.equation)
        if k not in rows:
            rows[k] = r
            labels.append(Label("check-label", check_label(c), r, 0, r, stub - 1))
            r += 1
        pos[c.key] = Pos(sheet, rows[k], cols[c.index])
    for c in cell_checks:
        labels.append(Label("check-label", check_label(c), r, 0, r, stub - 1))
        pos[c.key] = Pos(sheet, r, stub)
        r += 1
    return r


def _layout_table(table: Table, sheet: str, top: int, with_title: bool, checks: list[Check]) -> TableLayout:
    labels: list[Label] = []
    stub = max(1, table.row_depth)
    r = top
    # A table of one row (表四) has its row checks in one row below it, each under the total it
    # checks: three check columns beside sixteen columns of numbers would shrink the printed page.
    one_row = len(table.leaf_rows) == 1
    row_checks = [c for c in checks if c.rule.each is Each.ROW and not one_row]
    below = [c for c in checks if c.rule.each is Each.ROW and one_row]
    col_checks = [c for c in checks if c.rule.each is Each.COLUMN]
    cell_checks = [c for c in checks if c.rule.kind is RuleKind.CELLS]
    # one check column per (rule, equation) of the rules that hold in every row
    row_check_cols: dict[tuple[str, int], int] = {}
    ncols = len(table.leaf_columns)
    for c in row_checks:
        row_check_cols.setdefault((c.rule.id, c.equation), stub + ncols + len(row_check_cols))
    right = stub + ncols - 1 + len(row_check_cols)
    if with_title:
        labels.append(Label("title", table.title, r, 0, r, right))
        r += 1
    header_top = r
    depth = table.column_depth
    labels.append(Label("corner", table.corner, header_top, 0, header_top + depth - 1, stub - 1))
    cols: dict[str, int] = {leaf.id: stub + i for i, leaf in enumerate(table.leaf_columns)}
    for top_node in table.columns:
        for node in top_node.walk():
            first, last = cols[node.leaves()[0].id], cols[node.leaves()[-1].id]
            row = header_top + node.depth
            last_row = header_top + depth - 1 if node.is_leaf else row
            labels.append(Label("column", node.label, row, first, last_row, last, node.id))
    for (rule_id, eq), col in row_check_cols.items():
        check = next(c for c in row_checks if (c.rule.id, c.equation) == (rule_id, eq))
        labels.append(Label("check-header", check_label(check), header_top, col, header_top + depth - 1, col))
    data_top = header_top + depth
    rows: dict[str, int] = {leaf.id: data_top + i for i, leaf in enumerate(table.leaf_rows)}
    row_depth = table.row_depth
    for top_node in table.rows:
        for node in top_node.walk():
            first, last = rows[node.leaves()[0].id], rows[node.leaves()[-1].id]
            col = node.depth
            last_col = stub - 1 if node.is_leaf else col
            if row_depth < stub and node.is_leaf:
                last_col = stub - 1
            labels.append(Label("row", node.label, first, col, last, last_col, node.id))
    check_pos = {c.key: Pos(sheet, rows[c.index], row_check_cols[(c.rule.id, c.equation)]) for c in row_checks}
    r = _checks_below(sheet, data_top + len(rows), stub, cols, (below, col_checks, cell_checks), labels, check_pos)
    return TableLayout(
        table=table,
        sheet=sheet,
        top=top,
        bottom=r - 1,
        stub_cols=stub,
        header_top=header_top,
        data_top=data_top,
        rows=rows,
        cols=cols,
        labels=tuple(labels),
        checks=check_pos,
        right=right,
    )


@cache
def layout_for(fmt: Format) -> Layout:
    """The workbook layout of a format (cached: formats are immutable)."""
    data_sheets: list[str] = []
    for t in fmt.tables:
        if t.sheet not in data_sheets:
            data_sheets.append(t.sheet)
    titles: dict[str, str] = {}
    for s in fmt.sections:
        for tid in s.tables:
            titles.setdefault(fmt.table(tid).sheet, s.label)
    checks_by_table: dict[str, list[Check]] = {}
    for check in expand(fmt):
        if check.in_sheet:
            checks_by_table.setdefault(check.table.id, []).append(check)
    tables: dict[str, TableLayout] = {}
    all_checks: dict[tuple[str, str, str, int], Pos] = {}
    for sheet in data_sheets:
        on_sheet = [t for t in fmt.tables if t.sheet == sheet]
        r = FIRST_TABLE_ROW
        for t in on_sheet:
            tl = _layout_table(t, sheet, r, len(on_sheet) > 1, checks_by_table.get(t.id, []))
            tables[t.id] = tl
            all_checks.update(tl.checks)
            r = tl.bottom + 2
    texts: dict[str, TextLayout] = {}
    r = 2
    for s in fmt.text_sections:
        label = Pos(TEXT_SHEET, r, 0)
        r += 1
        n = text_cells(s)
        prompt = None
        if s.prompt or n > 1:  # several cells: the prompt says how to go on from one to the next
            prompt = Pos(TEXT_SHEET, r, 0)
            r += 1
        texts[s.id] = TextLayout(s, label, prompt, tuple(Pos(TEXT_SHEET, r + i, 0) for i in range(n)))
        r += n + 1
    sheets = (GUIDE_SHEET, *data_sheets, *([TEXT_SHEET] if texts else []), EXPLAIN_SHEET)
    return Layout(
        format=fmt,
        sheets=sheets,
        data_sheets=tuple(data_sheets),
        sheet_titles=titles,
        tables=tables,
        texts=texts,
        checks=all_checks,
        summary_cell=Pos(data_sheets[0], 2, 0),
        failures_cell=Pos(GUIDE_SHEET, 8, 1),
        guide_unit_cells={
            "name": Pos(GUIDE_SHEET, 2, 1),
            "code": Pos(GUIDE_SHEET, 3, 1),
            "year": Pos(GUIDE_SHEET, 4, 1),
            "format": Pos(GUIDE_SHEET, 5, 1),
        },
        explains=_explain_rows(fmt),
    )


def _explain_rows(fmt: Format) -> tuple[ExplainRow, ...]:
    """A row for each warning rule of the format, then one for anything else."""
    rows = [(r.id, r.title) for r in fmt.rules if r.severity is Severity.WARNING]
    rows.append(("", "其他需要说明的情况"))
    last = len(EXPLAIN_COLUMNS) - 1
    return tuple(
        ExplainRow(key, label, Pos(EXPLAIN_SHEET, EXPLAIN_FIRST_ROW + i, last)) for i, (key, label) in enumerate(rows)
    )
