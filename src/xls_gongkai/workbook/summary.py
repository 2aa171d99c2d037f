"""The county summary workbook, written from a :class:`~xls_gongkai.collection.Merged`.

Its first sheets are the template's own (填报说明 and the tables, filled with the sums, with live
totals and checks, and ``_meta`` marking it a summary of N units), so the summary can be read,
checked and merged again one level up. Then one sheet each, one function each:

* 报送情况 — every roster unit, unit not on the roster and unreadable file, with its status;
* 明细 — one row per unit summed, every cell of every table side by side, then 合计;
* 问题清单 — every issue of the summary, of the merge and of each unit;
* 文字材料 — the units' texts, section by section, long ones over several rows;
* 图表 — the charts the format declares (``charts:`` in its definition).

Nothing here knows a table: the columns of 明细 come from the format's tables, the charts from
``fmt.charts``, which cells are totals from the rule engine. Every text a unit sent is written
as a string, never as a formula (a unit named ``=HYPERLINK(…)`` stays text).
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from math import isfinite
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format as XFormat
from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellNumberTuple, Worksheet

from xls_gongkai.collection import Merged, Status
from xls_gongkai.errors import printable
from xls_gongkai.numbers import Value
from xls_gongkai.report import Report
from xls_gongkai.rules import engine, indicators
from xls_gongkai.spec import CellKey, CellKind, Chart, Each, Format, Node, Table
from xls_gongkai.workbook.layout import (
    DETAIL_SHEET,
    ISSUES_SHEET,
    STATUS_SHEET,
    TEXT_LINE_UNITS,
    TEXT_WIDTH,
    UNITS_HEADING,
    col_letter,
    split_text,
    text_height,
)
from xls_gongkai.workbook.plan import fit_text
from xls_gongkai.workbook.writer import WriteOptions, write_workbook

__all__ = [
    "CHARTS_SHEET",
    "DETAIL_SHEET",
    "STATUS_SHEET",
    "TEXTS_SHEET",
    "detail_title",
    "total_rows",
    "write_summary",
]

TEXTS_SHEET = "文字材料"
CHARTS_SHEET = "图表"

_DETAIL_WIDTH = 14  # 明细 value columns, in characters
_DETAIL_TOP = 2  # 明细's three header rows start here
#: Units charted one bar each; above this only the ``_BAR_TOP`` with the largest values.
_BAR_LIMIT = 60
_BAR_TOP = 50
_PIE_COL = 13  # pie charts and their data stand right of the bar charts
_ROW_PX = 20  # a default row's height in pixels (for placing things below a chart)


def write_summary(merged: Merged, path: str | Path, *, password: str | None = None) -> Path:
    """Write the summary workbook atomically (:func:`xls_gongkai.output.atomic_path`) and return its path.

    Raises :class:`~xls_gongkai.errors.UsageError` when the file cannot be written; an earlier
    summary at ``path`` then stays as it was.
    """
    options = WriteOptions(
        password=password, kind="summary", generated_at=merged.generated_at, provisional=merged.provisional
    )
    with _collector_paused():
        return write_workbook(path, merged.report, options, extra=lambda wb: _add_sheets(wb, merged))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cycle collector off while the workbook is built: xlsxwriter keeps an object per cell
    (hundreds of thousands in 明细), and each full collection would walk them and every unit's
    report again, to find no garbage (the few cycles of the workbook are freed afterwards)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _add_sheets(wb: xlsxwriter.Workbook, merged: Merged) -> None:
    # xlsxwriter stamps docProps/core.xml with the current time; the newest input's time
    # instead makes a re-run on the same inputs give the same file.
    wb.doc_properties = {**wb.doc_properties, "created": merged.generated_at.replace(tzinfo=None)}
    st = _Styles.of(wb)
    _status_sheet(wb, st, merged)
    detail = _detail_sheet(wb, st, merged)
    _issues_sheet(wb, st, merged)
    _texts_sheet(wb, st, merged)
    _charts_sheet(wb, st, merged, detail)


@dataclass(frozen=True)
class _Styles:
    title: XFormat
    provisional: XFormat
    head: XFormat
    text: XFormat
    wrap: XFormat
    passage: XFormat
    number: XFormat
    amount: XFormat
    total: XFormat
    total_amount: XFormat
    percent: XFormat
    total_percent: XFormat
    state: dict[Status, XFormat]

    @classmethod
    def of(cls, wb: xlsxwriter.Workbook) -> _Styles:
        box = {"border": 1}
        shaded = {**box, "bold": True, "bg_color": "#F2F2F2"}
        fills = {
            Status.SUBMITTED: "#E2EFDA",
            Status.WARNINGS: "#E2EFDA",
            Status.EMPTY: "#FCE4D6",
            Status.MISSING: "#FCE4D6",
            Status.ERRORS: "#FFC7CE",
            Status.DUPLICATE: "#FFEB9C",
            Status.UNKNOWN: "#D9D9D9",
            Status.UNREADABLE: "#FFC7CE",
        }
        return cls(
            title=wb.add_format({"bold": True, "font_size": 14}),
            provisional=wb.add_format({"bold": True, "font_color": "#C00000"}),
            head=wb.add_format({**box, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "vcenter"}),
            text=wb.add_format({**box, "valign": "top"}),
            wrap=wb.add_format({**box, "text_wrap": True, "valign": "top"}),
            # the units' texts in the template's font, so that a row is as tall as its text needs
            passage=wb.add_format({**box, "text_wrap": True, "valign": "top", "font_name": "宋体", "font_size": 10.5}),
            number=wb.add_format(box),
            amount=wb.add_format({**box, "num_format": "0.0000"}),
            total=wb.add_format(shaded),
            total_amount=wb.add_format({**shaded, "num_format": "0.0000"}),
            percent=wb.add_format({**box, "num_format": "0.0%", "align": "right"}),
            total_percent=wb.add_format({**shaded, "num_format": "0.0%", "align": "right"}),
            state={s: wb.add_format({**box, "bg_color": fills[s]}) for s in Status},
        )


def _s(ws: Worksheet, st: _Styles, r: int, c: int, text: object, fmt: XFormat | None = None) -> None:
    # Units' text is never a formula: write_string even for "=…", "+…", "-…", "@…".
    ws.write_string(r, c, "" if text is None else fit_text(printable(str(text))), fmt if fmt is not None else st.text)


def _num(v: Value) -> float | int:
    return float(v) if isinstance(v, Decimal) else v


def _time_text(t: float) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M") if t else ""


def _who(merged: Merged) -> str:
    return f"{merged.report.unit.name or '汇总'} {merged.report.year} 年度"


# --------------------------------------------------------------------------- 报送情况

_STATUS_HEAD = (
    "序号",
    "单位代码",
    "单位名称",
    "上级",
    "状态",
    "文件",
    "文件时间",
    "错误数",
    "警告数",
    "计入汇总",
    "说明",
)
_STATUS_WIDTHS = (6, 14, 26, 14, 10, 40, 17, 8, 8, 9, 40)


def _status_sheet(wb: xlsxwriter.Workbook, st: _Styles, m: Merged) -> None:
    ws = wb.add_worksheet(STATUS_SHEET)
    _print_setup(ws, fit_width=True)
    ws.write_string(0, 0, f"{_who(m)}报送情况", st.title)
    r = 1
    if m.provisional:
        ws.write_string(r, 0, m.provisional, st.provisional)
        r += 1
    expected = f"名单内应报送 {len(m.roster)} 个单位；" if m.roster is not None else "未提供单位名单；"
    rule = "有错误的单位已计入" if m.on_error == "include" else "有错误的单位未计入"
    ws.write_string(r, 0, f"{expected}汇总计入 {m.report.units} 个单位（{rule}）。")
    # Paths relative to the folder holding every input: short enough to read and print.
    base = _common_folder([f for e in m.entries for f in e.files])
    if base:
        # The folder's own name only: the summary travels to the city, and a full path names the
        # officer's account and desktop. No border: the line runs on across the columns.
        ws.write_string(r + 1, 0, f"文件所在文件夹：{os.path.basename(base) or base}")
    counts = m.counts()
    states = [s for s in Status if counts[s] or s not in (Status.UNREADABLE, Status.EMPTY, Status.WARNINGS)]
    head = r + 2
    first = head + len(states) + 2
    last = max(first + len(m.entries) - 1, first)
    ws.write_string(head, 0, "状态", st.head)
    ws.write_string(head, 1, "数量", st.head)
    for i, state in enumerate(states, start=head + 1):
        ws.write_string(i, 0, state.value, st.state[state])
        ws.write_formula(i, 1, f'=COUNTIF(E{first + 1}:E{last + 1},"{state.value}")', st.number, counts[state])
    for c, h in enumerate(_STATUS_HEAD):
        ws.write_string(first - 1, c, h, st.head)
    for r, e in enumerate(m.entries, start=first):
        ws.write_number(r, 0, r - first + 1, st.number)
        for c, text in enumerate((e.unit.code, e.unit.name, e.unit.parent), start=1):
            _s(ws, st, r, c, text)
        _s(ws, st, r, 4, e.status.value, st.state[e.status])
        _s(ws, st, r, 5, "\n".join(_relative(f, base) for f in e.files), st.wrap)
        if len(e.files) > 1:
            ws.set_row(r, 15 * len(e.files))
        _s(ws, st, r, 6, "\n".join(_time_text(t) for t in e.mtimes), st.wrap)
        if e.status is Status.MISSING:
            _s(ws, st, r, 7, "")
            _s(ws, st, r, 8, "")
        else:
            ws.write_number(r, 7, e.errors, st.number)
            ws.write_number(r, 8, e.warnings, st.number)
        _s(ws, st, r, 9, "是" if e.included else "否")
        _s(ws, st, r, 10, e.note, st.wrap)
    ws.autofilter(first - 1, 0, max(first + len(m.entries) - 1, first - 1), len(_STATUS_HEAD) - 1)
    ws.freeze_panes(first, 3)
    for c, w in enumerate(_STATUS_WIDTHS):
        ws.set_column(c, c, w)


# --------------------------------------------------------------------------- 明细


def detail_title(table: Table) -> str:
    """A table's title over its block of 明细: a whole-sheet table by its title (三、…), a block
    of a shared sheet by sheet and block title (表二 第二十条第（一）项)."""
    return table.title if "、" in table.title else f"{table.sheet} {table.title}"


@dataclass(frozen=True)
class _Detail:
    """Where 明细 put each value cell: its column, and the rows of the units (for the charts)."""

    columns: dict[CellKey, int]
    first_row: int
    rows: int


def _detail_columns(fmt: Format) -> list[tuple[Table, Node, Node]]:
    return [(t, rn, cn) for t in fmt.tables for rn in t.leaf_rows for cn in t.leaf_columns]


def _detail_head(ws: Worksheet, st: _Styles, fmt: Format) -> None:
    """Three header rows: table titles, row labels (merged over their columns), column paths."""
    columns = _detail_columns(fmt)
    top = _DETAIL_TOP
    ws.merge_range(top, 0, top + 2, 0, "单位代码", st.head)
    ws.merge_range(top, 1, top + 2, 1, "单位名称", st.head)
    c = 2
    for t in fmt.tables:
        n = len(t.leaf_rows) * len(t.leaf_columns)
        _merge_or_write(ws, top, c, c + n - 1, detail_title(t), st.head)
        c += n
    j = 0
    while j < len(columns):
        t, rn, _cn = columns[j]
        k = j
        while k + 1 < len(columns) and columns[k + 1][0] is t and columns[k + 1][1] is rn:
            k += 1
        _merge_or_write(ws, top + 1, 2 + j, 2 + k, rn.path_text or t.title, st.head)
        j = k + 1
    for j, (_t, _rn, cn) in enumerate(columns):
        ws.write_string(top + 2, 2 + j, cn.path_text, st.head)
    # How many units each row adds up (a county summary's row stands for its townships): what a
    # summary's unit count is read from, never from its hidden record alone.
    ws.merge_range(top, 2 + len(columns), top + 2, 2 + len(columns), UNITS_HEADING, st.head)
    # Wrapped labels need taller rows: spreadsheet programs do not grow them on opening.
    spans = [(t, len(t.leaf_columns)) for t in fmt.tables]
    ws.set_row(top, 15 * max(_lines(detail_title(t), _DETAIL_WIDTH * len(t.leaf_rows) * n) for t, n in spans))
    ws.set_row(
        top + 1, 15 * max(_lines(rn.path_text or t.title, _DETAIL_WIDTH * n) for t, n in spans for rn in t.leaf_rows)
    )
    ws.set_row(top + 2, 15 * max(_lines(cn.path_text, _DETAIL_WIDTH) for _t, _rn, cn in columns))


def _merge_or_write(ws: Worksheet, row: int, first: int, last: int, text: str, fmt: XFormat) -> None:
    if last > first:
        ws.merge_range(row, first, row, last, text, fmt)
    else:
        ws.write_string(row, first, text, fmt)


#: What stands before each "(" of a formula, and the calls XlsxWriter leaves as they are.
_CALLS = re.compile(r"([\w.]*)\(")
_PLAIN_CALLS = frozenset({"", "IF", "SUM"})


class _DetailWorksheet(Worksheet):  # type: ignore[misc]
    """明细's worksheet: its hundreds of thousands of styled numbers written as one string each.

    XlsxWriter's ``_write_cell`` (which this overrides for that one kind of cell) builds an
    attribute list and escapes each attribute of every cell; a styled number's element is the
    same text without that work. Everything else is XlsxWriter's own.
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        # XlsxWriter rewrites newer functions (FILTER → _xlfn._xlws.FILTER, …) with some thirty
        # regular expressions per formula; 明细's thousands of formulas call only IF and SUM.
        if formula.startswith("=") and _PLAIN_CALLS.issuperset(_CALLS.findall(formula)):
            return formula[1:]
        return str(super()._prepare_formula(formula, expand_future_functions))

    def write_numbers(self, row: int, numbers: Sequence[tuple[int, float | int, XFormat]]) -> None:
        """``write_number`` for each (column, number, style) of a row, columns ascending: the
        bounds checked once for the row rather than once per cell."""
        if (
            not numbers
            or self.constant_memory
            or self._check_dimensions(row, numbers[0][0])
            or self._check_dimensions(row, numbers[-1][0])
            or not all(isfinite(v) for _c, v, _s in numbers)
        ):
            for col, v, style in numbers:
                self.write_number(row, col, v, style)
            return
        cells = self.table[row]
        for col, v, style in numbers:
            cells[col] = CellNumberTuple(v, style)

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        if type(cell) is CellNumberTuple and cell.format is not None:
            ref = xl_rowcol_to_cell_fast(row, col)
            self.fh.write(f'<c r="{ref}" s="{cell.format._get_xf_index()}"><v>{cell.number:.16G}</v></c>')
        else:
            super()._write_cell(row, col, cell)


