"""Check a batch of returned workbooks: read them all, then the checks that need the whole batch.

:func:`check_files` reads every file (in parallel, :func:`~xls_gongkai.reading.reader.read_many`) and
adds what no single file can know: whether each unit is on the roster, which units sent two
files, which units sent nothing. :func:`write_check_report` writes the result for the officer
(.xlsx with a summary and an issue list, .csv, or .json); :func:`tidy_frame` gives the values as
the foundation's tidy columns plus ``file``, ``sheet`` and ``cell``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xls_gongkai.errors import UsageError
from xls_gongkai.issues import ISSUE_COLUMNS, Code, Issue, Result
from xls_gongkai.parsing.labels import normalise
from xls_gongkai.report import TIDY_COLUMNS, Report, Unit
from xls_gongkai.spec import Format, Severity

if TYPE_CHECKING:
    import pandas as pd

    from xls_gongkai.batch.roster import Roster

__all__ = [
    "READ_SUFFIXES",
    "TIDY_FILE_COLUMNS",
    "Batch",
    "check_files",
    "collect_files",
    "tidy_frame",
    "write_check_report",
    "write_tidy",
]

#: What ``read`` and ``check`` look for in a folder.
READ_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
#: The tidy export: the foundation's columns, then where each value was read from.
TIDY_FILE_COLUMNS = (*TIDY_COLUMNS, "file", "sheet", "cell")


def collect_files(inputs: Iterable[str | os.PathLike[str]], suffixes: Sequence[str] = READ_SUFFIXES) -> list[Path]:
    """The workbooks named by ``inputs``: files as given, folders searched recursively.

    Office lock files (``~$…``) and hidden files are skipped; the list is sorted and without
    repeats so that output order does not depend on the file system. Raises
    :class:`~xls_gongkai.errors.UsageError` for a path that does not exist or when nothing is found.
    """
    items = list(inputs)
    found: dict[Path, Path] = {}
    for item in items:
        path = Path(item)
        if path.is_dir():
            for child in path.rglob("*"):
                if child.is_file() and child.suffix.lower() in READ_SUFFIXES and not child.name.startswith(("~$", ".")):
                    found.setdefault(child.resolve(), child)
        elif path.exists():
            found.setdefault(path.resolve(), path)
        else:
            raise UsageError(f"找不到 {path}。请检查文件或文件夹的路径")
    if not found:
        names = "、".join(str(i) for i in items)
        raise UsageError(f"{names} 中没有找到工作簿（{'、'.join(suffixes)}）。请检查文件夹")
    return sorted(found.values(), key=str)


@dataclass(frozen=True)
class Batch:
    """The results of one batch, in input order, with the batch-level issues already added."""

    results: tuple[Result, ...]
    #: Roster units for which no file was read (only when a roster was given).
    missing: tuple[Unit, ...] = ()
    roster_source: str = ""

    @property
    def issues(self) -> list[Issue]:
        return [i for r in self.results for i in r.issues]

    @property
    def unreadable(self) -> list[Result]:
        return [r for r in self.results if r.report is None]

    @property
    def has_errors(self) -> bool:
        return any(i.is_error for i in self.issues)

    @property
    def exit_code(self) -> int:
        """2 when a file could not be read, 1 when errors were found, else 0 (warnings are fine)."""
        if self.unreadable:
            return 2
        return 1 if self.has_errors else 0


def check_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    fmt: Format | str | int | None = None,
    year: int | None = None,
    unit: Unit | None = None,
    roster: Roster | None = None,
    strict: bool = False,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    previous: Sequence[str | os.PathLike[str]] = (),
) -> Batch:
    """Read and check every file, then check the batch against the roster and for duplicates.

    ``fmt``, ``year`` and ``unit`` are passed to :func:`~xls_gongkai.reading.reader.read_workbook`
    (``unit`` only makes sense for one file). ``previous`` names last year's workbooks (or
    report JSON files) of the same units: each unit is then also checked against its own last
    year (R6–R8, warnings). Never raises for a bad file.
    """
    from xls_gongkai.reading.reader import read_many

    kw: dict[str, Any] = {"strict": strict}
    if fmt is not None:
        kw["fmt"] = fmt
    if year is not None:
        kw["year"] = year
    if unit is not None:
        kw["unit"] = unit
    results = read_many([str(p) for p in paths], jobs=jobs, progress=progress, **kw)
    missing: tuple[Unit, ...] = ()
    if roster is not None:
        results, missing = _roster_checks(results, roster)
    results = _duplicates(results)
    if previous:
        results = _cross_year(results, _read_previous(previous, jobs), year)
    return Batch(tuple(results), missing, roster.source if roster is not None else "")


def _unit_key(u: Unit) -> str:
    return u.code or normalise(u.name)


def _read_previous(paths: Sequence[str | os.PathLike[str]], jobs: int | None) -> dict[str, Report]:
    """Last year's reports by unit (code, or normalised name); unreadable ones are skipped."""
    from xls_gongkai.reading.reader import read_many

    files = collect_files(paths, suffixes=(*READ_SUFFIXES, ".json"))
    out: dict[str, Report] = {}
    books = [p for p in files if p.suffix.lower() != ".json"]
    reports = [r.report for r in read_many([str(p) for p in books], jobs=jobs) if r.report is not None]
    for p in files:
        if p.suffix.lower() == ".json":
            try:
                reports.append(Report.from_json(p.read_text(encoding="utf-8-sig")))
            except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
                raise UsageError(f"{p.name} 不是可用的报告 JSON（{exc}）。请重新导出上年数据") from exc
    for rep in reports:
        out.setdefault(_unit_key(rep.unit), rep)
        if rep.unit.code and rep.unit.name:
            out.setdefault(normalise(rep.unit.name), rep)
    return out


