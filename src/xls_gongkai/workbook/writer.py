"""Write report workbooks: blank templates, filled copies, annotated copies and summaries.

Everything about where a cell sits comes from :func:`xls_gongkai.workbook.layout.layout_for`, every formula
from :mod:`xls_gongkai.workbook.formulas`, and every cached formula result from the Python rule engine, so a
workbook, its formulas and the Python checks cannot drift apart. The work that depends only on
the format (labels, formulas, validation and conditional-format ranges, column widths) is done
once per format and cached; writing one unit's workbook is then just writing cells, and a blank
template for one more unit is the first one's package with the unit's strings replaced (see
``_skeleton``; byte-identical to writing it afresh).

Public: :func:`write_workbook`, :class:`WriteOptions`, :func:`generate_templates`,
:func:`template_filename`, :data:`META_KEYS`, :func:`meta_values`, :func:`check_text` (a check
cell's cached text), :func:`validation_options` / :func:`cell_validation` (Excel data
validation with Chinese prompts), :class:`ProtectedWorkbook` (xlsxwriter + workbook structure
protection).

Example::

    from xls_gongkai.report import Report, Unit
    from xls_gongkai.workbook.writer import WriteOptions, write_workbook

    write_workbook("out/410102001_城关镇_2024.xlsx",
                   Report(Unit("410102001", "城关镇"), 2024, "gongkai-2021"),
                   WriteOptions(deadline="2025年1月20日", contact="县政务公开办 张三 0371-12345678"))
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.format import Format as XFormat
from xlsxwriter.worksheet import Worksheet

from xls_gongkai import __version__
from xls_gongkai.errors import UsageError
from xls_gongkai.issues import Issue
from xls_gongkai.report import CellKey, Report, Unit
from xls_gongkai.rules import Check, computed_cells, evaluate, expand
from xls_gongkai.sample import with_totals
from xls_gongkai.spec import (
    SPEC_VERSION,
    CellKind,
    Each,
    Format,
    RuleKind,
    Severity,
    Table,
    format_for_year,
    get_format,
)
from xls_gongkai.workbook import formulas as excel
from xls_gongkai.workbook.layout import (
    GUIDE_SHEET,
    META_SHEET,
    TEXT_SHEET,
    Layout,
    Pos,
    a1,
    col_letter,
    layout_for,
    parse_a1,
)

#: The keys of the ``_meta`` sheet, one per row from row 2, in this order (a contract with the reader).
META_KEYS = (
    "format",
    "spec_version",
    "fingerprint",
    "unit_code",
    "unit_name",
    "unit_parent",
    "year",
    "tool_version",
    "generated_at",
    "kind",
    "units",
)
META_MARKER = "xls_gongkai_meta"
META_VERSION = "1"
ISSUES_SHEET = "问题清单"
#: Excel's limit on the characters of a cell; the text sections are validated against it.
MAX_TEXT = 32767

Kind = Literal["template", "annotated", "summary"]


@dataclass(frozen=True)
class WriteOptions:
    """How to write a workbook (everything but the data, which is the :class:`Report`).

    ``password`` protects the sheets and the workbook structure (``None``: protected without a
    password, so a clerk cannot break it by accident but an officer can unprotect it).
    ``deadline`` and ``contact`` are printed in the 填报说明 sheet. ``generated_at`` defaults to now.
    """

    password: str | None = None
    deadline: str = ""
    contact: str = ""
    kind: Kind = "template"
    generated_at: datetime | str | None = None


# --------------------------------------------------------------------------- styles

_BORDER: dict[str, Any] = {"border": 1, "border_color": "#808080"}
_FONT: dict[str, Any] = {"font_name": "宋体", "font_size": 10.5}
_SHADE = "#F2F2F2"
_HEAD = "#DDEBF7"

#: Style name -> xlsxwriter format properties; created once per workbook.
STYLES: Mapping[str, Mapping[str, Any]] = {
    "sheet_title": {**_FONT, "bold": True, "font_size": 14, "align": "center", "valign": "vcenter"},
    "unit_line": {**_FONT, "align": "left", "valign": "vcenter"},
    "summary": {**_FONT, "bold": True, "font_color": "#1F4E79", "align": "left", "valign": "vcenter"},
    "title": {**_FONT, **_BORDER, "bold": True, "bg_color": _HEAD, "align": "left", "valign": "vcenter"},
    "corner": {**_FONT, **_BORDER, "bg_color": _HEAD, "align": "center", "valign": "vcenter", "text_wrap": True},
    "column": {
        **_FONT,
        **_BORDER,
        "bold": True,
        "bg_color": _HEAD,
        "align": "center",
        "valign": "vcenter",
        "text_wrap": True,
    },
    "row": {**_FONT, **_BORDER, "bg_color": _SHADE, "align": "left", "valign": "vcenter", "text_wrap": True},
    "row_group": {**_FONT, **_BORDER, "bg_color": _SHADE, "align": "center", "valign": "vcenter", "text_wrap": True},
    "check-header": {
        **_FONT,
        **_BORDER,
        "bold": True,
        "bg_color": _SHADE,
        "align": "center",
        "valign": "vcenter",
        "text_wrap": True,
    },
    # check cells in a column beside a table: one line per row, so a long ✘ text shrinks to fit
    "check_row": {
        **_FONT,
        **_BORDER,
        "font_size": 9,
        "bg_color": _SHADE,
        "align": "center",
        "valign": "vcenter",
        "shrink": True,
    },
    "check-label": {**_FONT, **_BORDER, "bg_color": _SHADE, "align": "right", "valign": "vcenter", "italic": True},
    "check": {
        **_FONT,
        **_BORDER,
        "font_size": 9,
        "bg_color": _SHADE,
        "align": "center",
        "valign": "vcenter",
        "text_wrap": True,
    },
    "total": {**_FONT, **_BORDER, "bold": True, "bg_color": _SHADE, "align": "right", "num_format": "General"},
    "input_count": {**_FONT, **_BORDER, "locked": False, "bg_color": "#FFFFFF", "num_format": "General"},
    "input_amount": {**_FONT, **_BORDER, "locked": False, "bg_color": "#FFFFFF", "num_format": "0.00##"},
    "input_text": {
        **_FONT,
        **_BORDER,
        "locked": False,
        "bg_color": "#FFFFFF",
        "num_format": "@",
        "text_wrap": True,
        "valign": "top",
        "align": "left",
    },
    "guide_key": {**_FONT, **_BORDER, "bold": True, "bg_color": _SHADE, "valign": "vcenter"},
    "guide_value": {**_FONT, **_BORDER, "bg_color": _SHADE, "valign": "vcenter", "align": "left"},
    "guide_head": {**_FONT, "bold": True, "font_size": 12, "valign": "vcenter"},
    "guide_text": {**_FONT, "text_wrap": True, "valign": "top"},
    "text_label": {**_FONT, "bold": True, "font_size": 12, "valign": "vcenter"},
    "text_prompt": {**_FONT, "italic": True, "font_color": "#595959", "text_wrap": True, "valign": "vcenter"},
    # conditional formats (only font and fill; Excel ignores the rest)
    "cf_pass": {"font_color": "#006100", "bg_color": "#C6EFCE"},
    "cf_fail": {"font_color": "#9C0006", "bg_color": "#FFC7CE", "bold": True},
    "cf_involved": {"bg_color": "#FFEB9C"},
    "cf_bad_value": {"font_color": "#9C0006", "bg_color": "#FFC7CE"},
    # annotated copies: a cell with an issue
    "flag_input": {**_FONT, **_BORDER, "locked": False, "bg_color": "#FCE4D6", "num_format": "General"},
    "flag_amount": {**_FONT, **_BORDER, "locked": False, "bg_color": "#FCE4D6", "num_format": "0.00##"},
    "flag_text": {
        **_FONT,
        **_BORDER,
        "locked": False,
        "bg_color": "#FCE4D6",
        "num_format": "@",
        "text_wrap": True,
        "valign": "top",
    },
    "flag_locked": {**_FONT, **_BORDER, "bg_color": "#FCE4D6", "text_wrap": True, "valign": "vcenter"},
    "list_head": {**_FONT, **_BORDER, "bold": True, "bg_color": _HEAD, "align": "center", "valign": "vcenter"},
    "list_cell": {**_FONT, **_BORDER, "text_wrap": True, "valign": "top"},
    "list_link": {**_FONT, **_BORDER, "font_color": "#0563C1", "underline": 1, "valign": "top"},
    "list_error": {**_FONT, **_BORDER, "font_color": "#9C0006", "bold": True, "valign": "top", "align": "center"},
    "list_warning": {**_FONT, **_BORDER, "font_color": "#9C5700", "valign": "top", "align": "center"},
}

_INPUT_STYLE = {
    CellKind.COUNT: "input_count",
    CellKind.SIGNED: "input_count",
    CellKind.AMOUNT: "input_amount",
    CellKind.TEXT: "input_text",
}
_FLAG_STYLE = {
    "input_count": "flag_input",
    "input_amount": "flag_amount",
    "input_text": "flag_text",
}


# --------------------------------------------------------------------------- validation texts

#: Per cell kind: (input title ≤ 32, input message ≤ 255, error title ≤ 32, error message ≤ 225).
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

_SIGNED_LIMIT = 999_999_999


def validation_options(kind: CellKind, prompt: str = "") -> dict[str, Any]:
    """The xlsxwriter data-validation options for an input cell of ``kind`` (Chinese prompts)."""
    title, message, error_title, error = PROMPTS[kind]
    if prompt:
        message = prompt if len(prompt) <= 255 else prompt[:254] + "…"
    opts: dict[str, Any] = {
        "input_title": title,
        "input_message": message,
        "error_title": error_title,
        "error_message": error,
        "error_type": "stop",
        "ignore_blank": True,
    }
    if kind is CellKind.COUNT:
        opts |= {"validate": "integer", "criteria": ">=", "value": 0}
    elif kind is CellKind.SIGNED:
        opts |= {"validate": "integer", "criteria": "between", "minimum": -_SIGNED_LIMIT, "maximum": _SIGNED_LIMIT}
    elif kind is CellKind.AMOUNT:
        opts |= {"validate": "decimal", "criteria": ">=", "value": 0}
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


# --------------------------------------------------------------------------- per-format plan


@dataclass(frozen=True)
class _Merge:
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    text: str
    style: str


@dataclass(frozen=True)
class _Cond:
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    options: Mapping[str, Any]  # without "format"
    style: str


@dataclass(frozen=True)
class _SheetPlan:
    name: str
    merges: tuple[_Merge, ...]
    widths: Mapping[int, float]
    heights: Mapping[int, float]
    freeze: tuple[int, int] | None
    repeat: tuple[int, int] | None
    validations: tuple[tuple[int, int, int, int, Mapping[str, Any]], ...]
    conds: tuple[_Cond, ...]
    width: int  # columns used (for the title rows)
    pages_tall: int = 0  # 0: as many pages as needed; 1: a short sheet is scaled onto one page


@dataclass(frozen=True)
class _Plan:
    fmt: Format
    lay: Layout
    sheets: Mapping[str, _SheetPlan]
    inputs: tuple[tuple[CellKey, Pos, str], ...]  # key, position, style
    totals: tuple[tuple[CellKey, Pos, str], ...]  # key, position, formula
    checks: tuple[tuple[Check, Pos, str, bool, str], ...]  # check, position, formula, is array formula, style
    failures_formula: str
    summary_formula: str
    guide_rules: tuple[str, ...] = field(default=())


@lru_cache(maxsize=4096)
def display_width(text: str) -> float:
    """Approximate width in Excel character units (a CJK character is two)."""
    return sum(2.0 if ord(ch) > 0x2E7F else 1.0 for ch in text)


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
        CellKind.COUNT: f"OR({ref}<0,{ref}<>INT({ref}))",
        CellKind.SIGNED: f"{ref}<>INT({ref})",
        CellKind.AMOUNT: f"{ref}<0",
    }[kind]
    return f"=IF(ISBLANK({ref}),FALSE,IF(ISNUMBER({ref}),{bad},TRUE))"


def _data_sheet_plan(fmt: Format, lay: Layout, sheet: str) -> _SheetPlan:
    tables = [tl for tl in lay.tables.values() if tl.sheet == sheet]
    by_key = {c.key: c for c in expand(fmt)}
    width = lay.width(sheet)
    merges: list[_Merge] = []
    stub = max(tl.stub_cols for tl in tables)
    value_cols = {c for tl in tables for c in tl.cols.values()}
    for tl in tables:
        for lb in tl.labels:
            style = lb.role
            if lb.role == "row" and (lb.last_row > lb.first_row or lb.last_col < tl.stub_cols - 1):
                style = "row_group"
            merges.append(_Merge(lb.first_row, lb.first_col, lb.last_row, lb.last_col, lb.text, style))

    # Column widths from the labels that sit in one column; stub group columns stay narrow
    # (their labels run down merged cells), value columns wrap long headers.
    widths: dict[int, float] = dict.fromkeys(range(width), 8.0)
    for m in merges:
        if m.first_col != m.last_col or m.style in ("title",):
            continue
        w = display_width(m.text) + 2
        if m.first_col in value_cols or m.style == "check-header":
            cap = 14.0
        elif m.style == "row_group":
            cap = 12.0
        else:
            cap = 46.0
        widths[m.first_col] = max(widths[m.first_col], min(cap, w))
    for tl in tables:
        for col in tl.cols.values():
            widths[col] = max(widths[col], 9.0)
        for (_rule, _t, _i, _e), pos in tl.checks.items():
            if pos.col not in value_cols:
                widths[pos.col] = max(widths[pos.col], 14.0)
    for c in range(stub):
        widths[c] = max(widths[c], 10.0)

    # Row heights: enough lines for the wrapped labels, and for the check texts below a table.
    line = 15.0
    heights: dict[int, float] = {}
    for m in merges:
        if m.style in ("title",):
            continue
        avail = sum(widths[c] for c in range(m.first_col, m.last_col + 1))
        lines = max(1, math.ceil(display_width(m.text) / max(avail - 1, 1)))
        per_row = lines * line / (m.last_row - m.first_row + 1)
        for r in range(m.first_row, m.last_row + 1):
            heights[r] = max(heights.get(r, line), per_row)
    # Check cells below a table wrap their "✘ … 差 n" text over up to three short lines.
    for tl in tables:
        for key, pos in tl.checks.items():
            if pos.row > max(tl.rows.values()):
                rule = by_key[key].rule
                text = f"{excel.FAIL} {rule.short}，差 -1234" if rule.kind is not RuleKind.CELLS else "✘ 12处数值不合规"
                lines = min(3, math.ceil(display_width(text) * 0.86 / max(widths[pos.col] - 1, 1)))
                heights[pos.row] = max(heights.get(pos.row, line), 12.0 * lines + 4)
    heights[0] = 24.0
    heights[1] = 18.0
    heights[2] = 18.0

    validations: list[tuple[int, int, int, int, Mapping[str, Any]]] = []
    conds: list[_Cond] = []
    for tl in tables:
        for kind, r0, c0, r1, c1 in excel.input_rectangles(tl.table, lay):
            if kind is not CellKind.TEXT:
                conds.append(
                    _Cond(
                        r0,
                        c0,
                        r1,
                        c1,
                        {"type": "formula", "criteria": _bad_value_formula(kind, a1(r0, c0))},
                        "cf_bad_value",
                    )
                )
    # One validation per input cell, so that its prompt names the cell: in 表三's grid of
    # 28 rows and 7 columns the clerk sees which row and column the cursor is in. (The rule is
    # the same for every cell of a kind; only the prompt differs.)
    computed = computed_cells(fmt)
    for tl in tables:
        t = tl.table
        for rid, cid in t.cells():
            if (t.id, rid, cid) in computed:
                continue
            row, col = tl.rows[rid], tl.cols[cid]
            validations.append((row, col, row, col, cell_validation(t, rid, cid, t.cell_kind(rid, cid))))

    # Green ✔ / red ✘ on every check cell of the sheet.
    check_rects = _ranges((p.row, p.col) for tl in tables for p in tl.checks.values())
    if check_rects:
        r0, c0, r1, c1 = check_rects[0]
        multi = {"multi_range": _range_text(check_rects)} if len(check_rects) > 1 else {}
        for mark, style in ((excel.FAIL, "cf_fail"), (excel.PASS, "cf_pass")):
            conds.append(
                _Cond(r0, c0, r1, c1, {"type": "text", "criteria": "begins with", "value": mark, **multi}, style)
            )
    # The cells a failing check covers turn yellow. One rule per equation and table, not per
    # check: the formula names the check cell of the *same* row (rules that hold in every row)
    # or the *same* column (every column) with a relative reference, anchored at the first
    # area's top-left cell, which is also the top-left of all areas in that direction (rows
    # are sorted; column runs all start at the leftmost column) so Excel, WPS and LibreOffice
    # resolve it alike.
    groups: dict[tuple[str, int, str], list[Check]] = {}
    for tl in tables:
        for key in tl.checks:
            check = by_key[key]
            if check.rule.kind is not RuleKind.CELLS:
                groups.setdefault((check.rule.id, check.equation, tl.table.id), []).append(check)
    for (_rule_id, _eq, tid), group in groups.items():
        tl = lay.tables[tid]
        per_row = group[0].rule.each is Each.ROW
        cells = {(tl.rows[r], tl.cols[c]) for check in group for _t, r, c in check.leaf_keys(check.lhs + check.rhs)}
        rects = _ranges(cells)
        top = min(r for r, _c in cells)
        left = min(c for _r, c in cells)
        first = tl.checks[group[0].key]
        if per_row:
            # check cells stand in one column, one per row: $K7 follows the row
            anchor = f"${col_letter(first.col)}{top + 1}"
            rects.sort(key=lambda x: (x[0], x[1]))
        else:
            # check cells stand in one row, one per column: D$32 follows the column
            anchor = f"{col_letter(left)}${first.row + 1}"
            rects.sort(key=lambda x: (x[1], x[0]))
        r0, c0, r1, c1 = rects[0]
        if (r0, c0) != ((top if per_row else r0), (c0 if per_row else left)):
            raise AssertionError("conditional-format anchor is not the first area's corner")
        involved: dict[str, Any] = {"type": "formula", "criteria": f'=LEFT({anchor},1)="{excel.FAIL}"'}
        if len(rects) > 1:
            involved["multi_range"] = _range_text(rects)
        conds.append(_Cond(r0, c0, r1, c1, involved, "cf_involved"))

    if len(tables) == 1:
        tl = tables[0]
        freeze: tuple[int, int] | None = (tl.data_top, tl.stub_cols)
        repeat: tuple[int, int] | None = (0, tl.data_top - 1)
    else:
        freeze = (3, stub)
        repeat = (0, 2)
    return _SheetPlan(
        name=sheet,
        merges=tuple(merges),
        widths=widths,
        heights=heights,
        freeze=freeze,
        repeat=repeat,
        validations=tuple(validations),
        conds=tuple(conds),
        width=width,
        # 表二's blocks are short but many: one page prints better than a stray last block.
        pages_tall=1 if max(tl.bottom for tl in tables) < 45 else 0,
    )


def _text_sheet_plan(lay: Layout) -> _SheetPlan:
    merges: list[_Merge] = []
    heights: dict[int, float] = {0: 24.0, 1: 18.0}
    validations: list[tuple[int, int, int, int, Mapping[str, Any]]] = []
    for tl in lay.texts.values():
        merges.append(_Merge(tl.label.row, tl.label.col, tl.label.row, tl.label.col, tl.section.label, "text_label"))
        heights[tl.label.row] = 22.0
        if tl.prompt is not None:
            merges.append(
                _Merge(tl.prompt.row, tl.prompt.col, tl.prompt.row, tl.prompt.col, tl.section.prompt, "text_prompt")
            )
            heights[tl.prompt.row] = 32.0
        heights[tl.cell.row] = 220.0
        validations.append(
            (
                tl.cell.row,
                tl.cell.col,
                tl.cell.row,
                tl.cell.col,
                validation_options(CellKind.TEXT, tl.section.prompt),
            )
        )
    return _SheetPlan(
        name=TEXT_SHEET,
        merges=tuple(merges),
        widths={0: 110.0},
        heights=heights,
        freeze=(2, 0),
        repeat=None,
        validations=tuple(validations),
        conds=(),
        width=1,
    )


def _rule_lines(fmt: Format) -> tuple[str, ...]:
    lines = []
    checks = expand(fmt)
    for rule in fmt.rules:
        n = sum(1 for c in checks if c.rule is rule)
        where = "、".join(fmt.table(t).sheet for t in rule.tables) if rule.tables else "各表"
        where = "、".join(dict.fromkeys(where.split("、")))
        if rule.kind is RuleKind.CELLS:
            kinds = {t.cell_kind(r, c) for t in fmt.tables for r, c in t.cells()}
            what = "数量须为 0 或正整数"
            if CellKind.SIGNED in kinds:
                what += "（“本年增/减”可为负数）"
            if CellKind.AMOUNT in kinds:
                what += "，金额（万元）须不小于 0"
            what += "，不能填文字。"
        elif rule.kind is RuleKind.PREVIOUS:
            lines.append(
                f"{rule.id}　{rule.title}（{where}，{rule.severity.label}）：与上一年度报告衔接，"
                "汇总时与上年数据比对并提醒，不在本工作簿中校验。"
            )
            continue
        else:
            relation = (rule.short or rule.title).replace("≠", "＝")
            each = {"column": "每一列", "row": "每一行"}.get(rule.each.value if rule.each else "", "")
            if len(rule.equations) > 1 and all(eq.name for eq in rule.equations):
                each = "、".join(eq.name for eq in rule.equations) + "各自"
            what = f"{each}{relation}。"
            if rule.computes:
                what += "（合计由公式自动计算）"
        lines.append(f"{rule.id}　{rule.title}（{where}，{n} 项，{rule.severity.label}）：{what}")
    return tuple(lines)


@cache
def _plan(fmt: Format) -> _Plan:
    lay = layout_for(fmt)
    computed = computed_cells(fmt)
    inputs: list[tuple[CellKey, Pos, str]] = []
    totals: list[tuple[CellKey, Pos, str]] = []
    for t, r, c in fmt.cells():
        pos = lay.pos(t, r, c)
        if (t, r, c) in computed:
            totals.append(((t, r, c), pos, excel.total_formula(computed[(t, r, c)], lay)))
        else:
            inputs.append(((t, r, c), pos, _INPUT_STYLE[fmt.table(t).cell_kind(r, c)]))
    checks: list[tuple[Check, Pos, str, bool, str]] = []
    for check in expand(fmt):
        if not check.in_sheet:
            continue
        pos = lay.checks[check.key]
        style = "check_row" if check.rule.each is Each.ROW else "check"
        checks.append((check, pos, excel.check_formula(check, lay), check.rule.kind is RuleKind.CELLS, style))
    sheets = {s: _data_sheet_plan(fmt, lay, s) for s in lay.data_sheets}
    if lay.texts:
        sheets[TEXT_SHEET] = _text_sheet_plan(lay)
    return _Plan(
        fmt=fmt,
        lay=lay,
        sheets=sheets,
        inputs=tuple(inputs),
        totals=tuple(totals),
        checks=tuple(checks),
        failures_formula=excel.failures_formula(lay, lay.failures_cell.sheet),
        summary_formula=excel.summary_formula(lay),
        guide_rules=_rule_lines(fmt),
    )


# --------------------------------------------------------------------------- the workbook


def _legacy_hash(password: str) -> str:
    # ECMA-376 Part 4 §18.2.29: the (weak) 16-bit hash Excel, WPS and LibreOffice all accept for
    # sheet and workbook protection. It prevents accidents, not attacks.
    digest = 0
    for char in password[::-1]:
        digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
        digest ^= ord(char)
    digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
    digest ^= len(password)
    digest ^= 0xCE4B
    return f"{digest:X}"


_PREPARED: dict[tuple[str, bool, bool], str] = {}
_PREPARED_MAX = 20_000


class _Worksheet(Worksheet):  # type: ignore[misc]
    """A Worksheet that remembers how xlsxwriter rewrote each formula.

    xlsxwriter runs some 30 regular-expression substitutions over every formula (to prefix
    newer Excel functions with ``_xlfn.``), which was a third of the time of writing a
    template; a county's templates repeat the same few hundred formulas, so the result is
    memoised (bounded, so that an ``extra`` sheet with many distinct formulas cannot grow it).
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        key = (formula, bool(self.use_future_functions), expand_future_functions)
        done = _PREPARED.get(key)
        if done is None:
            done = super()._prepare_formula(formula, expand_future_functions)
            if len(_PREPARED) < _PREPARED_MAX:
                _PREPARED[key] = done
        return done