def _detail_sheet(wb: xlsxwriter.Workbook, st: _Styles, m: Merged) -> _Detail:
    """One row per unit summed, every table's cells side by side, then 合计 (live SUMs).

    Side by side rather than one block per table: a spreadsheet program walks every row across
    the sheet's full width, and one block per table would multiply the rows by the tables.
    Totals (cells the rule engine computes) are shaded like the template's totals.
    """
    fmt = m.report.format
    computed = engine(fmt).computed
    ws = wb.add_worksheet(DETAIL_SHEET, worksheet_class=_DetailWorksheet)
    assert isinstance(ws, _DetailWorksheet)
    _print_setup(ws, fit_width=False)
    ws.write_string(
        0, 0, f"{m.report.unit.name or '汇总'} {m.report.year} 年度各单位明细（计入汇总的单位，每单位一行）", st.title
    )
    _detail_head(ws, st, fmt)
    columns = _detail_columns(fmt)
    keys = [(t.id, rn.id, cn.id) for t, rn, cn in columns]
    amount = [t.cell_kind(rn.id, cn.id) is CellKind.AMOUNT for t, rn, cn in columns]
    styles = [
        (st.total_amount if a else st.total) if k in computed else (st.amount if a else st.number)
        for k, a in zip(keys, amount, strict=True)
    ]
    first = _DETAIL_TOP + 3
    sums: list[Value] = [0] * len(keys)
    units = m.included
    cells = list(enumerate(zip(keys, styles, strict=True)))
    for r, s in enumerate(units, start=first):
        _s(ws, st, r, 0, s.unit.code)
        _s(ws, st, r, 1, s.unit.name)
        values = s.report.values
        row: list[tuple[int, float | int, XFormat]] = []
        for j, (key, style) in cells:
            v = values.get(key)
            if v is not None:
                row.append((2 + j, float(v) if isinstance(v, Decimal) else v, style))
                sums[j] += v
        row.append((2 + len(keys), s.report.units, st.number))
        ws.write_numbers(r, row)
    r = first + len(units)
    _s(ws, st, r, 0, "", st.total)
    _s(ws, st, r, 1, "合计", st.total)
    for j in range(len(keys) + 1):
        letter = col_letter(2 + j)
        formula = f"=SUM({letter}{first + 1}:{letter}{r})" if units else "=0"
        total = sums[j] if j < len(keys) else sum(s.report.units for s in units)
        ws.write_formula(r, 2 + j, formula, st.total_amount if j < len(keys) and amount[j] else st.total, _num(total))
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 2 + len(columns), _DETAIL_WIDTH)
    ws.freeze_panes(first, 2)
    ws.repeat_rows(_DETAIL_TOP, _DETAIL_TOP + 2)
    ws.repeat_columns(0, 1)  # every printed page says whose figures they are
    ws.set_print_scale(80)
    detail = _Detail({k: 2 + j for j, k in enumerate(keys)}, first, len(units))
    # 合计's indicators are those of the column sums the row shows (the summary's own, from its
    # sums: never an average of the units' rates).
    shown_total = replace(m.report, values=dict(zip(keys, sums, strict=True)))
    _indicator_columns(ws, st, m, detail, 3 + len(keys), shown_total)
    return detail