def _cross_year(results: Sequence[Result], previous: Mapping[str, Report], year: int | None) -> list[Result]:
    from xls_gongkai.batch.merge import cross_year_issues

    out: list[Result] = []
    for res in results:
        rep = res.report
        prev = None
        if rep is not None:
            prev = previous.get(_unit_key(rep.unit)) or previous.get(normalise(rep.unit.name))
        if rep is None or prev is None or prev.year != rep.year - 1:
            out.append(res)
            continue
        cells = _cells(res)
        found: list[Issue] = []
        for issue in cross_year_issues(rep, prev):
            # The rules engine places cells in the template; this file may have them elsewhere.
            where = cells.get(f"{issue.table}|{issue.row}|{issue.column}", "")
            sheet, _, cell = where.rpartition("!")
            moved = bool(cell) and (sheet, cell) != (issue.sheet, issue.cell)
            found.append(
                replace(
                    issue,
                    file=res.source,
                    sheet=sheet or issue.sheet,
                    cell=cell or issue.cell,
                    cells=(cell,) if moved else issue.cells,
                )
            )
        out.append(_with(res, *found) if found else res)
    return out


def _with(result: Result, *issues: Issue) -> Result:
    return replace(result, issues=[*result.issues, *issues])


def _roster_checks(results: Sequence[Result], roster: Roster) -> tuple[list[Result], tuple[Unit, ...]]:
    """Each result's unit against the roster; and the roster's units no file was found for."""
    from xls_gongkai.batch.roster import RosterIndex

    index = RosterIndex(roster.units)
    found: set[Unit] = set()
    out: list[Result] = []
    for res in results:
        if res.report is None:
            out.append(res)
            continue
        u = res.report.unit
        m = index.match(u)
        base: dict[str, Any] = {"unit_code": u.code, "unit_name": u.name, "file": res.source}
        if m.unit is None:
            out.append(
                _with(
                    res,
                    Issue(
                        code=Code.NOT_IN_ROSTER,
                        severity=Severity.ERROR,
                        message=f"单位“{u.name or '（未填写）'}”（代码 {u.code or '无'}）不在单位名册 "
                        f"{Path(roster.source).name} 中。请核对单位名称和代码，或补充名册",
                        found=f"{u.code} {u.name}".strip(),
                        **base,
                    ),
                )
            )
            continue
        found.add(m.unit)
        if m.differs and m.by == "code":
            out.append(
                _with(
                    res,
                    Issue(
                        code=Code.UNIT_MISMATCH,
                        severity=Severity.WARNING,
                        message=f"单位代码 {u.code} 在名册中是“{m.differs}”，文件中写的是“{u.name}”。请核对",
                        expected=m.differs,
                        found=u.name,
                        **base,
                    ),
                )
            )
            continue
        if m.differs:
            out.append(
                _with(
                    res,
                    Issue(
                        code=Code.UNIT_MISMATCH,
                        severity=Severity.WARNING,
                        message=f"“{u.name}”在名册中的代码是 {m.differs}，文件中写的是 {u.code}。请核对",
                        expected=m.differs,
                        found=u.code,
                        **base,
                    ),
                )
            )
            continue
        if not u.code:
            # A hand-made workbook names its unit but has no code: the roster supplies it.
            res = replace(res, report=replace(res.report, unit=m.unit))
        out.append(res)
    return out, tuple(u for u in roster.units if u not in found)