class ProtectedWorkbook(xlsxwriter.Workbook):  # type: ignore[misc]
    """An xlsxwriter Workbook that also writes ``<workbookProtection lockStructure="1"/>``.

    xlsxwriter (3.x) can protect worksheets but has no API for protecting the workbook structure
    (which stops sheets being added, deleted, renamed, moved or unhidden — the very hidden
    ``_meta`` sheet included). The element belongs right after ``<workbookPr>`` in
    ``xl/workbook.xml`` (CT_Workbook's sequence), so this class appends it in the one hook that
    writes ``<workbookPr>``; nothing else of xlsxwriter is changed.
    """

    lock_structure: bool = False
    structure_password: str = ""
    worksheet_class = _Worksheet

    def _write_workbook_pr(self) -> None:
        super()._write_workbook_pr()
        if self.lock_structure:
            attrs: list[tuple[str, Any]] = []
            if self.structure_password:
                attrs.append(("workbookPassword", _legacy_hash(self.structure_password)))
            attrs.append(("lockStructure", 1))
            self._xml_empty_tag("workbookProtection", attrs)


_PROTECT = {
    "select_locked_cells": False,
    "select_unlocked_cells": True,
    "format_columns": True,  # a clerk may widen a column to read a long label
    "format_rows": True,
}