def _indicator_columns(ws: Worksheet, st: _Styles, m: Merged, detail: _Detail, col: int, total: Report) -> None:
    """The format's indicators, one column each, per unit and in 合计: live formulas over the
    row's cells, with the values they give as cached results."""
    top, first, total_row = _DETAIL_TOP, detail.first_row, detail.first_row + detail.rows
    rows = [(first + i, s.report) for i, s in enumerate(m.included)] + [(total_row, total)]
    values = {r: indicators(report) for r, report in rows}  # every indicator of a row at once
    for j, x in enumerate(m.report.format.indicators):
        c = col + j
        ws.merge_range(top, c, top + 2, c, x.name, st.head)
        ws.set_column(c, c, _DETAIL_WIDTH)
        cols = {k: detail.columns[k] for k in (*x.numerator, *x.denominator) if k in detail.columns}
        for r, _report in rows:
            value = values[r][j].value
            cached: float | str = float(value) if value is not None else "—"
            style = (st.total_percent if r == total_row else st.percent) if x.percent else st.text
            if len(cols) < len({*x.numerator, *x.denominator}):  # a group cell has no column of its own
                ws.write(r, c, cached, style)
                continue
            num = "+".join(f"{col_letter(cols[k])}{r + 1}" for k in x.numerator)
            den = "+".join(f"{col_letter(cols[k])}{r + 1}" for k in x.denominator)
            ws.write_formula(r, c, f'=IF(({den})=0,"—",({num})/({den}))', style, cached)


