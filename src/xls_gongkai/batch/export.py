"""Every export of values, in one tidy contract, and the officer's check report.

One value per row, the columns :data:`EXPORT_COLUMNS` — the report's documented tidy columns, then
where the value was read from (``file``, ``sheet``, ``cell``) — whichever command made it (read,
merge, import) and in whichever form (CSV, Parquet, JSON). Text a unit typed is made inert for
spreadsheet programs (formula injection). Files are written through the one atomic writer.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from xls_gongkai.batch.inputs import Skipped
from xls_gongkai.batch.pipeline import Batch
from xls_gongkai.collection import Merged, Status
from xls_gongkai.errors import UsageError, printable
from xls_gongkai.issues import ISSUE_COLUMNS, Issue, Result, Unrecognised, by_severity, counts
from xls_gongkai.output import atomic_path, check_output
from xls_gongkai.report import TIDY_COLUMNS, Report, Unit, tidy_cells
from xls_gongkai.rules import indicators
from xls_gongkai.spec import CellKey, Format

__all__ = [
    "EXPORT_COLUMNS",
    "Source",
    "escape_text",
    "merged_sources",
    "result_sources",
    "tidy_records",
    "write_check_report",
    "write_tidy",
]

#: The columns of every tidy export — a public contract, documented in the README.
EXPORT_COLUMNS = (*TIDY_COLUMNS, "file", "sheet", "cell")
TIDY_SUFFIXES = (".csv", ".parquet", ".json")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def escape_text(v: Any) -> Any:
    """Text made inert for a spreadsheet program opening a CSV: a leading = + - @ would run."""
    return "'" + v if isinstance(v, str) and v.startswith(_DANGEROUS) else v


@dataclass(frozen=True)
class Source:
    """One report to export, with where its values were read from."""

    report: Report
    file: str = ""
    cells: Mapping[CellKey, tuple[str, str]] | None = None
    issues: tuple[Issue, ...] = ()
    unit: Unit | None = None  # the roster's unit, when it differs from the report's own
    unrecognised: tuple[Unrecognised, ...] = ()
    status: str = ""


def result_sources(results: Iterable[Result]) -> list[Source]:
    return [
        Source(r.report, r.source, r.cells, tuple(r.issues), None, r.unrecognised)
        for r in results
        if r.report is not None
    ]


def merged_sources(merged: Merged) -> list[Source]:
    """What a merge exports: every summed unit's report, under the roster's unit."""
    return [Source(s.report, s.file, s.cells, s.issues, s.unit) for s in merged.included]


def tidy_records(sources: Iterable[Source]) -> Iterator[tuple[Any, ...]]:
    """Every value of every source as one tuple in :data:`EXPORT_COLUMNS` order."""
    for s in sources:
        cells = s.cells or {}
        unit = s.unit
        for row in s.report.tidy_rows():
            if unit is not None:
                row = (unit.code, unit.name, *row[2:])
            sheet, cell = cells.get((row[4], row[5], row[6]), ("", ""))
            yield (*row, s.file, sheet, cell)


def _csv_rows(s: Source) -> Iterator[tuple[Any, ...]]:
    """One source's tidy records for a CSV. What a unit controls — its name and code, the
    file's and the sheets' names — is made inert (once per source, not per value); labels and
    ids come from the format definition, numbers are numbers."""
    unit = s.unit or s.report.unit
    head = (escape_text(unit.code), escape_text(unit.name))
    file = escape_text(s.file)
    cells = s.cells or {}
    sheets: dict[str, str] = {}
    for row in s.report.tidy_rows():
        sheet, cell = cells.get((row[4], row[5], row[6]), ("", ""))
        if sheet not in sheets:
            sheets[sheet] = escape_text(sheet)
        yield (*head, *row[2:], file, sheets[sheet], cell)


def _csv_fields(fields: Sequence[Any]) -> str:
    """Fields as the csv module writes them, joined by commas, without the line's end."""
    buf = io.StringIO()
    csv.writer(buf).writerow(fields)  # the usual line end: it decides which fields are quoted
    return buf.getvalue()[:-2]