def _duplicates(results: Sequence[Result]) -> list[Result]:
    first: dict[str, str] = {}
    out: list[Result] = []
    for res in results:
        if res.report is None:
            out.append(res)
            continue
        u = res.report.unit
        key = u.code or normalise(u.name)
        if not key:
            out.append(res)
            continue
        if key in first:
            out.append(
                _with(
                    res,
                    Issue(
                        code=Code.DUPLICATE,
                        severity=Severity.ERROR,
                        message=f"单位“{u.name}”提交了不止一份报表：本文件与 {Path(first[key]).name} 重复。"
                        "请确认哪一份有效，删除另一份",
                        unit_code=u.code,
                        unit_name=u.name,
                        file=res.source,
                        found=first[key],
                    ),
                )
            )
            continue
        first[key] = res.source
        out.append(res)
    return out


# --------------------------------------------------------------------------- outputs


def _cells(result: Result) -> Mapping[str, str]:
    cells = result.extra.get("cells", {})
    return cells if isinstance(cells, Mapping) else {}


def tidy_frame(results: Iterable[Result]) -> pd.DataFrame:
    """One row per value cell of every readable file: :data:`TIDY_FILE_COLUMNS`."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for res in results:
        if res.report is None:
            continue
        cells = _cells(res)
        for row in res.report.tidy_rows():
            where = cells.get(f"{row['table']}|{row['row']}|{row['column']}", "")
            sheet, _, cell = where.rpartition("!")
            row["file"] = res.source
            row["sheet"] = sheet
            row["cell"] = cell
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(TIDY_FILE_COLUMNS))
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["year"] = frame["year"].astype("int64")
    return frame


_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _inert(v: Any) -> Any:
    # A CSV opened in Excel/WPS runs "=…" as a formula: clerks' text must not.
    return "'" + v if isinstance(v, str) and v.startswith(_DANGEROUS) else v


def result_dict(result: Result) -> dict[str, Any]:
    """One file's result as JSON-ready data: unit, values with their cells, issues, unrecognised cells."""
    out: dict[str, Any] = {"file": result.source}
    if result.report is not None:
        rep = result.report
        cells = _cells(result)
        out["unit"] = {"code": rep.unit.code, "name": rep.unit.name, "parent": rep.unit.parent}
        out["year"] = rep.year
        out["format"] = rep.format_id
        out["values"] = []
        for row in rep.tidy_rows():
            where = cells.get(f"{row['table']}|{row['row']}|{row['column']}", "")
            sheet, _, cell = where.rpartition("!")
            out["values"].append(
                {k: row[k] for k in ("table", "row", "column", "row_path", "column_path", "value")}
                | {"sheet": sheet, "cell": cell}
            )
        out["texts"] = dict(rep.texts)
    out["errors"] = sum(1 for i in result.issues if i.is_error)
    out["warnings"] = sum(1 for i in result.issues if not i.is_error)
    out["issues"] = [i.to_dict() for i in result.issues]
    out["unrecognised"] = list(result.extra.get("unrecognised", []))
    return out