# --------------------------------------------------------------------------- 问题清单, 文字材料

_ISSUE_HEAD = (
    "单位代码",
    "单位名称",
    "文件",
    "级别",
    "规则/代码",
    "工作表",
    "单元格",
    "行",
    "列",
    "应为",
    "实为",
    "问题说明",
    "单位的说明",
)
_ISSUE_WIDTHS = (14, 24, 30, 6, 16, 8, 8, 30, 20, 10, 10, 60, 40)


def _issues_sheet(wb: xlsxwriter.Workbook, st: _Styles, m: Merged) -> None:
    ws = wb.add_worksheet(ISSUES_SHEET)
    _print_setup(ws, fit_width=True)
    for c, h in enumerate(_ISSUE_HEAD):
        ws.write_string(0, c, h, st.head)
    issues = m.issues
    # Files relative to the folder holding every input, as in 报送情况.
    base = _common_folder([f for e in m.entries for f in e.files])
    shown = {f: _relative(f, base) for f in {issue.file for issue in issues}}  # a file has many issues
    for r, issue in enumerate(issues, start=1):
        values = (
            issue.unit_code,
            issue.unit_name,
            shown[issue.file],
            issue.severity.label,
            issue.code,
            issue.sheet,
            issue.cell,
            issue.row_label,
            issue.column_label,
            issue.expected,
            issue.found,
        )
        for c, v in enumerate(values):
            _s(ws, st, r, c, v)
        _s(ws, st, r, len(values), issue.message, st.wrap)
        _s(ws, st, r, len(values) + 1, m.explanation(issue), st.wrap)
    ws.autofilter(0, 0, max(len(issues), 1), len(_ISSUE_HEAD) - 1)
    ws.freeze_panes(1, 2)
    for c, w in enumerate(_ISSUE_WIDTHS):
        ws.set_column(c, c, w)


