"""What a format's workbook looks like, worked out once per format object.

Everything here depends on the format only — labels and their merges, column widths and row
heights, one data validation per input cell, conditional formats, the formulas of totals and
checks, the guide's rule lines — so :func:`plan_for` computes it once and caches it on the
:class:`~xls_gongkai.spec.Format` object (a local variant that keeps a built-in's id gets a
plan of its own). The writer then only replays the plan and writes one unit's values.

Public: :data:`STYLES`, :data:`PROMPTS`, :func:`validation_options`, :func:`cell_validation`,
:func:`text_prompt`, :func:`plan_for` and the plan's dataclasses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from xls_gongkai.numbers import format_number
from xls_gongkai.rules import Check, Engine, engine
from xls_gongkai.spec import VALUE_LIMIT, CellKey, CellKind, Each, Format, Rule, RuleKind, Section, Table
from xls_gongkai.workbook import formulas as excel
from xls_gongkai.workbook.layout import (
    EXPLAIN_COLUMNS,
    EXPLAIN_FIRST_ROW,
    EXPLAIN_SHEET,
    TEXT_CELL_CHARS,
    TEXT_LINE_PT,
    TEXT_LINE_UNITS,
    TEXT_SHEET,
    TEXT_WIDTH,
    Layout,
    Pos,
    TableLayout,
    TextLayout,
    a1,
    col_letter,
    display_width,
    layout_for,
)

#: Excel's limit on the characters of a cell; the text sections are validated against it.
MAX_TEXT = 32767


def fit_text(text: str) -> str:
    """Text for one cell: longer than Excel's limit, it is cut with a visible note saying how
    much was left out (never silently)."""
    if len(text) <= MAX_TEXT:
        return text
    note = f"……【以下 {{n}} 字超出 Excel 单元格上限（{MAX_TEXT} 字），未能写入本单元格，请见原文】"
    keep = MAX_TEXT - len(note.format(n=len(text)))
    return text[:keep] + note.format(n=len(text) - keep)


# --------------------------------------------------------------------------- styles

_BORDER: dict[str, Any] = {"border": 1, "border_color": "#808080"}
_FONT: dict[str, Any] = {"font_name": "宋体", "font_size": 10.5}
_SHADE = "#F2F2F2"
_HEAD = "#DDEBF7"
_FLAG = "#FCE4D6"
_CENTER = {"align": "center", "valign": "vcenter"}
_INPUT = {**_FONT, **_BORDER, "locked": False, "bg_color": "#FFFFFF"}
_PROBABLE = {"bg_color": "#F8CBAD", "bold": True, "font_color": "#C00000", "border": 2, "border_color": "#C00000"}
_TEXT_CELL = {"num_format": "@", "text_wrap": True, "valign": "top"}
_CHECK = {**_FONT, **_BORDER, **_CENTER, "font_size": 9, "bg_color": _SHADE}

#: Style name -> xlsxwriter format properties; created once per workbook.
STYLES: Mapping[str, Mapping[str, Any]] = {
    "sheet_title": {**_FONT, **_CENTER, "bold": True, "font_size": 14},
    "unit_line": {**_FONT, "align": "left", "valign": "vcenter"},
    "summary": {**_FONT, "bold": True, "font_color": "#1F4E79", "align": "left", "valign": "vcenter"},
    "provisional": {**_FONT, "bold": True, "font_color": "#C00000", "align": "left", "valign": "vcenter"},
    "title": {**_FONT, **_BORDER, "bold": True, "bg_color": _HEAD, "align": "left", "valign": "vcenter"},
    "corner": {**_FONT, **_BORDER, **_CENTER, "bg_color": _HEAD, "text_wrap": True},
    "column": {**_FONT, **_BORDER, **_CENTER, "bold": True, "bg_color": _HEAD, "text_wrap": True},
    "row": {**_FONT, **_BORDER, "bg_color": _SHADE, "align": "left", "valign": "vcenter", "text_wrap": True},
    "row_group": {**_FONT, **_BORDER, **_CENTER, "bg_color": _SHADE, "text_wrap": True},
    "check-header": {**_FONT, **_BORDER, **_CENTER, "bold": True, "bg_color": _SHADE, "text_wrap": True},
    # check cells in a column beside a table: one line per row, so a long ✘ text shrinks to fit
    "check_row": {**_CHECK, "shrink": True},
    "check-label": {
        **_FONT,
        **_BORDER,
        "bg_color": _SHADE,
        "align": "right",
        "valign": "vcenter",
        "italic": True,
        "text_wrap": True,
    },
    "check": {**_CHECK, "text_wrap": True},
    "total": {**_FONT, **_BORDER, "bold": True, "bg_color": _SHADE, "align": "right", "num_format": "General"},
    "input_count": {**_INPUT, "num_format": "General"},
    "input_amount": {**_INPUT, "num_format": "0.00##"},
    "input_text": {**_INPUT, **_TEXT_CELL, "align": "left"},
    "guide_key": {**_FONT, **_BORDER, "bold": True, "bg_color": _SHADE, "valign": "vcenter"},
    "guide_value": {**_FONT, **_BORDER, "bg_color": _SHADE, "valign": "vcenter", "align": "left"},
    "guide_head": {**_FONT, "bold": True, "font_size": 12, "valign": "vcenter"},
    "guide_text": {**_FONT, "text_wrap": True, "valign": "top"},
    "text_label": {**_FONT, "bold": True, "font_size": 12, "valign": "vcenter"},
    "text_prompt": {**_FONT, "italic": True, "font_color": "#595959", "text_wrap": True, "valign": "vcenter"},
    "explain_other": {**_FONT, **_BORDER, "text_wrap": True, "valign": "top"},
    # conditional formats (only font and fill; Excel ignores the rest)
    "cf_pass": {"font_color": "#006100", "bg_color": "#C6EFCE"},
    "cf_fail": {"font_color": "#9C0006", "bg_color": "#FFC7CE", "bold": True},
    "cf_involved": {"bg_color": "#FFEB9C"},
    "cf_bad_value": {"font_color": "#9C0006", "bg_color": "#FFC7CE"},
    # annotated copies: a cell with an issue
    "flag_input": {**_INPUT, "bg_color": _FLAG, "num_format": "General"},
    "flag_amount": {**_INPUT, "bg_color": _FLAG, "num_format": "0.00##"},
    "flag_text": {**_INPUT, **_TEXT_CELL, "bg_color": _FLAG},
    "flag_locked": {**_FONT, **_BORDER, "bg_color": _FLAG, "text_wrap": True, "valign": "vcenter"},
    # the cell that probably is wrong (rules.localise): set apart from the other cells involved
    "flag_probable_input": {**_INPUT, **_PROBABLE, "num_format": "General"},
    "flag_probable_amount": {**_INPUT, **_PROBABLE, "num_format": "0.00##"},
    "flag_probable_locked": {**_FONT, **_PROBABLE, "text_wrap": True, "valign": "vcenter"},
    "list_head": {**_FONT, **_BORDER, **_CENTER, "bold": True, "bg_color": _HEAD},
    "list_cell": {**_FONT, **_BORDER, "text_wrap": True, "valign": "top"},
    "list_link": {**_FONT, **_BORDER, "font_color": "#0563C1", "underline": 1, "valign": "top"},
    "list_error": {**_FONT, **_BORDER, "font_color": "#9C0006", "bold": True, "valign": "top", "align": "center"},
    "list_warning": {**_FONT, **_BORDER, "font_color": "#9C5700", "valign": "top", "align": "center"},
}
#: Styles only an annotated copy uses (made only when there are issues).
ANNOTATION_STYLES = ("flag_", "list_")

INPUT_STYLE = {
    CellKind.COUNT: "input_count",
    CellKind.SIGNED: "input_count",
    CellKind.AMOUNT: "input_amount",
    CellKind.TEXT: "input_text",
}
FLAG_STYLE = {"input_count": "flag_input", "input_amount": "flag_amount", "input_text": "flag_text"}
PROBABLE_STYLE = {
    "input_count": "flag_probable_input",
    "input_amount": "flag_probable_amount",
    "input_text": "flag_text",
}

# --------------------------------------------------------------------------- validation texts

#: Per cell kind: (input title ≤ 32, input message ≤ 255, error title ≤ 32, error message ≤ 225).
#: An amount is in 万元 by the definition of the kind (see FORMATS.md).
PROMPTS: Mapping[CellKind, tuple[str, str, str, str]] = {
    CellKind.COUNT: (
        "请填写非负整数",
        "请填写 0 或正整数（件数、个数）；没有的填 0，不要留空。",
        "只能填写非负整数",
        "此处只能填写 0 或正整数，不能有小数、负数或文字。没有的请填 0。",
    ),
    CellKind.SIGNED: (
        "请填写整数（减少填负数）",
        "本年比上一年增加的填正数，减少的填负数（如 -8），没有变化的填 0；不要留空。",
        "只能填写整数",
        "此处只能填写整数（减少填负数，如 -8），不能有小数或文字。",
    ),
    CellKind.AMOUNT: (
        "请填写金额（单位：万元）",
        "单位为万元，可有小数（最多 4 位）；没有的填 0。按元统计的请换算，如 251000 元填 25.1。",
        "只能填写不小于 0 的数",
        "此处只能填写不小于 0 的数，单位为万元（如 251000 元填 25.1），不能有文字。",
    ),
    CellKind.TEXT: (
        "请填写文字",
        "请在此填写本部分正文，可直接粘贴；单元格内换行按 Alt+Enter。",
        "文字过长",
        "一个单元格最多容纳 32767 个字符，请精简或分段。",
    ),
}


def validation_options(kind: CellKind, prompt: str = "") -> dict[str, Any]:
    """The xlsxwriter data-validation options for an input cell of ``kind`` (Chinese prompts)."""
    title, message, error_title, error = PROMPTS[kind]
    if prompt:
        message = _fit(prompt, 255)
    opts: dict[str, Any] = {
        "input_title": title,
        "input_message": message,
        "error_title": error_title,
        "error_message": error,
        "error_type": "stop",
        "ignore_blank": True,
    }
    if kind is CellKind.COUNT:
        opts |= {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": VALUE_LIMIT}
    elif kind is CellKind.SIGNED:
        opts |= {"validate": "integer", "criteria": "between", "minimum": -VALUE_LIMIT, "maximum": VALUE_LIMIT}
    elif kind is CellKind.AMOUNT:
        opts |= {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": VALUE_LIMIT}
    else:
        opts |= {"validate": "length", "criteria": "<=", "value": MAX_TEXT}
    return opts


def _fit(text: str, limit: int) -> str:
    # Excel counts UTF-16 code units; the labels are BMP characters, one unit each.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cell_validation(table: Table, row: str, column: str, kind: CellKind) -> dict[str, Any]:
    """:func:`validation_options` with a prompt naming the cell's row and column."""
    rnode, cnode = table.row_nodes[row], table.column_nodes[column]
    col_short = cnode.label if rnode.label or len(cnode.path) < 2 else "·".join(p for p in cnode.path[-2:] if p)
    # The column part is short; the row label gives way when the two do not fit.
    title = f"{_fit(rnode.label, max(8, 31 - len(col_short)))}｜{col_short}" if rnode.label else col_short
    where = "；".join(p for p in (rnode.path_text, cnode.path_text) if p)
    opts = validation_options(kind)
    opts["input_title"] = _fit(title, 32)
    opts["input_message"] = _fit(f"{where}。{opts['input_message']}", 255)
    return opts


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Merge:
    """A label: one cell, or a merged range, with its text and style."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int
    text: str
    style: str


@dataclass(frozen=True)
class Cond:
    """A conditional format (its options without ``format``, which is per workbook)."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int
    options: Mapping[str, Any]
    style: str