def _number(v: int | Decimal) -> float | int:
    return float(v) if isinstance(v, Decimal) else v


def _generated_at(options: WriteOptions) -> str:
    g = options.generated_at
    if g is None:
        return datetime.now(UTC).isoformat(timespec="seconds")
    if isinstance(g, datetime):
        return g.isoformat(timespec="seconds")
    return str(g)


def meta_values(report: Report, options: WriteOptions = WriteOptions()) -> dict[str, str]:
    """The ``_meta`` sheet's values for a report, keyed by :data:`META_KEYS`."""
    lay = layout_for(report.format)
    return {
        "format": report.format_id,
        "spec_version": str(SPEC_VERSION),
        "fingerprint": lay.fingerprint,
        "unit_code": report.unit.code,
        "unit_name": report.unit.name,
        "unit_parent": report.unit.parent,
        "year": str(report.year),
        "tool_version": __version__,
        "generated_at": _generated_at(options),
        "kind": options.kind,
        "units": str(report.units),
    }


def _footer_text(text: str) -> str:
    # '&' starts a header/footer code; the footer is limited to 255 characters.
    return text.replace("&", "&&")[:80]


def fold_group_values(report: Report) -> Report:
    """The report with every value stored on a group row moved onto that group's leaves.

    A 2021 report that printed （六）其他处理 as one row (an imported document, or a summary of
    units some of which did) stores the group's value, but the workbook has cells only for the
    three sub-rows. The part of the group's value its sub-rows do not account for is written
    into the group's last sub-row (3.其他), so that （七）总计 and the checks in the sheet stay
    right; otherwise the sheet would silently drop it and show a false ✘.
    """
    fmt = report.format
    stored = [k for k in report.values if not fmt.table(k[0]).row_nodes[k[1]].is_leaf]
    if not stored:
        return report
    values = dict(report.values)
    for key in stored:
        table = fmt.table(key[0])
        group = values.pop(key)
        leaves = table.row_nodes[key[1]].leaves()
        known = sum((values.get((key[0], leaf.id, key[2]), 0) for leaf in leaves), start=0)
        if group != known:
            last = (key[0], leaves[-1].id, key[2])
            values[last] = values.get(last, 0) + group - known
    return replace(report, values=values)