#: 文字材料: (header, width) of its columns; the text column's width in Excel's units.
_TEXTS_HEAD = (
    ("部分", 16),
    ("单位名称", 18),
    ("单位代码", 12),
    ("内容", TEXT_WIDTH - 20),
    ("计入汇总", 9),
    ("文件", 20),
)
#: Width units of one line of the text column (Chinese characters count two).
_TEXTS_LINE = int(TEXT_LINE_UNITS * (TEXT_WIDTH - 20) / TEXT_WIDTH)


def _texts_sheet(wb: xlsxwriter.Workbook, st: _Styles, m: Merged) -> None:
    """Every unit's texts, section by section (all units' 一、总体情况 first: what the officer
    drafts the county's from), one row per part of a text: a part is as long as one row shows
    and prints (:func:`split_text`), so nothing is clipped on screen or on paper."""
    sections = m.report.format.text_sections
    ws = wb.add_worksheet(TEXTS_SHEET)
    _print_setup(ws, fit_width=True)
    ws.write_string(0, 0, f"{_who(m)}文字材料", st.title)
    for c, (h, w) in enumerate(_TEXTS_HEAD):
        ws.write_string(1, c, h, st.head)
        ws.set_column(c, c, w)
    base = _common_folder([s.file for s in m.submissions])
    r = 2
    for sec in sections:
        for s in m.submissions:
            text = (s.report.texts.get(sec.id) or "").strip()
            parts = split_text(text, _MANY, _TEXTS_LINE) if text else ("（未填写）",)
            for part in parts:
                # the unit and file repeat on each row: a filter on one column keeps whole texts
                for c, value in enumerate((sec.label, s.unit.name, s.unit.code)):
                    _s(ws, st, r, c, value, st.wrap)
                _s(ws, st, r, 3, part, st.passage)
                _s(ws, st, r, 4, "是" if s.included else "否", st.wrap)
                _s(ws, st, r, 5, _relative(s.file, base), st.wrap)
                ws.set_row(r, text_height(part, _TEXTS_LINE))
                r += 1
    ws.autofilter(1, 0, max(r - 1, 1), len(_TEXTS_HEAD) - 1)
    ws.freeze_panes(2, 0)
    ws.repeat_rows(1)