Validation = tuple[int, int, int, int, Mapping[str, Any]]


@dataclass(frozen=True)
class SheetPlan:
    name: str
    title: str
    merges: tuple[Merge, ...]
    widths: Mapping[int, float]
    heights: Mapping[int, float]
    freeze: tuple[int, int] | None
    repeat: tuple[int, int] | None
    validations: tuple[Validation, ...]
    conds: tuple[Cond, ...]
    width: int  # columns used (for the title rows)
    pages_tall: int = 0  # 0: as many pages as needed; 1: a short sheet is scaled onto one page


@dataclass(frozen=True)
class CheckCell:
    check: Check
    pos: Pos
    formula: str
    is_array: bool
    style: str


@dataclass(frozen=True, eq=False)
class Plan:
    """Everything about a format's workbook that does not depend on the unit."""

    fmt: Format
    lay: Layout
    engine: Engine
    sheets: Mapping[str, SheetPlan]
    inputs: tuple[tuple[CellKey, Pos, str], ...]  # key, position, style
    totals: tuple[tuple[CellKey, Pos, str], ...]  # key, position, formula
    checks: tuple[CheckCell, ...]
    failures_formula: str
    summary_formula: str
    guide: GuideText


@dataclass(frozen=True)
class GuideText:
    """The parts of the 填报说明 that follow from the format."""

    table_sections: str  # 第二、三、四部分
    text_sections: str  # 第一、五、六部分
    signed_labels: tuple[str, ...]  # the labels of columns (or rows) that may be negative
    amount_unit: str
    amount_decimals: int
    total_labels: tuple[str, ...]  # the labels of computed totals (总计, （七）总计)
    rules: tuple[str, ...]  # one line per rule