@cache
def _csv_middles(fmt: Format) -> tuple[tuple[CellKey, str], ...]:
    """Each leaf cell of ``fmt`` with its table, row, column and path columns as CSV text."""
    return tuple((key, _csv_fields(labels)) for key, labels in tidy_cells(fmt))


def _csv_lines(s: Source) -> Iterator[str]:
    """One source's CSV lines, as :func:`_csv_rows` through ``csv.writer`` gives them, but with
    everything but the value and the cell worked out once (a county's CSV has 300,000 lines;
    a test compares both ways byte for byte)."""
    report = s.report
    fmt, values = report.format, report.values
    if not fmt.group_keys.isdisjoint(values):  # a group stored as one row: the general way
        buf = io.StringIO()
        csv.writer(buf).writerows(_csv_rows(s))
        yield buf.getvalue()
        return
    unit = s.unit or report.unit
    head = _csv_fields((escape_text(unit.code), escape_text(unit.name), report.year, fmt.id))
    cells = s.cells or {}
    places: dict[str, str] = {}
    for key, middle in _csv_middles(fmt):
        v = values.get(key)
        sheet, cell = cells.get(key, ("", ""))
        place = places.get(sheet)
        if place is None:
            place = places[sheet] = _csv_fields((escape_text(s.file), escape_text(sheet)))
        value = "" if v is None else repr(float(v)) if isinstance(v, Decimal) else repr(v)
        yield f"{head},{middle},{value},{place},{_csv_fields((cell,)) if cell and not cell.isalnum() else cell}\r\n"


def _write_csv(sources: Sequence[Source], path: Path) -> None:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        # BOM so that Excel and WPS open the Chinese labels correctly.
        csv.writer(fh).writerow(EXPORT_COLUMNS)
        for s in sources:
            fh.writelines(_csv_lines(s))