#: Parts a unit's text may take on 文字材料 (as many rows as it needs).
_MANY = 10_000


# --------------------------------------------------------------------------- 图表


def _charts_sheet(wb: xlsxwriter.Workbook, st: _Styles, m: Merged, detail: _Detail) -> None:
    """The format's charts: bars down the left, pies down the right, each with its data."""
    ws = wb.add_worksheet(CHARTS_SHEET)
    _print_setup(ws, fit_width=True)
    ws.write_string(0, 0, f"{_who(m)}图表", st.title)
    left, right = 2, 2
    for chart in m.report.format.charts:
        if chart.kind == "bar" and m.included:
            left = _bar_chart(wb, ws, st, m, chart, detail, left)
        elif chart.kind == "pie":
            right = _pie_chart(wb, ws, st, m, chart, right)


def _bar_chart(
    wb: xlsxwriter.Workbook, ws: Worksheet, st: _Styles, m: Merged, chart: Chart, detail: _Detail, top: int
) -> int:
    """One bar per unit of the chart's cell (the largest ``_BAR_TOP`` when there are many);
    returns the first free row below it."""
    key = (chart.table, chart.row, chart.column)
    units = m.included
    title = chart.title
    bars = min(len(units), _BAR_TOP) if len(units) > _BAR_LIMIT else len(units)
    height = max(320, 22 * bars + 120)
    below = top + height // _ROW_PX + 3
    if len(units) <= _BAR_LIMIT and key in detail.columns:
        col, last = detail.columns[key], detail.first_row + len(units) - 1
        categories: list[Any] = [DETAIL_SHEET, detail.first_row, 1, last, 1]
        values: list[Any] = [DETAIL_SHEET, detail.first_row, col, last, col]
    else:
        # Thousands of bars say nothing: chart the units with the largest values, from a table here.
        shown = sorted(units, key=lambda s: (-s.report.value(*key), s.unit))[:bars]
        if len(shown) < len(units):
            ws.write_string(below, 0, f"{title}最多的 {bars} 个单位（共 {len(units)} 个）", st.title)
            title += f"（最多的 {bars} 个）"
        first = below + 2
        ws.write_string(first - 1, 0, "单位名称", st.head)
        ws.write_string(first - 1, 1, chart.title, st.head)
        for r, s in enumerate(shown, start=first):
            _s(ws, st, r, 0, s.unit.name)
            ws.write_number(r, 1, _num(s.report.value(*key)), st.number)
        categories = [CHARTS_SHEET, first, 0, first + len(shown) - 1, 0]
        values = [CHARTS_SHEET, first, 1, first + len(shown) - 1, 1]
        below = first + len(shown) + 1
    bar = wb.add_chart({"type": "bar"})
    bar.add_series({"name": chart.title, "categories": categories, "values": values, "data_labels": {"value": True}})
    bar.set_title({"name": title})
    bar.set_legend({"none": True})
    bar.set_y_axis({"reverse": True})
    bar.set_size({"width": 640, "height": height})
    ws.insert_chart(top, 0, bar)
    return below


