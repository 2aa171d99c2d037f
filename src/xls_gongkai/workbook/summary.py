"""The county summary workbook: the template filled with the sums, then 报送情况, 明细, 问题清单,
文字材料 and 图表 — written from a :class:`~xls_gongkai.collection.Merged`.

(Moved out of batch/merge.py; being reworked: one function per sheet, charts from the format.)
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from xls_gongkai.batch.roster import RosterIndex
from xls_gongkai.errors import UsageError, XlsGongkaiError
from xls_gongkai.issues import Code, Issue, Result
from xls_gongkai.report import TIDY_COLUMNS, CellKey, Report, Unit, Value, coerce_value
from xls_gongkai.rules import check_report, expand
from xls_gongkai.spec import CellKind, RuleKind, Severity, get_format

if TYPE_CHECKING:
    import pandas as pd
    import xlsxwriter
    from xlsxwriter.worksheet import Worksheet

__all__ = [
    "INPUT_SUFFIXES",
    "NOT_SUBMITTED",
    "TIDY_EXPORT_COLUMNS",
    "Entry",
    "MergeRefusedError",
    "Merged",
    "OnError",
    "Status",
    "Submission",
    "collect_inputs",
    "cross_year_issues",
    "detail_reports",
    "load_reports",
    "merge",
    "merge_results",
    "sum_reports",
    "tidy_frame",
    "write_summary",
    "write_tidy",
]

#: The suffixes a folder is searched for (spreadsheets the reader knows, and JSON reports).
INPUT_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".json")
#: Issue code of a roster unit that sent no file.
NOT_SUBMITTED = "not-submitted"
#: Columns of the tidy export: the Report's documented columns, then the source file and cell.
TIDY_EXPORT_COLUMNS = (*TIDY_COLUMNS, "file", "cell")

OnError = Literal["include", "exclude", "fail"]
Progress = Callable[[int, int], None]


from xls_gongkai.collection import Merged
from xls_gongkai.output import atomic_path as _atomic

# --------------------------------------------------------------------------- fast number rows

try:
    from xlsxwriter.utility import xl_rowcol_to_cell_fast as _cell_ref
    from xlsxwriter.worksheet import CellNumberTuple as _NumberCell
    from xlsxwriter.worksheet import Worksheet as _XlsxWorksheet

    _FAST = all(
        hasattr(_XlsxWorksheet, a) for a in ("_write_cell", "_check_dimensions", "_write_rows", "_get_range_data")
    )
except ImportError:  # pragma: no cover - another xlsxwriter: use the public API only
    _FAST = False


@dataclass(frozen=True)
class _RowRun:
    """The numbers of one 明细 row, stored at its first and last cell; written as one string."""

    first: bool
    columns: tuple[int, ...]
    values: tuple[float | int, ...]
    formats: tuple[Any, ...]


class _BulkRows:
    """Mixed into the workbook's worksheet class for 明细, whose 2 million cells (10,000 units)
    made xlsxwriter's generic per-cell path most of a merge's time.

    ``number_row`` stores a row of numbers under its first and last cell (so that the sheet's
    dimensions and row spans are what they would be), and ``_write_cell`` writes the whole
    row's cells at the first one with a single join — exactly the XML xlsxwriter writes for
    them (a test compares the two byte for byte). Every other cell goes through xlsxwriter.
    """

    def number_row(
        self, row: int, first_col: int, values: Sequence[float | int | None], formats: Sequence[Any]
    ) -> None:
        ws: Any = self
        cols = tuple(first_col + j for j, v in enumerate(values) if v is not None)
        if not cols:
            return
        nums = tuple(v for v in values if v is not None)
        fmts = tuple(f for f, v in zip(formats, values, strict=True) if v is not None)
        ws._check_dimensions(row, cols[0])
        ws._check_dimensions(row, cols[-1])
        ws.table[row][cols[0]] = _RowRun(True, cols, nums, fmts)
        if len(cols) > 1:
            ws.table[row][cols[-1]] = _RowRun(False, (), (), ())

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        if cell.__class__ is _RowRun:
            if cell.first:
                ws: Any = self
                n = str(row + 1)
                # The text around each value depends only on (column, format) and the value's
                # text only on the value: both are looked up, not formatted, 2 million times.
                around: dict[tuple[int, Any], tuple[str, str]] = ws.__dict__.setdefault("_around", {})
                texts: dict[float | int, str] = ws.__dict__.setdefault("_texts", {})
                parts = []
                for c, v, f in zip(cell.columns, cell.values, cell.formats, strict=True):
                    pre = around.get((c, f))
                    if pre is None:
                        pre = around[(c, f)] = (f'<c r="{_col_name(c)}', f'" s="{f._get_xf_index()}"><v>')
                    text = texts.get(v)
                    if text is None:
                        text = f"{v:.16G}"
                        if len(texts) < 65536:
                            texts[v] = text
                    parts.append(f"{pre[0]}{n}{pre[1]}{text}</v></c>")
                ws.fh.write("".join(parts))
            return
        super()._write_cell(row, col, cell)  # type: ignore[misc]

    def _get_range_data(self, row_start: int, col_start: int, row_end: int, col_end: int) -> Any:
        # A chart caches the values of its ranges: show it plain number cells for the runs.
        ws: Any = self
        saved: dict[int, dict[int, Any]] = {}
        for r in range(row_start, row_end + 1):
            cells = ws.table.get(r)  # .get: do not create rows in the defaultdict
            runs = [c for c in cells.values() if c.__class__ is _RowRun and c.first] if cells else []
            if cells is None or not runs:
                continue
            saved[r] = cells
            plain = {k: v for k, v in cells.items() if v.__class__ is not _RowRun}
            for run in runs:
                for c, v, f in zip(run.columns, run.values, run.formats, strict=True):
                    if col_start <= c <= col_end:
                        plain[c] = _NumberCell(v, f)
            ws.table[r] = plain
        try:
            return super()._get_range_data(row_start, col_start, row_end, col_end)  # type: ignore[misc]
        finally:
            ws.table.update(saved)


@cache
def _col_name(col: int) -> str:
    return str(_cell_ref(0, col))[:-1]


# --------------------------------------------------------------------------- summary workbook


def write_summary(merged: Merged, path: str | Path, *, password: str | None = None) -> Path:
    """Write the summary workbook atomically and return its path.

    Sheets: the template's own (填报说明, 表二, 表三, 表四, 文字说明) with the sums, live totals
    and checks, and ``_meta`` marking it a summary of N units — so it can be read, checked and
    merged again — then 明细, 报送情况, 问题清单, 文字材料 and 图表.
    """
    from xls_gongkai.workbook.writer import WriteOptions, write_workbook

    out = Path(path)
    options = WriteOptions(password=password, kind="summary", generated_at=merged.generated_at)
    with _atomic(out) as tmp:
        write_workbook(tmp, merged.report, options, extra=lambda wb: _add_sheets(wb, merged))
    return out


def _add_sheets(wb: xlsxwriter.Workbook, merged: Merged) -> None:
    # xlsxwriter stamps docProps/core.xml with the current time; the newest input's time
    # instead makes a re-run on the same inputs give the same file.
    wb.doc_properties = {**wb.doc_properties, "created": merged.generated_at.replace(tzinfo=None)}
    sheets = _Sheets(wb, merged)
    sheets.status()
    sheets.detail()
    sheets.issues()
    sheets.texts()
    sheets.charts()


def _num(v: Value) -> float | int:
    return float(v) if isinstance(v, Decimal) else v


def _time_text(t: float) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M") if t else ""


@dataclass
class _Sheets:
    wb: xlsxwriter.Workbook
    merged: Merged
    detail_rows: dict[str, tuple[int, int]] = field(default_factory=dict)
    new_col: tuple[int, int] | None = None  # (first row, col) of 本年新收 总计 in 明细, for the chart

    def __post_init__(self) -> None:
        wb = self.wb
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.head = wb.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
        )
        self.text = wb.add_format({"border": 1, "valign": "top"})
        self.wrap = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
        self.number = wb.add_format({"border": 1})
        self.amount = wb.add_format({"border": 1, "num_format": "0.0000"})
        self.total = wb.add_format({"border": 1, "bold": True, "bg_color": "#F2F2F2"})
        self.total_amount = wb.add_format({"border": 1, "bold": True, "bg_color": "#F2F2F2", "num_format": "0.0000"})
        self.state = {
            Status.SUBMITTED: wb.add_format({"border": 1, "bg_color": "#E2EFDA"}),
            Status.MISSING: wb.add_format({"border": 1, "bg_color": "#FCE4D6"}),
            Status.ERRORS: wb.add_format({"border": 1, "bg_color": "#FFC7CE"}),
            Status.DUPLICATE: wb.add_format({"border": 1, "bg_color": "#FFEB9C"}),
            Status.UNKNOWN: wb.add_format({"border": 1, "bg_color": "#D9D9D9"}),
            Status.UNREADABLE: wb.add_format({"border": 1, "bg_color": "#FFC7CE"}),
        }

    def _s(self, ws: Worksheet, r: int, c: int, text: object, fmt: Any = None) -> None:
        # Units' text is never a formula: write_string even for "=…", "+…", "-…", "@…".
        ws.write_string(r, c, "" if text is None else str(text), fmt if fmt is not None else self.text)

    # 报送情况 ---------------------------------------------------------------
    def status(self) -> None:
        m = self.merged
        ws = self.wb.add_worksheet("报送情况")
        _print_setup(ws, fit_width=True)
        ws.write_string(0, 0, f"{m.report.unit.name or '汇总'} {m.report.year} 年度报送情况", self.title)
        counts = m.counts()
        expected = len(m.roster) if m.roster is not None else None
        ws.write_string(
            1,
            0,
            (f"名单内应报送 {expected} 个单位；" if expected is not None else "未提供单位名单；")
            + f"汇总计入 {m.report.units} 个单位（"
            + ("有错误的单位已计入" if m.on_error == "include" else "有错误的单位未计入")
            + "）。",
        )
        # Paths relative to the folder holding every input: short enough to read and print.
        base = _common_folder([f for e in m.entries for f in e.files])
        if base:
            ws.write_string(2, 0, f"文件所在文件夹：{base}")  # no border: the line runs on across the columns
        states = [s for s in Status if s is not Status.UNREADABLE or counts[s]]
        first_data = 3 + len(states) + 2
        last_data = first_data + len(m.entries) - 1
        ws.write_string(3, 0, "状态", self.head)
        ws.write_string(3, 1, "数量", self.head)
        for i, st in enumerate(states):
            ws.write_string(4 + i, 0, st.value, self.state[st])
            rng = f"E{first_data + 1}:E{max(last_data, first_data) + 1}"
            ws.write_formula(4 + i, 1, f'=COUNTIF({rng},"{st.value}")', self.number, counts[st])
        head = (
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
        hr = first_data - 1
        for c, h in enumerate(head):
            ws.write_string(hr, c, h, self.head)
        for i, e in enumerate(m.entries):
            r = first_data + i
            ws.write_number(r, 0, i + 1, self.number)
            self._s(ws, r, 1, e.unit.code)
            self._s(ws, r, 2, e.unit.name)
            self._s(ws, r, 3, e.unit.parent)
            self._s(ws, r, 4, e.status.value, self.state[e.status])
            self._s(ws, r, 5, "\n".join(_relative(f, base) for f in e.files), self.wrap)
            if len(e.files) > 1:
                ws.set_row(r, 15 * len(e.files))
            self._s(ws, r, 6, "\n".join(_time_text(t) for t in e.mtimes), self.wrap)
            if e.status is Status.MISSING:
                self._s(ws, r, 7, "")
                self._s(ws, r, 8, "")
            else:
                ws.write_number(r, 7, e.errors, self.number)
                ws.write_number(r, 8, e.warnings, self.number)
            self._s(ws, r, 9, "是" if e.included else "否")
            self._s(ws, r, 10, e.note, self.wrap)
        ws.autofilter(hr, 0, max(last_data, hr), len(head) - 1)
        ws.freeze_panes(first_data, 3)
        for c, w in enumerate((6, 14, 26, 14, 10, 40, 17, 8, 8, 9, 40)):
            ws.set_column(c, c, w)

    # 明细 -------------------------------------------------------------------
    def detail(self) -> None:
        """One row per unit, every table's cells side by side (table title, row label, column label).

        Side by side rather than one block per table: a spreadsheet program (and xlsxwriter
        writing it) walks every row across the sheet's full width, and 10,000 units × 6 blocks
        of a 177-column sheet was five times the work of 10,000 rows.
        """
        m = self.merged
        fmt = m.report.format
        bulk = _FAST and not getattr(self.wb, "constant_memory", False)
        sheet_class = type("_DetailSheet", (_BulkRows, self.wb.worksheet_class), {}) if bulk else None
        ws = self.wb.add_worksheet("明细", worksheet_class=sheet_class)
        _print_setup(ws, fit_width=False)
        name = m.report.unit.name or "汇总"
        ws.write_string(0, 0, f"{name} {m.report.year} 年度各单位明细（计入汇总的单位，每单位一行）", self.title)
        subs = m.included
        columns = [(t, rn, cn) for t in fmt.tables for rn in t.leaf_rows for cn in t.leaf_columns]
        top = _DETAIL_TOP
        ws.merge_range(top, 0, top + 2, 0, "单位代码", self.head)
        ws.merge_range(top, 1, top + 2, 1, "单位名称", self.head)
        c = 2
        for t in fmt.tables:
            n = len(t.leaf_rows) * len(t.leaf_columns)
            if n > 1:
                ws.merge_range(top, c, top, c + n - 1, _detail_title(t), self.head)
            else:
                ws.write_string(top, c, _detail_title(t), self.head)
            c += n
        # A row label spans its table's columns (merged), as in the official table.
        j = 0
        while j < len(columns):
            t, rn, _cn = columns[j]
            k = j
            while k + 1 < len(columns) and columns[k + 1][0] is t and columns[k + 1][1] is rn:
                k += 1
            if k > j:
                ws.merge_range(top + 1, 2 + j, top + 1, 2 + k, rn.path_text or t.title, self.head)
            else:
                ws.write_string(top + 1, 2 + j, rn.path_text or t.title, self.head)
            j = k + 1
        for j, (_t, _rn, cn) in enumerate(columns):
            ws.write_string(top + 2, 2 + j, cn.path_text, self.head)
        # Wrapped labels need taller rows: spreadsheet programs do not grow them on opening.
        spans = [(t, len(t.leaf_columns)) for t in fmt.tables]
        ws.set_row(top, 15 * max(_lines(_detail_title(t), _DETAIL_WIDTH * len(t.leaf_rows) * n) for t, n in spans))
        ws.set_row(
            top + 1,
            15 * max(_lines(rn.path_text or t.title, _DETAIL_WIDTH * n) for t, n in spans for rn in t.leaf_rows),
        )
        ws.set_row(top + 2, 15 * max(_lines(cn.path_text, _DETAIL_WIDTH) for _t, _rn, cn in columns))
        first = top + 3
        keys = [(t.id, rn.id, cn.id) for t, rn, cn in columns]
        formats = [
            self.amount if t.cell_kind(rn.id, cn.id) is CellKind.AMOUNT else self.number for t, rn, cn in columns
        ]
        if ("t3", "new", "total") in keys:
            self.new_col = (first, 2 + keys.index(("t3", "new", "total")))
        r = first
        for s in subs:
            self._s(ws, r, 0, s.unit.code)
            self._s(ws, r, 1, s.unit.name)
            get = s.report.values.get
            row = [None if (v := get(k)) is None else _num(v) for k in keys]
            if bulk:
                ws.number_row(r, 2, row, formats)
            else:
                for j, x in enumerate(row):
                    if x is not None:
                        ws.write_number(r, 2 + j, x, formats[j])
            r += 1
        self._s(ws, r, 0, "", self.total)
        self._s(ws, r, 1, "合计", self.total)
        from xls_gongkai.workbook.layout import col_letter

        for j, (t, rn, cn) in enumerate(columns):
            letter = col_letter(2 + j)
            formula = f"=SUM({letter}{first + 1}:{letter}{r})" if subs else "=0"
            amount = t.cell_kind(rn.id, cn.id) is CellKind.AMOUNT
            ws.write_formula(
                r, 2 + j, formula, self.total_amount if amount else self.total, _num(m.report.value(t.id, rn.id, cn.id))
            )
        ws.set_column(0, 0, 14)
        ws.set_column(1, 1, 24)
        ws.set_column(2, 1 + len(columns), _DETAIL_WIDTH)
        ws.freeze_panes(first, 2)
        ws.repeat_rows(top, top + 2)

    # 问题清单 -----------------------------------------------------------------
    def issues(self) -> None:
        m = self.merged
        ws = self.wb.add_worksheet("问题清单")
        _print_setup(ws, fit_width=True)
        head = (
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
            "说明",
        )
        for c, h in enumerate(head):
            ws.write_string(0, c, h, self.head)
        issues = m.issues
        # Files relative to the folder holding every input, as in 报送情况.
        base = _common_folder([f for e in m.entries for f in e.files])
        for i, issue in enumerate(issues, start=1):
            values = (
                issue.unit_code,
                issue.unit_name,
                _relative(issue.file, base),
                issue.severity.label,
                issue.code,
                issue.sheet,
                issue.cell,
                issue.row_label,
                issue.column_label,
                issue.expected,
                issue.found,
                issue.message,
            )
            for c, v in enumerate(values):
                self._s(ws, i, c, v, self.wrap if c == len(values) - 1 else None)
        ws.autofilter(0, 0, max(len(issues), 1), len(head) - 1)
        ws.freeze_panes(1, 2)
        for c, w in enumerate((14, 24, 30, 6, 16, 8, 8, 30, 20, 10, 10, 60)):
            ws.set_column(c, c, w)

    # 文字材料 -----------------------------------------------------------------
    def texts(self) -> None:
        m = self.merged
        sections = m.report.format.text_sections
        ws = self.wb.add_worksheet("文字材料")
        _print_setup(ws, fit_width=True)
        # 文件 and 计入汇总 last: a unit that sent two files appears twice and must be told apart.
        head = ["单位代码", "单位名称", *(s.label for s in sections), "文件", "计入汇总"]
        for c, h in enumerate(head):
            ws.write_string(0, c, h, self.head)
        base = _common_folder([s.file for s in m.submissions])
        after = 2 + len(sections)
        for i, s in enumerate(m.submissions, start=1):
            self._s(ws, i, 0, s.unit.code)
            self._s(ws, i, 1, s.unit.name)
            for j, sec in enumerate(sections):
                self._s(ws, i, 2 + j, s.report.texts.get(sec.id, ""), self.wrap)
            self._s(ws, i, after, _relative(s.file, base), self.wrap)
            self._s(ws, i, after + 1, "是" if s.included else "否")
        ws.set_column(0, 0, 14)
        ws.set_column(1, 1, 24)
        ws.set_column(2, 1 + len(sections), 60)
        ws.set_column(after, after, 30)
        ws.set_column(after + 1, after + 1, 9)
        ws.freeze_panes(1, 2)

    # 图表 -------------------------------------------------------------------
    def charts(self) -> None:
        m = self.merged
        fmt = m.report.format
        ws = self.wb.add_worksheet("图表")
        _print_setup(ws, fit_width=True)
        ws.write_string(0, 0, f"{m.report.unit.name or '汇总'} {m.report.year} 年度图表", self.title)
        units = m.included
        if self.new_col is not None and units:
            first, col = self.new_col
            title = "各单位本年新收政府信息公开申请数量"
            if len(units) <= _BAR_LIMIT:
                categories: list[Any] = ["明细", first, 1, first + len(units) - 1, 1]
                values: list[Any] = ["明细", first, col, first + len(units) - 1, col]
                bars = len(units)
            else:
                # Thousands of bars say nothing: chart the units with the most applications.
                top = sorted(units, key=lambda s: (-s.report.value("t3", "new", "total"), s.unit))[:_BAR_TOP]
                r1, c1 = _TOP_ROW, 0
                ws.write_string(r1 - 1, c1, f"本年新收申请最多的 {_BAR_TOP} 个单位（共 {len(units)} 个）", self.title)
                ws.write_string(r1, c1, "单位名称", self.head)
                ws.write_string(r1, c1 + 1, "本年新收申请（总计）", self.head)
                for i, s in enumerate(top, start=1):
                    self._s(ws, r1 + i, c1, s.unit.name)
                    ws.write_number(r1 + i, c1 + 1, _num(s.report.value("t3", "new", "total")), self.number)
                categories = ["图表", r1 + 1, c1, r1 + len(top), c1]
                values = ["图表", r1 + 1, c1 + 1, r1 + len(top), c1 + 1]
                title += f"（最多的 {_BAR_TOP} 个）"
                bars = len(top)
            bar = self.wb.add_chart({"type": "bar"})
            bar.add_series(
                {
                    "name": "本年新收申请（总计）",
                    "categories": categories,
                    "values": values,
                    "data_labels": {"value": True},
                }
            )
            bar.set_title({"name": title})
            bar.set_legend({"none": True})
            bar.set_y_axis({"reverse": True})
            bar.set_size({"width": 640, "height": max(320, 22 * bars + 120)})
            ws.insert_chart(2, 0, bar)
        t3 = fmt.table_map.get("t3")
        if t3 is None or "results" not in t3.row_nodes or "total" not in t3.column_nodes:
            return
        parts = [n for n in t3.row_nodes["results"].children if not _is_total(n)]
        r0 = 2
        c0 = 13
        ws.write_string(r0, c0, "办理结果", self.head)
        ws.write_string(r0, c0 + 1, "件数", self.head)
        for i, n in enumerate(parts, start=1):
            self._s(ws, r0 + i, c0, n.label)
            ws.write_number(r0 + i, c0 + 1, _num(m.report.value("t3", n.id, "total")), self.number)
        pie = self.wb.add_chart({"type": "pie"})
        pie.add_series(
            {
                "name": "本年度办理结果",
                "categories": ["图表", r0 + 1, c0, r0 + len(parts), c0],
                "values": ["图表", r0 + 1, c0 + 1, r0 + len(parts), c0 + 1],
                "data_labels": {"percentage": True, "category": True, "leader_lines": True},
            }
        )
        pie.set_title({"name": "本年度办理结果（总计列）"})
        pie.set_size({"width": 640, "height": 420})
        ws.insert_chart(r0 + len(parts) + 2, c0, pie)
        ws.set_column(c0, c0, 40)


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


_DETAIL_WIDTH = 14  # 明细 value columns, in characters
_DETAIL_TOP = 2  # 明细's three header rows start here


def _detail_title(table: Any) -> str:
    # 表三/表四 are whole tables; 表二's blocks are named by sheet and block title.
    return str(table.title if "、" in table.title else f"{table.sheet} {table.title}")


_BAR_LIMIT = 60  # units charted one bar each; above this only the top _BAR_TOP
_BAR_TOP = 50
_TOP_ROW = 5 + (22 * _BAR_TOP + 120) // 20  # the top-units table starts below their chart


def _lines(text: str, width: int) -> int:
    """Lines a wrapped label takes in a column ``width`` characters wide (CJK count double)."""
    cols = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return max(1, min(6, -(-cols // max(1, width - 1))))


def _is_total(node: Any) -> bool:
    return "总计" in node.label