def _write_parquet(records: Iterable[tuple[Any, ...]], path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise UsageError("写 Parquet 需要 pyarrow：pip install 'xls-gongkai[parquet]'，或改用 .csv") from exc
    columns: list[list[Any]] = [[] for _ in EXPORT_COLUMNS]
    for rec in records:
        for col, v in zip(columns, rec, strict=True):
            col.append(v)
    value = EXPORT_COLUMNS.index("value")
    arrays = [
        pa.array([None if v is None else float(v) for v in col], pa.float64()) if i == value else pa.array(col)
        for i, col in enumerate(columns)
    ]
    table = pa.table(dict(zip(EXPORT_COLUMNS, arrays, strict=True)))
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def source_dict(s: Source) -> dict[str, Any]:
    """One source as JSON-ready data: the report (loadable again), its values in the tidy
    columns, its issues and what was found outside the known cells."""
    errors, warnings, _notices = counts(s.issues)
    out: dict[str, Any] = {"file": s.file}
    if s.status:
        out["status"] = s.status
    return out | {
        "errors": errors,
        "warnings": warnings,
        "report": s.report.to_dict(),
        "values": [dict(zip(EXPORT_COLUMNS, rec, strict=True)) for rec in tidy_records([s])],
        "issues": [i.to_dict() for i in s.issues],
        "unrecognised": [{"sheet": u.sheet, "cell": u.cell, "text": u.text} for u in s.unrecognised],
    }


def write_json(sources: Sequence[Source], path: Path, *, extra: Mapping[str, Any] | None = None) -> None:
    data = {"xls_gongkai": "reports", "files": [source_dict(s) for s in sources], **(extra or {})}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def check_tidy_path(path: str | os.PathLike[str]) -> Path:
    """Refuse an unusable output name before any work is done."""
    return check_output(path, TIDY_SUFFIXES)


def write_tidy(sources: Sequence[Source], path: str | os.PathLike[str]) -> Path:
    """The values of every source, by suffix: .csv (UTF-8 with BOM, text escaped), .parquet, .json."""
    out = check_tidy_path(path)
    suffix = out.suffix.lower()
    if suffix == ".json":
        write_json(sources, out)
    elif suffix == ".parquet":
        _write_parquet(tidy_records(sources), out)
    else:
        _write_csv(sources, out)
    return out


# --------------------------------------------------------------------------- the check report

SUMMARY_COLUMNS = ("状态", "单位名称", "单位代码", "文件", "年度", "格式", "错误", "警告")
ISSUE_HEADINGS = {
    "severity": "级别",
    "code": "规则/代码",
    "message": "问题说明",
    "unit_name": "单位名称",
    "unit_code": "单位代码",
    "file": "文件",
    "sheet": "工作表",
    "cell": "单元格",
    "row_label": "行",
    "column_label": "列",
    "expected": "应为",
    "found": "实为",
    "explanation": "单位的说明",
}
CHECK_REPORT_SUFFIXES = (".xlsx", ".csv", ".json")
#: Worst first: what the officer must act on comes first.
STATUS_ORDER = (
    Status.ERRORS,
    Status.UNREADABLE,
    Status.DUPLICATE,
    Status.UNKNOWN,
    Status.EMPTY,
    Status.WARNINGS,
    Status.SUBMITTED,
    Status.MISSING,
)


def check_report_path(path: str | os.PathLike[str]) -> Path:
    """Refuse an unusable report name before the batch is read."""
    return check_output(path, CHECK_REPORT_SUFFIXES, "报告")


def _display_name(path: str) -> str:
    # The officer forwards this report: bare file names, never the local folders they sit in.
    return printable(Path(path).name)


def indicator_names(batch: Batch) -> list[str]:
    """The indicators of the batch's formats, in order (one column each in the check report)."""
    names: dict[str, None] = {}
    for item in batch.items:
        if item.result.report is not None:
            names.update(dict.fromkeys(x.name for x in item.result.report.format.indicators))
    return list(names)


def summary_rows(batch: Batch) -> list[tuple[Any, ...]]:
    """One row per file (errors first), then the units that sent nothing and the files skipped;
    each file's indicators last."""
    names = indicator_names(batch)
    blank = ("",) * len(names)
    rows: list[tuple[Any, ...]] = []
    for item in sorted(batch.items, key=lambda it: STATUS_ORDER.index(it.status)):
        rep, res = item.result.report, item.result
        unit = item.unit or (rep.unit if rep else Unit("", ""))
        n_err = sum(1 for i in res.issues if i.is_error)
        n_warn = sum(1 for i in res.issues if i.is_warning)
        year = rep.year if rep else ""
        rows.append(
            (
                item.status.value,
                unit.name,
                unit.code,
                _display_name(res.source),
                year,
                rep.format.name if rep else "",
                n_err,
                n_warn,
                *_indicator_texts(rep, names),
            )
        )
    rows += [(Status.MISSING.value, u.name, u.code, "", "", "", "", "", *blank) for u in batch.missing]
    rows += [("未读取", "", "", _display_name(str(s.path)), "", s.reason, "", "", *blank) for s in batch.skipped]
    return rows


def _indicator_texts(report: Report | None, names: Sequence[str]) -> tuple[str, ...]:
    if report is None:
        return ("",) * len(names)
    shown = {v.indicator.name: v.text for v in indicators(report)}
    return tuple(shown.get(name, "") for name in names)


def _skipped_dicts(skipped: Sequence[Skipped]) -> list[dict[str, str]]:
    return [{"file": printable(str(s.path)), "reason": s.reason} for s in skipped]


def write_check_report(batch: Batch, path: str | os.PathLike[str]) -> Path:
    """The batch's findings as .xlsx (汇总, 问题清单), .csv (the issues) or .json (everything)."""
    out = check_report_path(path)
    suffix = out.suffix.lower()
    issues = by_severity(batch.issues)
    if suffix == ".json":
        sources = [
            Source(r.report, r.source, r.cells, tuple(r.issues), it.unit, r.unrecognised, it.status.value)
            for it in batch.items
            if (r := it.result).report is not None
        ]
        extra = {
            "unreadable": [
                {"file": it.source, "issues": [i.to_dict() for i in it.result.issues]}
                for it in batch.items
                if it.result.report is None
            ],
            "missing_units": [{"code": u.code, "name": u.name} for u in batch.missing],
            "skipped": _skipped_dicts(batch.skipped),
            "counts": {s.value: n for s, n in batch.counts().items()},
        }
        write_json(sources, out, extra=extra)
    elif suffix == ".csv":
        with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow((*ISSUE_COLUMNS, "explanation"))
            for i in issues:
                d = i.to_dict() | {"cells": " ".join(i.cells), "severity": i.severity.label}
                w.writerow([escape_text(d[c]) for c in ISSUE_COLUMNS] + [escape_text(batch.explanation(i))])
    else:
        buffer = io.BytesIO()
        _write_xlsx(batch, issues, buffer)
        with atomic_path(out) as tmp:
            tmp.write_bytes(buffer.getbuffer())
    return out


def _write_xlsx(batch: Batch, issues: Sequence[Issue], out: io.BytesIO) -> None:
    import xlsxwriter

    # Text is written as text, never as a formula: a clerk's cell content could start with "=".
    # Into memory (the caller writes the bytes): no temporary files of xlsxwriter's own and no
    # zip writer left open on a full disk.
    wb = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_numbers": False, "in_memory": True})
    st = {
        "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}),
        "cell": wb.add_format({"border": 1, "text_wrap": True, "valign": "top"}),
        "bad": wb.add_format({"border": 1, "font_color": "#C00000", "bold": True, "valign": "top"}),
        "good": wb.add_format({"border": 1, "font_color": "#006100", "valign": "top"}),
    }
    _summary_sheet(wb, batch, st)
    _issues_sheet(wb, issues, st, batch.explanation)
    wb.close()


def _landscape(ws: Any, columns: int) -> None:
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(1)
    ws.freeze_panes(2, 0) if columns else None


def _summary_sheet(wb: Any, batch: Batch, st: Mapping[str, Any]) -> None:
    ws = wb.add_worksheet("汇总")
    counts = batch.counts()
    parts = [f"{s.value} {n}" for s, n in counts.items() if n]
    n_err = sum(1 for i in batch.issues if i.is_error)
    n_warn = sum(1 for i in batch.issues if i.is_warning)
    ws.write_string(0, 0, f"共 {len(batch.items)} 个文件：{'，'.join(parts)}；错误 {n_err} 项，警告 {n_warn} 项")
    names = indicator_names(batch)
    heads = (*SUMMARY_COLUMNS, *names)
    for c, (h, w) in enumerate(zip(heads, (10, 20, 14, 36, 8, 12, 8, 8, *(10,) * len(names)), strict=True)):
        ws.write_string(1, c, h, st["head"])
        ws.set_column(c, c, w)
    rows = summary_rows(batch)
    bad = {
        Status.ERRORS.value,
        Status.UNREADABLE.value,
        Status.DUPLICATE.value,
        Status.UNKNOWN.value,
        Status.EMPTY.value,
        Status.MISSING.value,
    }
    for r, row in enumerate(rows, start=2):
        for c, v in enumerate(row):
            style = st["cell"]
            if c == 0:
                style = st["bad"] if v in bad else st["good"] if v == Status.SUBMITTED.value else st["cell"]
            if isinstance(v, int):
                ws.write_number(r, c, v, style)
            else:
                ws.write_string(r, c, str(v), style)
    _landscape(ws, len(heads))
    ws.autofilter(1, 0, 1 + len(rows), len(heads) - 1)


def _issues_sheet(wb: Any, issues: Sequence[Issue], st: Mapping[str, Any], explain: Callable[[Issue], str]) -> None:
    ws = wb.add_worksheet("问题清单")
    ws.write_string(0, 0, "改正后本清单不会自动更新，以各单位工作簿中的校验格为准。", st["cell"])
    cols = list(ISSUE_HEADINGS)
    widths = {"message": 70, "file": 28, "unit_name": 16, "row_label": 30, "column_label": 20, "explanation": 40}
    for c, name in enumerate(cols):
        ws.write_string(1, c, ISSUE_HEADINGS[name], st["head"])
        ws.set_column(c, c, widths.get(name, 10))
    for r, i in enumerate(issues, start=2):
        d = i.to_dict() | {"severity": i.severity.label, "file": _display_name(i.file), "explanation": explain(i)}
        for c, name in enumerate(cols):
            ws.write_string(r, c, str(d[name]), st["bad"] if name == "severity" and i.is_error else st["cell"])
    _landscape(ws, len(cols))
    if issues:
        ws.autofilter(1, 0, 1 + len(issues), len(cols) - 1)