def _ranges(cells: Iterable[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """Group cells into few rectangles: vertical runs, then runs side by side merged."""
    by_col: dict[int, list[int]] = {}
    for r, c in set(cells):
        by_col.setdefault(c, []).append(r)
    runs: list[tuple[int, int, int, int]] = []
    for c, rows in sorted(by_col.items()):
        rows.sort()
        start = prev = rows[0]
        for r in rows[1:]:
            if r != prev + 1:
                runs.append((start, c, prev, c))
                start = r
            prev = r
        runs.append((start, c, prev, c))
    merged: list[tuple[int, int, int, int]] = []
    for run in sorted(runs, key=lambda x: (x[0], x[2], x[1])):
        if merged:
            r0, c0, r1, c1 = merged[-1]
            if (r0, r1) == (run[0], run[2]) and c1 + 1 == run[1]:
                merged[-1] = (r0, c0, r1, run[3])
                continue
        merged.append(run)
    return merged


def _range_text(rects: Sequence[tuple[int, int, int, int]]) -> str:
    return " ".join(a1(r0, c0) if (r0, c0) == (r1, c1) else f"{a1(r0, c0)}:{a1(r1, c1)}" for r0, c0, r1, c1 in rects)


def _bad_value_formula(kind: CellKind, ref: str) -> str:
    # Mirrors R5 for one cell: blank is fine, text is bad, then the kind's own limits.
    bad = {
        CellKind.COUNT: f"OR({ref}<0,{ref}<>INT({ref}),{ref}>{VALUE_LIMIT})",
        CellKind.SIGNED: f"OR({ref}<>INT({ref}),ABS({ref})>{VALUE_LIMIT})",
        CellKind.AMOUNT: f"OR({ref}<0,{ref}>{VALUE_LIMIT})",
    }[kind]
    return f"=IF(ISBLANK({ref}),FALSE,IF(ISNUMBER({ref}),{bad},TRUE))"


# ---- one table block: labels, validations, conditional formats


#: A group label's item number: （三） or 三、 (a group label breaks after it, not mid-word).
_ITEM = re.compile(r"^(（[一二三四五六七八九十]+）|[一二三四五六七八九十]+、)(.+)$", re.S)
#: How wide a stub group column may grow: its label runs down merged cells, a line at most this wide.
_GROUP_CAP = 16.0


def _block_labels(tl: TableLayout) -> Iterator[Merge]:
    for lb in tl.labels:
        style, text = lb.role, lb.text
        if lb.role == "row" and (lb.last_row > lb.first_row or lb.last_col < tl.stub_cols - 1):
            style = "row_group"
            # "三、本年度办理结果" in a narrow column wraps as "三、本年度办理结 / 果": the line
            # breaks after the item number instead (labels are read with line breaks removed).
            m = _ITEM.match(text)
            if m and display_width(text) + 2 > _GROUP_CAP:
                text = f"{m.group(1)}\n{m.group(2)}"
        yield Merge(lb.first_row, lb.first_col, lb.last_row, lb.last_col, text, style)


def _block_validations(tl: TableLayout, eng: Engine) -> Iterator[Validation]:
    # One validation per input cell, so that its prompt names the cell: in a grid of 28 rows and
    # 7 columns the clerk sees which row and column the cursor is in. (The rule is the same for
    # every cell of a kind; only the prompt differs.)
    t = tl.table
    for rid, cid in t.cells():
        if (t.id, rid, cid) in eng.computed:
            continue
        row, col = tl.rows[rid], tl.cols[cid]
        yield row, col, row, col, cell_validation(t, rid, cid, t.cell_kind(rid, cid))


def _block_bad_values(tl: TableLayout, lay: Layout) -> Iterator[Cond]:
    for kind, r0, c0, r1, c1 in excel.input_rectangles(tl.table, lay):
        if kind is not CellKind.TEXT:
            options = {"type": "formula", "criteria": _bad_value_formula(kind, a1(r0, c0))}
            yield Cond(r0, c0, r1, c1, options, "cf_bad_value")


def _check_marks(tables: Sequence[TableLayout]) -> Iterator[Cond]:
    """Green ✔ / red ✘ on every check cell of the sheet."""
    rects = _ranges((p.row, p.col) for tl in tables for p in tl.checks.values())
    if not rects:
        return
    r0, c0, r1, c1 = rects[0]
    multi = {"multi_range": _range_text(rects)} if len(rects) > 1 else {}
    for mark, style in ((excel.FAIL, "cf_fail"), (excel.PASS, "cf_pass")):
        yield Cond(r0, c0, r1, c1, {"type": "text", "criteria": "begins with", "value": mark, **multi}, style)


def _block_involved(tl: TableLayout, eng: Engine) -> Iterator[Cond]:
    """The cells a failing check covers turn yellow.

    One rule per equation and table, not per check: the formula names the check cell of the
    *same* row (rules that hold in every row) or the *same* column (every column) with a
    relative reference, anchored at the first area's top-left cell, which is also the top-left
    of all areas in that direction (rows are sorted; column runs all start at the leftmost
    column) so Excel, WPS and LibreOffice resolve it alike.
    """
    by_key = {c.key: c for c in eng.checks}
    groups: dict[tuple[str, int], list[Check]] = {}
    for key in tl.checks:
        check = by_key[key]
        if check.rule.kind is not RuleKind.CELLS:
            groups.setdefault((check.rule.id, check.equation), []).append(check)
    for group in groups.values():
        per_row = group[0].rule.each is Each.ROW
        cells = {(tl.rows[r], tl.cols[c]) for check in group for _t, r, c in check.cells}
        rects = _ranges(cells)
        top = min(r for r, _c in cells)
        left = min(c for _r, c in cells)
        first = tl.checks[group[0].key]
        if len(group) == 1:  # one check (表四's, below its one row): its own cell
            anchor = f"${col_letter(first.col)}${first.row + 1}"
            rects.sort(key=lambda x: (x[0], x[1]))
        elif per_row:  # check cells stand in one column, one per row: $K7 follows the row
            anchor = f"${col_letter(first.col)}{top + 1}"
            rects.sort(key=lambda x: (x[0], x[1]))
        else:  # check cells stand in one row, one per column: D$32 follows the column
            anchor = f"{col_letter(left)}${first.row + 1}"
            rects.sort(key=lambda x: (x[1], x[0]))
        r0, c0, r1, c1 = rects[0]
        if len(group) > 1 and (r0, c0) != ((top if per_row else r0), (c0 if per_row else left)):
            raise AssertionError("conditional-format anchor is not the first area's corner")
        involved: dict[str, Any] = {"type": "formula", "criteria": f'=LEFT({anchor},1)="{excel.FAIL}"'}
        if len(rects) > 1:
            involved["multi_range"] = _range_text(rects)
        yield Cond(r0, c0, r1, c1, involved, "cf_involved")


# ---- one data sheet: sizes, then the blocks


#: The narrowest value column: an 8-digit number, or four Chinese characters of a header.
_NUMBER_WIDTH = 8.5


def _widths(tables: Sequence[TableLayout], merges: Sequence[Merge], width: int) -> dict[int, float]:
    """Column widths from the labels that sit in one column; stub group columns stay narrow
    (their labels run down merged cells), value columns wrap long headers, check labels wrap
    in whatever width the row labels give (表四 has none)."""
    value_cols = {c for tl in tables for c in tl.cols.values()}
    widths: dict[int, float] = dict.fromkeys(range(width), 8.0)
    for m in merges:
        if m.first_col != m.last_col or m.style in ("title", "check-label"):
            continue
        if m.first_col in value_cols or m.style == "check-header":
            # a header of Chinese words needs no more than its characters and half a unit of
            # air: every unit less on 表四's sixteen columns prints the page larger
            need, cap = display_width(m.text) + 0.5, 14.0
        else:
            longest = max(display_width(line) for line in m.text.split("\n"))
            need, cap = longest + 2, _GROUP_CAP if m.style == "row_group" else 46.0
        widths[m.first_col] = max(widths[m.first_col], min(cap, need))
    # A row label across stub columns ("（二）部分公开（区分处理的…）" over B:C) a little too long
    # for them would wrap and double its row's height: its last column grows by up to 4.
    for m in merges:
        if m.style == "row" and m.last_col > m.first_col and m.first_row == m.last_row:
            short = display_width(m.text) + 2 - sum(widths[c] for c in range(m.first_col, m.last_col + 1))
            if 0 < short <= 4:
                widths[m.last_col] += short
    for tl in tables:
        for col in tl.cols.values():
            widths[col] = max(widths[col], _NUMBER_WIDTH)
        for pos in tl.checks.values():
            if pos.col not in value_cols:
                widths[pos.col] = max(widths[pos.col], 14.0)
    for c in range(max(tl.stub_cols for tl in tables)):
        widths[c] = max(widths[c], 10.0)
    return widths


def _heights(
    tables: Sequence[TableLayout], merges: Sequence[Merge], widths: Mapping[int, float], eng: Engine
) -> dict[int, float]:
    """Enough lines for the wrapped labels, and for the check texts below a table."""
    line = 15.0
    heights: dict[int, float] = {}
    for m in merges:
        if m.style == "title":
            continue
        avail = sum(widths[c] for c in range(m.first_col, m.last_col + 1))
        lines = sum(max(1, math.ceil(display_width(t) / max(avail - 1, 1))) for t in m.text.split("\n"))
        per_row = lines * line / (m.last_row - m.first_row + 1)
        for r in range(m.first_row, m.last_row + 1):
            heights[r] = max(heights.get(r, line), per_row)
    # Check cells below a table wrap their "✘ … 差 n" text over up to three short lines.
    rules = {c.key: c.rule for c in eng.checks}
    for tl in tables:
        for key, pos in tl.checks.items():
            if pos.row > max(tl.rows.values()):
                rule = rules[key]
                text = f"{excel.FAIL} {rule.short}，差 -1234" if rule.kind is not RuleKind.CELLS else "✘ 12处数值不合规"
                lines = min(3, math.ceil(display_width(text) * 0.86 / max(widths[pos.col] - 1, 1)))
                heights[pos.row] = max(heights.get(pos.row, line), 12.0 * lines + 4)
    heights.update({0: 24.0, 1: 18.0, 2: 18.0})
    return heights


def _data_sheet_plan(lay: Layout, eng: Engine, sheet: str) -> SheetPlan:
    tables = [tl for tl in lay.tables.values() if tl.sheet == sheet]
    merges = [m for tl in tables for m in _block_labels(tl)]
    width = lay.width(sheet)
    widths = _widths(tables, merges, width)
    conds = [c for tl in tables for c in _block_bad_values(tl, lay)]
    conds += _check_marks(tables)
    conds += [c for tl in tables for c in _block_involved(tl, eng)]
    if len(tables) == 1:
        freeze: tuple[int, int] | None = (tables[0].data_top, tables[0].stub_cols)
        repeat: tuple[int, int] | None = (0, tables[0].data_top - 1)
    else:
        freeze = (3, max(tl.stub_cols for tl in tables))
        repeat = (0, 2)
    return SheetPlan(
        name=sheet,
        title=lay.sheet_titles.get(sheet, sheet),
        merges=tuple(merges),
        widths=widths,
        heights=_heights(tables, merges, widths, eng),
        freeze=freeze,
        repeat=repeat,
        validations=tuple(v for tl in tables for v in _block_validations(tl, eng)),
        conds=tuple(conds),
        width=width,
        # A sheet of several short blocks prints better on one page than with a stray last block.
        pages_tall=1 if max(tl.bottom for tl in tables) < 45 else 0,
    )


def part_numbers(sections: Sequence[Section]) -> str:
    """``一、五、六`` for sections labelled 一、… 五、… 六、…; their labels when one has no number."""
    numbers = [s.label.split("、", 1)[0] for s in sections]
    if all("、" in s.label and 0 < len(n) <= 3 for s, n in zip(sections, numbers, strict=True)):
        return f"第{'、'.join(numbers)}部分"
    return "、".join(f"“{s.label}”" for s in sections)


def text_sheet_title(fmt: Format) -> str:
    """The 文字说明 sheet's title, naming the report's text sections."""
    return f"{TEXT_SHEET}（年度报告正文{part_numbers(fmt.text_sections)}）"


#: A blank text cell's height: what :data:`TEXT_CELL_CHARS` characters take, and a few
#: paragraph ends.
BLANK_TEXT_HEIGHT = (math.ceil(2 * TEXT_CELL_CHARS / TEXT_LINE_UNITS) + 4) * TEXT_LINE_PT + 6


def text_prompt(tl: TextLayout) -> str:
    """The prompt over a text section's cells: the format's, and how to go on from cell to cell."""
    n = len(tl.cells)
    more = (
        f"本部分共 {n} 格，每格约 {TEXT_CELL_CHARS} 字；一格写满后接着写在下一格，读取时按顺序连成全文。"
        if n > 1
        else ""
    )
    return "".join(p for p in (tl.section.prompt, more) if p)


def _text_sheet_plan(lay: Layout) -> SheetPlan:
    merges: list[Merge] = []
    heights: dict[int, float] = {0: 24.0, 1: 18.0}
    validations: list[Validation] = []
    for tl in lay.texts.values():
        merges.append(Merge(tl.label.row, tl.label.col, tl.label.row, tl.label.col, tl.section.label, "text_label"))
        heights[tl.label.row] = 22.0
        prompt = text_prompt(tl)
        if tl.prompt is not None:
            p = tl.prompt
            merges.append(Merge(p.row, p.col, p.row, p.col, prompt, "text_prompt"))
            heights[p.row] = max(1, math.ceil(display_width(prompt) / TEXT_LINE_UNITS)) * TEXT_LINE_PT + 4
        for c in tl.cells:
            heights[c.row] = BLANK_TEXT_HEIGHT
            validations.append((c.row, c.col, c.row, c.col, validation_options(CellKind.TEXT, prompt)))
    return SheetPlan(
        name=TEXT_SHEET,
        title=text_sheet_title(lay.format),
        merges=tuple(merges),
        widths={0: TEXT_WIDTH},
        heights=heights,
        freeze=(2, 0),
        repeat=None,
        validations=tuple(validations),
        conds=(),
        width=1,
    )


#: What the 说明 sheet asks for (row 2, under the unit line).
EXPLAIN_NOTE = (
    "检查时提示“警告”的，如情况属实（例如修订、失效使现行有效件数不衔接，或金额确实很大），请在对应行的"
    "“说明”中写明原因；其他需要说明的情况写在最后一行。说明随报表报送，汇总时列入汇总表的“说明”和“问题清单”，"
    "逐级上报。错误必须改正，不能以说明代替。"
)


def _explain_sheet_plan(lay: Layout) -> SheetPlan:
    """The 说明 sheet: an instruction, a header, one row per warning rule; the unit's name and its
    说明 are written per workbook (a summary adds its units' rows below)."""
    top = EXPLAIN_FIRST_ROW - 1
    merges = [Merge(2, 0, 2, len(EXPLAIN_COLUMNS) - 1, EXPLAIN_NOTE, "guide_text")]
    merges += [Merge(top, c, top, c, text, "column") for c, text in enumerate(EXPLAIN_COLUMNS)]
    heights: dict[int, float] = {0: 24.0, 1: 18.0, 2: 48.0, top: 20.0}
    validations: list[Validation] = []
    for row in lay.explains:
        r = row.cell.row
        merges.append(Merge(r, 0, r, 0, row.key or "—", "guide_value"))
        merges.append(Merge(r, 1, r, 1, row.label, "row"))
        heights[r] = 60.0
        prompt = "请写明这项提示的原因（情况属实的才需要说明）；没有可不填。"
        validations.append((r, row.cell.col, r, row.cell.col, validation_options(CellKind.TEXT, prompt)))
    return SheetPlan(
        name=EXPLAIN_SHEET,
        title=f"{EXPLAIN_SHEET}（对检查提示的解释）",
        merges=tuple(merges),
        widths={0: 7.0, 1: 30.0, 2: 18.0, 3: 80.0},
        heights=heights,
        freeze=(EXPLAIN_FIRST_ROW, 0),
        repeat=(top, top),
        validations=tuple(validations),
        conds=(),
        width=len(EXPLAIN_COLUMNS),
    )


# ---- the guide's words that come from the format


def _kind_labels(fmt: Format, kind: CellKind) -> tuple[str, ...]:
    """The labels of the leaf columns (or rows) that give cells their ``kind``."""
    labels: dict[str, None] = {}
    for t in fmt.tables:
        for node in (*t.leaf_columns, *t.leaf_rows):
            if node.kind is kind and node.label:
                labels[node.label] = None
    return tuple(labels)


def _total_labels(eng: Engine) -> tuple[str, ...]:
    labels: dict[str, None] = {}
    for _t, r, c in eng.computed:
        check = eng.computed[(_t, r, c)]
        node = check.table.column_nodes[c] if check.rule.each is Each.ROW else check.table.row_nodes[r]
        labels.setdefault(node.label, None)
    return tuple(labels)


def _rule_line(fmt: Format, eng: Engine, rule_index: int) -> str:
    rule = fmt.rules[rule_index]
    n = sum(1 for c in eng.checks if c.rule is rule)
    sheets = [fmt.table(t).sheet for t in (*rule.tables, *(c[0] for c in rule.cells))]
    where = "、".join(dict.fromkeys(sheets)) if sheets else "各表"
    if rule.kind in (RuleKind.RESTATED, RuleKind.TEXT):
        section = fmt.section_map[rule.section].label if rule.section in fmt.section_map else TEXT_SHEET
        return f"{rule.id}　{rule.title}（{section}，{rule.severity.label}）：{_text_rule_words(rule)}读取报表时核对。"
    if rule.kind is RuleKind.PREVIOUS:
        return (
            f"{rule.id}　{rule.title}（{where}，{n} 项，{rule.severity.label}）：与上一年度报告衔接，"
            "汇总时与上年数据比对并提醒，不在本工作簿中校验。"
        )
    if rule.kind is RuleKind.PLAUSIBLE:
        return f"{rule.id}　{rule.title}（{where}，{rule.severity.label}）：{_plausible_words(rule)}数额无误的请在“说明”中写明。"
    if rule.kind is RuleKind.CELLS:
        what = "数量须为 0 或正整数"
        signed = _kind_labels(fmt, CellKind.SIGNED)
        if signed:
            what += "（" + "".join(f"“{s}”" for s in signed) + "可为负数）"
        if _kind_labels(fmt, CellKind.AMOUNT):
            what += "，金额（万元）须不小于 0"
        what += "，不能填文字。"
    else:
        relation = (rule.short or rule.title).replace("≠", "＝")
        each = {Each.COLUMN: "每一列", Each.ROW: "每一行"}.get(rule.each, "") if rule.each else ""
        if len(rule.equations) > 1 and all(eq.name for eq in rule.equations):
            each = "、".join(eq.name for eq in rule.equations) + "各自"
        what = f"{each}{relation}。" + ("（合计由公式自动计算）" if rule.computes else "")
    return f"{rule.id}　{rule.title}（{where}，{n} 项，{rule.severity.label}）：{what}"


def _plausible_words(rule: Rule) -> str:
    """What a plausibility rule looks for, in the guide's words."""
    if rule.test == "yuan":
        return (
            f"金额达到 {format_number(rule.param('at_least', 100000))} 万元，或为整数且达到 "
            f"{format_number(rule.param('whole_at_least', 100000))} 万元时，提醒核对是否按元填写；读取报表时核对。"
        )
    if rule.test == "jump":
        return (
            f"与上一年度相比，是上年的 {format_number(rule.param('factor', 5))} 倍以上或不足其 "
            f"1/{format_number(rule.param('factor', 5))}、且相差 {format_number(rule.param('floor', 20))} "
            "以上时提醒；提供上一年度数据时核对。"
        )
    return "与同一批单位相比明显偏离时提醒；检查或汇总一批报表时核对。"


def _text_rule_words(rule: Rule) -> str:
    """What a restated or text rule looks for, in the guide's words."""
    if rule.kind is RuleKind.RESTATED:
        return "正文复述的件数应与表格一致；"
    if rule.test == "short":
        return f"少于 {format_number(rule.param('min_length', 30))} 字时提醒；"
    if rule.test == "contradicts":
        return f"表中填了金额而正文写“{rule.words[0]}”等时提醒；" if rule.words else ""
    if rule.test == "copied":
        return "与上一年度的文字几乎相同时提醒（提供上一年度数据时）；"
    return f"应写明{'或'.join(rule.mentions)}；" if rule.mentions else ""


def _guide_text(fmt: Format, eng: Engine) -> GuideText:
    amounts = [t.decimals(r, c) for t in fmt.tables for r, c in t.cells() if t.cell_kind(r, c) is CellKind.AMOUNT]
    return GuideText(
        table_sections=part_numbers([s for s in fmt.sections if s.kind == "tables"]),
        text_sections=part_numbers(fmt.text_sections),
        signed_labels=_kind_labels(fmt, CellKind.SIGNED),
        amount_unit="万元" if amounts else "",
        amount_decimals=max(amounts, default=0),
        total_labels=_total_labels(eng),
        rules=tuple(_rule_line(fmt, eng, i) for i in range(len(fmt.rules))),
    )


def _beside(lay: Layout, check: Check) -> bool:
    """Whether a check cell stands in a column beside its table (one line per row: its text
    shrinks to fit) rather than in a row below it (its text wraps)."""
    tl = lay.tables[check.table.id]
    return lay.checks[check.key].col > tl.value_right


@cache
def plan_for(fmt: Format) -> Plan:
    """The workbook plan of a format (one per format object)."""
    lay = layout_for(fmt)
    eng = engine(fmt)
    inputs: list[tuple[CellKey, Pos, str]] = []
    totals: list[tuple[CellKey, Pos, str]] = []
    for key in fmt.cell_keys:
        pos = lay.pos(*key)
        if key in eng.computed:
            totals.append((key, pos, excel.total_formula(eng.computed[key], lay)))
        else:
            inputs.append((key, pos, INPUT_STYLE[fmt.table(key[0]).cell_kind(key[1], key[2])]))
    checks = tuple(
        CheckCell(
            check,
            lay.checks[check.key],
            excel.check_formula(check, lay),
            check.rule.kind is RuleKind.CELLS,
            "check_row" if _beside(lay, check) else "check",
        )
        for check in eng.checks
        if check.in_sheet
    )
    sheets = {s: _data_sheet_plan(lay, eng, s) for s in lay.data_sheets}
    if lay.texts:
        sheets[TEXT_SHEET] = _text_sheet_plan(lay)
    sheets[EXPLAIN_SHEET] = _explain_sheet_plan(lay)
    return Plan(
        fmt=fmt,
        lay=lay,
        engine=eng,
        sheets=sheets,
        inputs=tuple(inputs),
        totals=tuple(totals),
        checks=checks,
        failures_formula=excel.failures_formula(lay, lay.failures_cell.sheet),
        summary_formula=excel.summary_formula(lay),
        guide=_guide_text(fmt, eng),
    )