def write_workbook(
    path: str | Path,
    report: Report,
    options: WriteOptions = WriteOptions(),
    *,
    issues: Sequence[Issue] = (),
    extra: Callable[[xlsxwriter.Workbook], None] | None = None,
) -> Path:
    """Write ``report`` as a workbook at ``path`` and return the path.

    A report with empty ``values`` gives the blank template. Input values are written into the
    white cells; totals and checks are formulas whose cached results are what the Python engine
    computes. ``issues`` that name a ``sheet`` and ``cell`` are highlighted with a comment each
    and all issues are listed on a 问题清单 sheet with links to their cells. ``extra(workbook)``
    may add more sheets (they come after the report's sheets).
    """
    path = Path(path)
    _check_password(options.password)
    report = fold_group_values(report)
    personal = _personal(report, options)
    fast = not (report.values or report.texts or issues or extra is not None) and _fast_ok(personal)
    # Written next to the target and renamed: an interrupted run leaves no half-written workbook
    # under the real name (which a rerun would then refuse to overwrite).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (fast and _write_from_skeleton(tmp, _skeleton(report, options, personal), personal)):
            _write(str(tmp), report, options, issues, extra, personal)
        os.replace(tmp, path)
    except (OSError, FileCreateError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(
            f"无法写入 {path}（{reason}）；如果该文件正在 Excel 或 WPS 中打开，请先关闭；否则请检查输出目录的写入权限。"
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return path


def _check_password(password: str | None) -> None:
    # The protection hash that Excel, WPS and LibreOffice share is defined on single-byte
    # characters: a Chinese password would give protection that Excel cannot remove.
    if password and not (password.isascii() and password.isprintable() and len(password) <= 255):
        raise UsageError("保护密码只能使用英文字母、数字和常用符号（不超过 255 个字符）；请换一个密码。")


def _personal(report: Report, options: WriteOptions) -> dict[str, str]:
    """The strings of a workbook that depend on the unit (and the time), by role."""
    unit = report.unit
    return {
        "name": unit.name,
        "code": unit.code,
        "unit_line": (
            f"填报单位：{unit.name or '（未填写）'}　　单位代码：{unit.code or '—'}　　报告年度：{report.year} 年"
        ),
        "footer_name": _footer_text(unit.name),
        "doc_title": f"{report.year}年度政府信息公开工作年度报告 {unit.name}",
        "meta_unit_code": unit.code,
        "meta_unit_name": unit.name,
        "meta_unit_parent": unit.parent,
        "meta_generated_at": _generated_at(options),
    }


def _write(
    target: str | io.BytesIO,
    report: Report,
    options: WriteOptions,
    issues: Sequence[Issue],
    extra: Callable[[xlsxwriter.Workbook], None] | None,
    personal: Mapping[str, str],
) -> None:
    fmt = report.format
    plan = _plan(fmt)
    lay = plan.lay
    # In the workbook the totals are formulas, so the checks see the totals they compute.
    full, shown, failures = _results(report) if report.values else _blank_results(fmt)
    flagged = _issue_cells(issues)

    # in_memory: assemble the parts in memory instead of one temporary file per part (a template
    # is small; the temporary files were a fifth of the time of writing one).
    wb = ProtectedWorkbook(target, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    wb.lock_structure = True
    wb.structure_password = options.password or ""
    wb.set_properties(
        {
            "title": personal["doc_title"],
            "subject": "政府信息公开工作年度报告",
            "author": "xls-gongkai",
            "comments": f"xls-gongkai {__version__}，{fmt.id}",
        }
    )
    # The styles of annotated copies (flag_*, list_*) are only made when there are issues.
    st = {
        name: wb.add_format(dict(props))
        for name, props in STYLES.items()
        if issues or not name.startswith(("flag_", "list_"))
    }
    password = options.password or ""
    unit_line = personal["unit_line"]
    footer = f"&L{personal['footer_name']}&C第 &P 页，共 &N 页&R{report.year} 年度"

    sheets: dict[str, Worksheet] = {}
    for name in lay.sheets:
        ws = wb.add_worksheet(name)
        sheets[name] = ws
        ws.protect(password, dict(_PROTECT))
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_footer(footer)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
        ws.hide_gridlines(2) if name == GUIDE_SHEET else None

    _write_guide(sheets[GUIDE_SHEET], st, plan, report, options, failures, personal)
    for name, sp in plan.sheets.items():
        ws = sheets[name]
        for c, w in sp.widths.items():
            ws.set_column(c, c, w)
        for r, h in sp.heights.items():
            ws.set_row(r, h)
        if sp.pages_tall:
            ws.fit_to_pages(1, sp.pages_tall)
        if sp.freeze:
            ws.freeze_panes(*sp.freeze)
        if sp.repeat:
            ws.repeat_rows(*sp.repeat)
        ws.merge_range(0, 0, 0, max(sp.width - 1, 1), lay.sheet_titles.get(name, name), st["sheet_title"])
        # Not merged: left-aligned text runs on over the empty cells to its right anyway.
        ws.write_string(1, 0, unit_line, st["unit_line"])
        for m in sp.merges:
            if (m.first_row, m.first_col) == (m.last_row, m.last_col):
                ws.write_string(m.first_row, m.first_col, m.text, st[m.style])
            else:
                ws.merge_range(m.first_row, m.first_col, m.last_row, m.last_col, m.text, st[m.style])
        for r0, c0, r1, c1, opts in sp.validations:
            ws.data_validation(r0, c0, r1, c1, dict(opts))
        for cond in sp.conds:
            ws.conditional_format(
                cond.first_row, cond.first_col, cond.last_row, cond.last_col, {**cond.options, "format": st[cond.style]}
            )

    # Summary line at the top of the first data sheet.
    sc = lay.summary_cell
    sws = sheets[sc.sheet]
    sws.write_formula(sc.row, sc.col, plan.summary_formula, st["summary"], excel.summary_display(lay, failures))

    values = report.values
    for key, pos, style in plan.inputs:
        ws = sheets[pos.sheet]
        cell_style = st[_FLAG_STYLE[style]] if flagged and (pos.sheet, pos.row, pos.col) in flagged else st[style]
        v = values.get(key)
        if v is None:
            ws.write_blank(pos.row, pos.col, None, cell_style)
        else:
            ws.write_number(pos.row, pos.col, _number(v), cell_style)
    for key, pos, formula in plan.totals:
        cell_style = st["flag_locked"] if flagged and (pos.sheet, pos.row, pos.col) in flagged else st["total"]
        sheets[pos.sheet].write_formula(pos.row, pos.col, formula, cell_style, _number(full.values[key]))
    for check, pos, formula, is_array, style in plan.checks:
        ws = sheets[pos.sheet]
        if is_array:
            ws.write_array_formula(pos.row, pos.col, pos.row, pos.col, formula, st[style], shown[check.key])
        else:
            ws.write_formula(pos.row, pos.col, formula, st[style], shown[check.key])
    for sid, tl in lay.texts.items():
        ws = sheets[tl.cell.sheet]
        style = (
            st["flag_text"] if flagged and (tl.cell.sheet, tl.cell.row, tl.cell.col) in flagged else st["input_text"]
        )
        text = report.texts.get(sid, "")
        if text:
            ws.write_string(tl.cell.row, tl.cell.col, text[:MAX_TEXT], style)
        else:
            ws.write_blank(tl.cell.row, tl.cell.col, None, style)
    if TEXT_SHEET in sheets:
        tws = sheets[TEXT_SHEET]
        tws.write_string(0, 0, "文字说明（年度报告正文第一、五、六部分）", st["sheet_title"])
        tws.write_string(1, 0, unit_line, st["unit_line"])

    wb.define_name("CHECK_FAILURES", "=" + lay.failures_cell.ref())

    if issues:
        _annotate(wb, sheets, st, issues, flagged, password)
    if extra is not None:
        extra(wb)
    _write_meta(wb, report, options, password, personal)
    # A blank template opens on its instructions; a filled copy or a summary on the figures.
    sheets[GUIDE_SHEET if options.kind == "template" and not report.values else lay.data_sheets[0]].activate()
    if issues and ISSUES_SHEET in wb.sheetnames:
        wb.get_worksheet_by_name(ISSUES_SHEET).activate()
    wb.close()


# --------------------------------------------------------------------------- blank templates, fast
#
# A county writes hundreds of blank templates that differ only in a handful of strings (unit
# name and code, the unit line, the footer, the metadata). The first template of a kind is
# written by xlsxwriter with a placeholder token in each of those strings; the others are that
# package with the tokens replaced — byte for byte what xlsxwriter writes for the unit (a test
# compares the two), at a fraction of the cost. Strings that xlsxwriter would escape or mark
# specially (control characters, "_xHHHH_", leading or trailing spaces) take the normal path.

_TOKEN = "\ue000{:02d}\ue001"
_TOKEN_RE = re.compile(rb"\xee\x80\x80(\d\d)\xee\x80\x81")
_TOKEN_MARK = "\ue000".encode()
_UNSAFE_TEXT = re.compile(r"[\x00-\x1f\ue000\ue001]|_x|^\s|\s$")


@dataclass(frozen=True)
class _Skeleton:
    infos: tuple[zipfile.ZipInfo, ...]
    parts: tuple[bytes, ...]
    keys: tuple[str, ...]  # the personal string that token n stands for


_SKELETONS: dict[tuple[object, ...], _Skeleton] = {}


def _fast_ok(personal: Mapping[str, str]) -> bool:
    return not any(_UNSAFE_TEXT.search(v) for v in personal.values())


def _skeleton(report: Report, options: WriteOptions, personal: Mapping[str, str]) -> _Skeleton:
    # Strings that are equal share a token (xlsxwriter stores equal strings once), and empty
    # ones stay empty (xlsxwriter writes no cell for them): the pattern is part of the key.
    classes: dict[str, list[str]] = {}
    for k, v in personal.items():
        classes.setdefault(v, []).append(k)
    pattern = tuple(sorted(tuple(ks) for v, ks in classes.items() if v))
    empty = tuple(sorted(k for k, v in personal.items() if not v))
    key = (
        report.format,  # the object: a local variant may reuse an id
        report.year,
        report.units,
        options.password,
        options.deadline,
        options.contact,
        options.kind,
        pattern,
        empty,
    )
    found = _SKELETONS.get(key)
    if found is not None:
        return found
    tokens = dict.fromkeys(personal, "")
    keys: list[str] = []
    for i, ks in enumerate(pattern):
        keys.append(ks[0])
        for k in ks:
            tokens[k] = _TOKEN.format(i)
    buf = io.BytesIO()
    _write(buf, report, options, (), None, tokens)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        infos = tuple(z.infolist())
        parts = tuple(z.read(info) for info in infos)
    if len(_SKELETONS) >= 32:  # a few formats × years × option sets; never grows without bound
        _SKELETONS.clear()
    found = _SKELETONS[key] = _Skeleton(infos, parts, tuple(keys))
    return found


def _xml_text(value: str) -> bytes:
    # xlsxwriter's escaping of element text (shared strings, footers, document properties).
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()


def _write_from_skeleton(path: Path, sk: _Skeleton, personal: Mapping[str, str]) -> bool:
    """Write the skeleton with the unit's strings; False (nothing written) when one of them
    equals another string of the workbook, which xlsxwriter would have stored only once."""
    values = [_xml_text(personal[k]) for k in sk.keys]
    for info, data in zip(sk.infos, sk.parts, strict=True):
        if info.filename == "xl/sharedStrings.xml" and any(b"<t>" + v + b"</t>" in data for v in values):
            return False
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for info, data in zip(sk.infos, sk.parts, strict=True):
            if _TOKEN_MARK in data:
                data = _TOKEN_RE.sub(lambda m: values[int(m[1])], data)
            out = zipfile.ZipInfo(info.filename, info.date_time)
            out.compress_type = info.compress_type
            out.external_attr = info.external_attr
            out.create_system = info.create_system
            z.writestr(out, data)
    return True


Results = tuple[Report, Mapping[tuple[str, str, str, int], str], int]


def check_text(check: Check, report: Report) -> str:
    """What the check cell shows for ``report`` (its cached result): ✔, or ✘ and the difference."""
    return excel.check_display(evaluate(check, report))


def _results(report: Report) -> Results:
    """The report as the sheet computes it (totals from their formulas), each check cell's
    cached text, and the number of failing checks (CHECK_FAILURES)."""
    full = replace(report, values=with_totals(report.format, report.values))
    shown = {check.key: check_text(check, full) for check, _p, _f, _a, _s in _plan(report.format).checks}
    failures = sum(1 for text in shown.values() if text.startswith(excel.FAIL))
    return full, shown, failures


@cache
def _blank_results(fmt: Format) -> Results:
    # Every blank template of a format has the same results: computed once.
    return _results(Report(Unit("", ""), fmt.year_from, fmt.id))


def _issue_cells(issues: Sequence[Issue]) -> dict[tuple[str, int, int], list[Issue]]:
    out: dict[tuple[str, int, int], list[Issue]] = {}
    for issue in issues:
        if not (issue.sheet and issue.cell):
            continue
        try:
            r, c = parse_a1(issue.cell)
        except ValueError:
            continue
        out.setdefault((issue.sheet, r, c), []).append(issue)
    return out


def _write_guide(
    ws: Worksheet,
    st: Mapping[str, XFormat],
    plan: _Plan,
    report: Report,
    options: WriteOptions,
    failures: int,
    personal: Mapping[str, str],
) -> None:
    lay, fmt = plan.lay, plan.fmt
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 96)
    title = f"{report.year}年度政府信息公开工作年度报告　填报模板"
    if options.kind == "summary":
        title = f"{report.year}年度政府信息公开工作年度报告　汇总表（{report.units} 个单位）"
    elif options.kind == "annotated":
        title = f"{report.year}年度政府信息公开工作年度报告　审核意见（见“{ISSUES_SHEET}”）"
    ws.set_row(0, 26)
    ws.merge_range(0, 0, 0, 1, title, st["sheet_title"])
    note = {
        "template": "本工作簿由 xls-gongkai 生成。请只在白色单元格中填写；灰色单元格已锁定。",
        "annotated": f"这是退回修改件：有问题的单元格已标色并加了批注，全部问题见“{ISSUES_SHEET}”工作表。"
        "请在白色单元格中修改后重新报送。",
        "summary": f"本汇总表由 {report.units} 个单位的报表相加而成。如需更正，请修改单位报表后重新汇总。",
    }[options.kind]
    ws.merge_range(1, 0, 1, 1, note, st["unit_line"])
    cells = lay.guide_unit_cells
    rows = [
        ("name", "填报单位", personal["name"]),
        ("code", "单位代码", personal["code"]),
        ("year", "报告年度", f"{report.year}"),
        ("format", "适用格式", f"{fmt.name}（{fmt.document}）"),
    ]
    for key, label, value in rows:
        pos = cells[key]
        ws.write_string(pos.row, pos.col - 1, label, st["guide_key"])
        ws.write_string(pos.row, pos.col, value, st["guide_value"])
    last = max(p.row for p in cells.values())
    extra_rows = [("报送截止", options.deadline or "按县（区）政务公开办通知要求"), ("联系人", options.contact or "—")]
    for i, (label, value) in enumerate(extra_rows):
        r = last + 1 + i
        if r >= lay.failures_cell.row:
            break
        ws.write_string(r, 0, label, st["guide_key"])
        ws.write_string(r, 1, value, st["guide_value"])
    fc = lay.failures_cell
    ws.write_string(fc.row, fc.col - 1, "未通过校验数", st["guide_key"])
    ws.write_formula(fc.row, fc.col, plan.failures_formula, st["guide_value"], failures)

    n_checks = len(lay.checks)
    has_signed = any(t.cell_kind(r, c) is CellKind.SIGNED for t in fmt.tables for r, c in t.cells())
    has_amount = any(t.cell_kind(r, c) is CellKind.AMOUNT for t in fmt.tables for r, c in t.cells())
    tables = "、".join(lay.data_sheets)
    paragraphs = [
        ("一、填写什么", ""),
        (
            "",
            f"“{tables}”对应年度报告正文第二、三、四部分的表格，版式与国务院办公厅政府信息公开办公室印发的格式一致；"
            f"“{TEXT_SHEET}”填写正文第一、五、六部分。统计期为 {report.year} 年 1 月 1 日至 12 月 31 日。",
        ),
        ("二、怎么填", ""),
        (
            "",
            "只在白色单元格中填写，灰色单元格（标签、合计、校验）已锁定。数量填 0 或正整数；没有的填 0，不要留空（留空视为未填报）。",
        ),
    ]
    if has_signed:
        paragraphs.append(("", "“本年增/减”比上一年增加的填正数，减少的填负数（如 -8）。"))
    if has_amount:
        paragraphs.append(("", "金额单位为万元，可保留 4 位小数；按元统计的请换算（如 251000 元填 25.1）。"))
    paragraphs += [
        ("", "“总计”“（七）总计”等合计由公式自动计算，无需填写。请勿增删行列、修改工作表名称，报送时保持 .xlsx 格式。"),
        ("三、校验是什么", ""),
        (
            "",
            f"本工作簿共有 {n_checks} 项校验（勾稽关系），结果显示在各表右侧和下方的灰色单元格中：✔ 表示通过；"
            "✘ 表示不一致，并写明哪两项不等、相差多少，相关单元格以黄色标出；填写不合规的数值以红色标出。"
            f"“{lay.data_sheets[0]}”顶部显示“共 {n_checks} 项校验，X 项未通过”。报送前请确认全部通过。",
        ),
        *[("", line) for line in plan.guide_rules],
        ("四、报送", ""),
        (
            "",
            f"请于 {options.deadline or '规定时间'} 前报送本工作簿"
            + (f"；联系人：{options.contact}。" if options.contact else "。"),
        ),
    ]
    r = fc.row + 2
    for head, text in paragraphs:
        if head:
            ws.set_row(r, 20)
            ws.merge_range(r, 0, r, 1, head, st["guide_head"])
        else:
            lines = max(1, math.ceil(display_width(text) / 104))
            ws.set_row(r, 15.0 * lines + 2)
            ws.merge_range(r, 0, r, 1, text, st["guide_text"])
        r += 1
    ws.set_paper(9)
    ws.set_portrait()


def _annotate(
    wb: xlsxwriter.Workbook,
    sheets: Mapping[str, Worksheet],
    st: Mapping[str, XFormat],
    issues: Sequence[Issue],
    flagged: Mapping[tuple[str, int, int], list[Issue]],
    password: str,
) -> None:
    for (sheet, r, c), found in flagged.items():
        ws = sheets.get(sheet)
        if ws is None:
            continue
        text = "\n".join(f"【{i.severity.label} {i.code}】{i.message}" for i in found)
        ws.write_comment(r, c, text[:2000], {"author": "xls-gongkai", "x_scale": 3, "y_scale": 2.5})
    ws = wb.add_worksheet(ISSUES_SHEET)
    errors = sum(1 for i in issues if i.severity is Severity.ERROR)
    ws.merge_range(
        0,
        0,
        0,
        7,
        f"问题清单：共 {len(issues)} 项（错误 {errors} 项，警告 {len(issues) - errors} 项）",
        st["sheet_title"],
    )
    heads = ("序号", "级别", "规则/代码", "位置（点击跳转）", "行", "列", "问题说明", "应为 / 实为")
    for c, (h, w) in enumerate(zip(heads, (6, 8, 14, 18, 30, 16, 70, 16), strict=True)):
        ws.write_string(1, c, h, st["list_head"])
        ws.set_column(c, c, w)
    for i, issue in enumerate(issues, start=1):
        r = i + 1
        ws.write_number(r, 0, i, st["list_cell"])
        ws.write_string(r, 1, issue.severity.label, st["list_error" if issue.is_error else "list_warning"])
        ws.write_string(r, 2, issue.code, st["list_cell"])
        if issue.sheet and issue.cell and issue.sheet in sheets:
            target = f"internal:'{issue.sheet}'!{issue.cell}"
            ws.write_url(r, 3, target, st["list_link"], f"{issue.sheet}!{issue.cell}")
        else:
            ws.write_string(r, 3, issue.where() or "—", st["list_cell"])
        ws.write_string(r, 4, issue.row_label, st["list_cell"])
        ws.write_string(r, 5, issue.column_label, st["list_cell"])
        ws.write_string(r, 6, issue.message, st["list_cell"])
        both = f"{issue.expected} / {issue.found}" if (issue.expected or issue.found) else ""
        ws.write_string(r, 7, both, st["list_cell"])
        ws.set_row(r, 15.0 * max(1, math.ceil(display_width(issue.message) / 68)) + 2)
    ws.freeze_panes(2, 0)
    ws.repeat_rows(1)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    # The list is for reading and clicking: its locked cells stay selectable so the links work.
    ws.protect(password, {"select_locked_cells": True, "select_unlocked_cells": True})


def _write_meta(
    wb: xlsxwriter.Workbook, report: Report, options: WriteOptions, password: str, personal: Mapping[str, str]
) -> None:
    ws = wb.add_worksheet(META_SHEET)
    ws.write_string(0, 0, META_MARKER)
    ws.write_string(0, 1, META_VERSION)
    values = meta_values(report, options)
    for key in ("unit_code", "unit_name", "unit_parent", "generated_at"):
        values[key] = personal[f"meta_{key}"]
    for i, (key, value) in enumerate(values.items(), start=1):
        ws.write_string(i, 0, key)
        ws.write_string(i, 1, value)
    ws.protect(password)
    ws.very_hidden()


# --------------------------------------------------------------------------- many units

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def template_filename(unit: Unit, year: int) -> str:
    """``<code>_<name>_<year>.xlsx``, with characters Windows forbids in names replaced by ``_``."""
    parts = [p for p in (unit.code, unit.name) if p]
    stem = "_".join(_UNSAFE.sub("_", p).strip() for p in parts) or "未命名单位"
    return f"{stem}_{year}.xlsx"


def generate_templates(
    units: Sequence[Unit],
    year: int,
    out_dir: str | Path,
    *,
    fmt: Format | str | None = None,
    options: WriteOptions = WriteOptions(),
    force: bool = False,
    progress: Callable[[Unit, Path], None] | None = None,
) -> list[Path]:
    """Write one blank template per unit into ``out_dir``; return the paths in roster order.

    The format follows from ``year`` unless ``fmt`` (a Format, an id or a YAML path) is given.
    Raises :class:`~xls_gongkai.errors.UsageError` before writing anything when a target file
    exists and ``force`` is false, when two units would get the same file name, or when the
    format does not cover the year.
    """
    _check_password(options.password)
    if fmt is None:
        fmt = format_for_year(year)
    elif isinstance(fmt, str):
        fmt = get_format(fmt)
    if not fmt.covers(year):
        raise UsageError(
            f"格式 {fmt.id}（适用 {fmt.years_text}）不适用于 {year} 年度；请去掉 --format 或改用适用的格式。"
        )
    out = Path(out_dir)
    targets = [out / template_filename(u, year) for u in units]
    seen: dict[Path, Unit] = {}
    for u, t in zip(units, targets, strict=True):
        if t in seen:
            raise UsageError(f"单位“{seen[t].name}”和“{u.name}”的文件名相同（{t.name}）；请检查名册中的代码和名称。")
        seen[t] = u
    if not force:
        existing = [t for t in targets if t.exists()]
        if existing:
            more = f" 等 {len(existing)} 个文件" if len(existing) > 1 else " "
            raise UsageError(f"{existing[0]}{more}已存在；如需覆盖请加 --force，或换一个输出目录。")
    out.mkdir(parents=True, exist_ok=True)
    done: list[Path] = []
    for u, t in zip(units, targets, strict=True):
        write_workbook(t, Report(u, year, fmt.id), options)
        done.append(t)
        if progress is not None:
            progress(u, t)
    return done


__all__ = [
    "ISSUES_SHEET",
    "META_KEYS",
    "PROMPTS",
    "ProtectedWorkbook",
    "WriteOptions",
    "cell_validation",
    "check_text",
    "generate_templates",
    "meta_values",
    "template_filename",
    "validation_options",
    "write_workbook",
]