def total_rows(fmt: Format, table: str, column: str) -> frozenset[str]:
    """The rows whose cell in ``column`` the rule engine computes as a sum of other rows."""
    return frozenset(
        check.lhs[0].key[1]
        for check in engine(fmt).checks
        if check.rule.computes and check.rule.each is Each.COLUMN and check.table.id == table and check.index == column
    )


def _pie_parts(fmt: Format, chart: Chart) -> list[Node]:
    """The parts of the chart's group row: its children, less the rows that total the others."""
    totals = total_rows(fmt, chart.table, chart.column)
    return [node for node in fmt.table(chart.table).row_nodes[chart.row].children if node.id not in totals]


def _pie_chart(wb: xlsxwriter.Workbook, ws: Worksheet, st: _Styles, m: Merged, chart: Chart, top: int) -> int:
    """The parts of a group row in one column, as a pie with its data above it; returns the
    first free row below it."""
    fmt = m.report.format
    table = fmt.table(chart.table)
    parts = _pie_parts(fmt, chart)
    c0 = _PIE_COL
    ws.write_string(top, c0, table.row_nodes[chart.row].label, st.head)
    ws.write_string(top, c0 + 1, table.column_nodes[chart.column].label, st.head)
    for r, node in enumerate(parts, start=top + 1):
        _s(ws, st, r, c0, node.label)
        ws.write_number(r, c0 + 1, _num(m.report.value(table.id, node.id, chart.column)), st.number)
    pie = wb.add_chart({"type": "pie"})
    pie.add_series(
        {
            "name": chart.title,
            "categories": [CHARTS_SHEET, top + 1, c0, top + len(parts), c0],
            "values": [CHARTS_SHEET, top + 1, c0 + 1, top + len(parts), c0 + 1],
            "data_labels": {"percentage": True, "category": True, "leader_lines": True},
        }
    )
    pie.set_title({"name": chart.title})
    pie.set_size({"width": 640, "height": 420})
    ws.insert_chart(top + len(parts) + 2, c0, pie)
    ws.set_column(c0, c0, 40)
    return top + len(parts) + 2 + 420 // _ROW_PX + 3


# --------------------------------------------------------------------------- helpers


def _common_folder(files: Sequence[str]) -> str:
    """The deepest folder holding all ``files`` ("" when there is none, e.g. on different drives)."""
    if not files:
        return ""
    try:
        return os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in files])
    except ValueError:
        return ""


def _relative(path: str, base: str) -> str:
    """``path`` relative to ``base`` when it lies inside it, else as given."""
    if not base or not path:
        return path
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # another drive (Windows)
        return path
    return path if rel.startswith("..") else rel


def _print_setup(ws: Worksheet, *, fit_width: bool) -> None:
    """A4 landscape; a list sheet prints one page wide (明细 is too wide for that, so it only repeats its labels)."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    if fit_width:
        ws.fit_to_pages(1, 0)


def _lines(text: str, width: int) -> int:
    """Lines a wrapped label takes in a column ``width`` characters wide (CJK count double)."""
    cols = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return max(1, min(6, -(-cols // max(1, width - 1))))