def write_json(results: Sequence[Result], path: Path, missing: Sequence[Unit] = ()) -> Path:
    data = {
        "files": [result_dict(r) for r in results],
        "missing_units": [{"code": u.code, "name": u.name} for u in missing],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def write_tidy(results: Sequence[Result], path: str | os.PathLike[str]) -> Path:
    """The values of every file: .json (per file, with issues and unrecognised cells), .csv or .parquet."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix == ".json":
        return write_json(results, out)
    frame = tidy_frame(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        try:
            frame.to_parquet(out, index=False)
        except ImportError as exc:
            raise UsageError("写 Parquet 需要 pyarrow：pip install 'xls-gongkai[parquet]'，或改用 --csv") from exc
        return out
    if suffix != ".csv":
        raise UsageError(f"不支持的输出格式 {out.name}：请用 .json、.csv 或 .parquet")
    for c in ("unit_name", "unit_code", "row_path", "column_path", "file", "sheet"):
        frame[c] = frame[c].map(_inert)
    # BOM so that Excel and WPS open the Chinese labels correctly.
    frame.to_csv(out, index=False, encoding="utf-8-sig")
    return out


def _status(res: Result) -> str:
    if res.report is None:
        return "无法读取"
    errors = sum(1 for i in res.issues if i.is_error)
    return "有错误" if errors else ("有警告" if res.issues else "通过")


SUMMARY_COLUMNS = ("序号", "文件", "单位名称", "单位代码", "年度", "格式", "状态", "错误", "警告")


def summary_rows(batch: Batch) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for n, res in enumerate(batch.results, start=1):
        rep = res.report
        rows.append(
            (
                n,
                res.source,
                rep.unit.name if rep else "",
                rep.unit.code if rep else "",
                rep.year if rep else "",
                rep.format_id if rep else "",
                _status(res),
                sum(1 for i in res.issues if i.is_error),
                sum(1 for i in res.issues if not i.is_error),
            )
        )
    return rows


ISSUE_HEADINGS = {
    "code": "规则/代码",
    "severity": "级别",
    "message": "问题说明",
    "unit_code": "单位代码",
    "unit_name": "单位名称",
    "file": "文件",
    "sheet": "工作表",
    "cell": "单元格",
    "cells": "涉及单元格",
    "table": "表",
    "row": "行ID",
    "column": "列ID",
    "row_label": "行",
    "column_label": "列",
    "expected": "应为",
    "found": "实为",
}


def write_check_report(batch: Batch, path: str | os.PathLike[str]) -> Path:
    """Write the batch's findings as .xlsx (汇总, 问题清单, 未报送单位), .csv (issues) or .json."""
    out = Path(path)
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        return write_json(batch.results, out, batch.missing)
    if suffix == ".csv":
        import csv

        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(ISSUE_COLUMNS)
            for i in batch.issues:
                d = i.to_dict() | {"cells": " ".join(i.cells)}
                w.writerow([_inert(d[c]) for c in ISSUE_COLUMNS])
        return out
    if suffix != ".xlsx":
        raise UsageError(f"不支持的报告格式 {out.name}：请用 .xlsx、.csv 或 .json")
    _write_xlsx(batch, out)
    return out


def _write_xlsx(batch: Batch, out: Path) -> None:
    import xlsxwriter

    # Text is written as text, never as a formula: a clerk's cell content could start with "=".
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_numbers": False})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    cell = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    err = wb.add_format({"border": 1, "font_color": "#C00000", "bold": True, "valign": "top"})
    ok = wb.add_format({"border": 1, "font_color": "#006100", "valign": "top"})
    ws = wb.add_worksheet("汇总")
    n_err = sum(1 for i in batch.issues if i.is_error)
    ws.write_string(
        0,
        0,
        f"共 {len(batch.results)} 个文件：通过 {sum(1 for r in batch.results if _status(r) == '通过')}，"
        f"有错误 {sum(1 for r in batch.results if _status(r) == '有错误')}，"
        f"无法读取 {len(batch.unreadable)}；错误共 {n_err} 项，警告 {len(batch.issues) - n_err} 项"
        + (f"；名册中未报送 {len(batch.missing)} 个单位" if batch.roster_source else ""),
    )
    for c, (h, w) in enumerate(zip(SUMMARY_COLUMNS, (6, 40, 20, 14, 8, 14, 10, 8, 8), strict=True)):
        ws.write_string(1, c, h, head)
        ws.set_column(c, c, w)
    for r, row in enumerate(summary_rows(batch), start=2):
        for c, v in enumerate(row):
            style = cell
            if c == 6:
                style = ok if v == "通过" else err if v in ("有错误", "无法读取") else cell
            if isinstance(v, int):
                ws.write_number(r, c, v, style)
            else:
                ws.write_string(r, c, str(v), style)
    ws.freeze_panes(2, 0)
    ws.autofilter(1, 0, 1 + len(batch.results), len(SUMMARY_COLUMNS) - 1)
    ws2 = wb.add_worksheet("问题清单")
    cols = [c for c in ISSUE_COLUMNS if c not in ("cells", "table", "row", "column")]
    widths = {"message": 70, "file": 30, "unit_name": 16, "row_label": 30, "column_label": 20}
    for c, name in enumerate(cols):
        ws2.write_string(0, c, ISSUE_HEADINGS.get(name, name), head)
        ws2.set_column(c, c, widths.get(name, 10))
    ordered = sorted(batch.issues, key=lambda i: (not i.is_error,))
    for r, issue in enumerate(ordered, start=1):
        d = issue.to_dict()
        for c, name in enumerate(cols):
            v = d[name]
            if name == "severity":
                ws2.write_string(r, c, issue.severity.label, err if issue.is_error else cell)
            else:
                ws2.write_string(r, c, str(v), cell)
    ws2.freeze_panes(1, 0)
    if ordered:
        ws2.autofilter(0, 0, len(ordered), len(cols) - 1)
    if batch.roster_source:
        ws3 = wb.add_worksheet("未报送单位")
        ws3.write_string(0, 0, "单位代码", head)
        ws3.write_string(0, 1, "单位名称", head)
        ws3.set_column(0, 1, 24)
        for r, u in enumerate(batch.missing, start=1):
            ws3.write_string(r, 0, u.code, cell)
            ws3.write_string(r, 1, u.name, cell)
    wb.close()
