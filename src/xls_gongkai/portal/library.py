"""The portal's one seam into the xls-gongkai library.

Every call the portal makes into xls-gongkai goes through this module, so that when the core
moves (as it did: ``writer.py`` → ``workbook/``, ``merge.py`` → ``batch/``, ``safety.py`` →
``reading/``; still to come: one verdict, 说明 in the library) only this file is re-pointed. Imports come from the top-level package where it exports the name,
otherwise from the current modules. The portal's verdict, issues, marked-up copy, template and
summary are exactly the library's: nothing here checks, sums or writes a report by itself.

Three things live here that belong in the library (the README lists them):

* :func:`check_upload` reads one untrusted upload in a child process with a wall-clock timeout
  and a bounded address space (``xls_gongkai.safety.confine``), then writes the marked-up copy.
  The library bounds batches of worker processes (``read_many``) but has no "one file, with a
  deadline" call.
* :func:`result_to_json` / :func:`result_from_json`: a :class:`Result` through JSON (the
  library has ``Report.to_dict`` and ``Issue.to_dict`` but nothing for the whole result).
* :func:`write_county_summary`: the merge summary with a 说明 sheet and, for a provisional
  summary, a red line on its sheets. ``merge.write_summary`` has no ``extra=`` hook, so this
  repeats its three lines around ``write_workbook(..., extra=...)`` and calls the summary's own
  (private) sheet writer. 说明 are stored by the portal until the library reads and carries
  its own (issue "One verdict"); then this function passes them on instead.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xls_gongkai import (
    Format,
    Issue,
    Report,
    Result,
    Unit,
    WorkbookError,
    XlsGongkaiError,
    format_for_year,
    get_format,
    read_workbook,
)
from xls_gongkai.batch.merge import Merged, merge_results, write_tidy
from xls_gongkai.batch.parallel import crashed
from xls_gongkai.batch.roster import RosterIndex, load_roster
from xls_gongkai.issues import Code
from xls_gongkai.reading.safety import confine, inspect_file
from xls_gongkai.report import CellKey
from xls_gongkai.rules import computed_cells as _computed_cells
from xls_gongkai.spec import Severity
from xls_gongkai.workbook.annotate import annotate, relocate
from xls_gongkai.workbook.layout import Layout, TableLayout, a1, col_letter, layout_for
from xls_gongkai.workbook.writer import WriteOptions, template_filename, write_workbook

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    import xlsxwriter

__all__ = [
    "MISSING",
    "CellKey",
    "CheckLimits",
    "Checked",
    "ExplanationRow",
    "Format",
    "Issue",
    "Layout",
    "Merged",
    "Report",
    "Result",
    "Severity",
    "TableLayout",
    "Unit",
    "WriteOptions",
    "XlsGongkaiError",
    "a1",
    "check_upload",
    "column_letter",
    "computed_cells",
    "format_for",
    "issue_key",
    "layout",
    "match_roster",
    "merge_units",
    "relocated_issues",
    "result_from_json",
    "result_to_json",
    "roster_units",
    "safe_name",
    "start_checker",
    "template_name",
    "write_county_summary",
    "write_filled",
    "write_template",
    "write_tidy_export",
]

UNREADABLE = Code.FILE_UNREADABLE
UNIT_MISMATCH = Code.UNIT_MISMATCH
YEAR_MISMATCH = Code.YEAR_MISMATCH
MISSING = Code.MISSING


# --------------------------------------------------------------------------- roster, formats, templates


def roster_units(path: Path) -> tuple[Unit, ...]:
    """The units of a roster file (CSV or XLSX); raises ``RosterError`` naming the row."""
    return load_roster(path).units


def format_for(year: int) -> Format:
    """The format a report year uses (2019 试行 or 2021 修订)."""
    return format_for_year(year)


def layout(format_id: str) -> Layout:
    """Where every cell of a format sits in the template (used to draw the sheets as HTML)."""
    return layout_for(get_format(format_id))


def computed_cells(format_id: str) -> frozenset[CellKey]:
    """The cells that are totals (formulas in the template, recomputed by the reader)."""
    return frozenset(_computed_cells(get_format(format_id)))


def column_letter(col: int) -> str:
    """``0`` → ``A``, as the spreadsheet names its columns."""
    return col_letter(col)


def template_name(unit: Unit, year: int) -> str:
    """The file name ``xls-gongkai generate`` gives a unit's template."""
    return template_filename(unit, year)


def write_filled(path: Path, report: Report) -> Path:
    """A filled template, as a clerk's spreadsheet program would save it (the demo, tests and bench)."""
    return write_workbook(path, report, WriteOptions())


def write_template(path: Path, unit: Unit, year: int, options: WriteOptions) -> Path:
    """The unit's blank template, exactly as ``xls-gongkai generate`` writes it."""
    return write_workbook(path, Report(unit, year, format_for_year(year).id), options)


def match_roster(units: Iterable[Unit], unit: Unit) -> Unit | None:
    """The roster's unit for a file's unit (by code, else by name), as ``check --roster`` matches."""
    return RosterIndex(units).match(unit).unit


# --------------------------------------------------------------------------- results as JSON


def result_to_json(result: Result) -> str:
    """A Result as JSON: its report, its issues, its source and the plain parts of ``extra``.

    ``extra["cells"]`` (where each value was found) is kept: the marked-up copy and the merge
    place issues and tidy rows with it.
    """
    extra: dict[str, Any] = {}
    for key, value in result.extra.items():
        plain = dict(value) if isinstance(value, Mapping) else value
        try:
            json.dumps(plain, ensure_ascii=False)
        except (TypeError, ValueError):
            continue
        extra[key] = plain
    data = {
        "report": result.report.to_dict() if result.report is not None else None,
        "issues": [i.to_dict() for i in result.issues],
        "source": result.source,
        "extra": extra,
    }
    return json.dumps(data, ensure_ascii=False)


def result_from_json(text: str, *, source: str | None = None) -> Result:
    """The Result that :func:`result_to_json` wrote (``source`` renames it, e.g. for the merge)."""
    from decimal import Decimal

    data = json.loads(text, parse_float=Decimal)
    report = Report.from_dict(data["report"]) if data.get("report") else None
    issues = tuple(Issue.from_dict(i) for i in data.get("issues", ()))
    return Result(report=report, issues=issues, source=source or data.get("source", ""), extra=data.get("extra", {}))


def relocated_issues(result: Result) -> list[Issue]:
    """The issues with their cells where the fresh template has them (as in the marked-up copy)."""
    return relocate(result)


def issue_key(issue: Issue) -> str:
    """A stable key of an issue across versions: code, table, row, column, sheet, cell."""
    return "|".join((issue.code, issue.table, issue.row, issue.column, issue.sheet, issue.cell))


# --------------------------------------------------------------------------- one upload, checked in a child


@dataclass(frozen=True)
class CheckLimits:
    """Bounds on checking one upload: wall-clock seconds and address space added in the child."""

    seconds: float = 60.0
    memory: int = 1024 * 1024 * 1024


@dataclass(frozen=True)
class Checked:
    """What checking one upload gave: the library's result, the kind of file, whether a marked-up copy was written."""

    result: Result
    kind: str = ""
    annotated: bool = False

    @property
    def errors(self) -> int:
        return len(self.result.errors)

    @property
    def warnings(self) -> int:
        return len(self.result.warnings)

    @property
    def unreadable(self) -> str:
        """The one-line message when the file could not be used at all ("" otherwise)."""
        if self.result.report is not None:
            return ""
        return next((i.message for i in self.result.issues if i.code == UNREADABLE), "文件无法读取")


_SUFFIX = {"xlsx": ".xlsx", "xlsb": ".xlsb", "xls": ".xls", "ods": ".ods"}
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
#: At most this many checks run at once (one per core): 300 units uploading in the same hour
#: queue here instead of each starting a parser and thrashing a 2-core office PC.
_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


def safe_name(name: str, default: str = "上传的文件") -> str:
    """A file name with the characters Windows forbids replaced (the browser sends any text)."""
    base = _UNSAFE_NAME.sub("_", os.path.basename(name.replace("\\", "/"))).strip(" .")
    return (base or default)[-120:]


def check_upload(
    path: Path,
    *,
    display_name: str,
    year: int,
    unit: Unit | None,
    annotated_to: Path,
    options: WriteOptions,
    limits: CheckLimits = CheckLimits(),
    workdir: Path | None = None,
) -> Checked:
    """Read and check one uploaded file in a child process; write its marked-up copy.

    The child bounds its address space (``safety.confine``) and is killed after
    ``limits.seconds``; a file that crashes or hangs the parser gives an unreadable result,
    never a hung request. Messages name ``display_name`` (the name the clerk chose), never
    the stored file. ``unit`` (None for 代传) is what the uploader stands for: another unit's
    template is an error, as in ``check``. The marked-up copy is written to ``annotated_to``
    when there is anything to mark.
    """
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    args = (sender, str(path), display_name, year, unit, str(annotated_to), options, limits.memory, str(workdir or ""))
    with _SLOTS:
        proc = ctx.Process(target=_check_child, args=args, daemon=True)
        proc.start()
        sender.close()
        try:
            if receiver.poll(limits.seconds):
                checked: Checked = receiver.recv()
            else:
                checked = _timed_out(display_name, limits.seconds)
        except (EOFError, OSError):
            checked = Checked(_renamed(crashed(display_name), display_name))
        finally:
            receiver.close()
            if proc.is_alive():
                proc.kill()
            proc.join()
    return checked


_CONTEXT: Any = None
_CONTEXT_LOCK = threading.Lock()


def _context() -> Any:
    """Fork the checks from a small single-threaded server process, not from the web server.

    Forking a process that runs request threads can copy a lock another thread holds; the
    forkserver is started once with the library already imported, so a check starts in a few
    milliseconds. Windows has only ``spawn``.
    """
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            ctx: Any
            if "forkserver" in multiprocessing.get_all_start_methods():
                ctx = multiprocessing.get_context("forkserver")
                # "__main__" too: the forkserver imports the main module once (as __mp_main__), so a
                # check does not re-run it (multiprocessing otherwise re-imports it in every child).
                ctx.set_forkserver_preload(["__main__", "xls_gongkai.portal.library"])
            else:  # pragma: no cover - Windows
                ctx = multiprocessing.get_context("spawn")
            _CONTEXT = ctx
        return _CONTEXT


def start_checker() -> None:
    """Start the checks' process server now (``portal serve`` does), so the first upload does not wait."""
    proc = _context().Process(target=_noop, daemon=True)
    proc.start()
    proc.join()


def _noop() -> None:  # pragma: no cover - runs in the child
    return None


def _timed_out(name: str, seconds: float) -> Checked:
    message = (
        f"{name}：检查超时（{seconds:g} 秒内未能读完），文件可能已损坏或异常庞大。"
        "请用 Excel 或 WPS 打开后另存为 .xlsx 再上传"
    )
    return Checked(Result(None, (Issue(UNREADABLE, Severity.ERROR, message, file=name),), source=name))


def _check_child(
    conn: Connection,
    path: str,
    display_name: str,
    year: int,
    unit: Unit | None,
    annotated_to: str,
    options: WriteOptions,
    memory: int,
    workdir: str,
) -> None:  # pragma: no cover - runs in the child process (its behaviour is tested through check_upload)
    try:
        import faulthandler

        # A parser that aborts prints its panic, and an enabled fault handler its dump: the
        # parent reports the file in Chinese instead.
        faulthandler.disable()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        confine(memory)
        checked = _check(Path(path), display_name, year, unit, Path(annotated_to), options, workdir or None)
        conn.send(checked)
        conn.close()
    finally:
        os._exit(0)


def _check(
    path: Path,
    display_name: str,
    year: int,
    unit: Unit | None,
    annotated_to: Path,
    options: WriteOptions,
    workdir: str | None,
) -> Checked:
    """Read under the clerk's file name (the library's messages name the file), by content."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        name = safe_name(display_name)
        link = Path(tmp) / name
        _link(path, link)
        try:
            kind = inspect_file(link).kind
            suffix = _SUFFIX.get(kind, "")
            if link.suffix.lower() not in (suffix, ".xlsm" if kind == "xlsx" else suffix):
                # The type is decided by the content; the parser is given the matching name.
                typed = link.with_name(f"{link.stem or 'upload'}{suffix}")
                link.rename(typed)
                link = typed
            result = read_workbook(link, year=year, unit=unit)
        except WorkbookError as exc:
            issue = Issue(UNREADABLE, Severity.ERROR, str(exc), file=display_name)
            return Checked(Result(None, (issue,), source=display_name))
        except MemoryError:
            return Checked(_renamed(crashed(display_name), display_name))
        result = _renamed(result, display_name)
        written = annotate(result, annotated_to.parent, name=annotated_to.name, options=options)
        return Checked(result, kind, written is not None)


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _renamed(result: Result, name: str) -> Result:
    """The result with every file reference naming the upload as the clerk named it."""
    issues = tuple(replace(i, file=name) if i.file else i for i in result.issues)
    return replace(result, issues=issues, source=name)


# --------------------------------------------------------------------------- the county summary


@dataclass(frozen=True)
class ExplanationRow:
    """One 说明 for the summary: which unit and warning, and what the unit wrote."""

    unit_code: str
    unit_name: str
    code: str
    sheet: str
    cell: str
    message: str
    text: str


def merge_units(results: Sequence[Result], *, roster: Sequence[Unit], name: str, times: Mapping[str, float]) -> Merged:
    """The merge of the given results against the roster, as ``xls-gongkai merge`` makes it.

    ``times`` gives each result's source its upload time (the merge shows it in 报送情况 and
    would otherwise look at a file's modification time).
    """
    return merge_results(results, unit=Unit("", name), roster=roster, mtimes=times)


PROVISIONAL_LINE = "【临时汇总】含尚未审核通过的单位，数据仅供参考，不得作为正式数据上报"


def write_county_summary(
    merged: Merged, path: Path, *, explanations: Sequence[ExplanationRow], provisional: bool, note: str = ""
) -> Path:
    """The summary workbook ``merge`` writes, plus a 说明 sheet; a provisional one is marked red."""
    from xls_gongkai.batch.merge import _add_sheets  # the summary's own sheets (write_summary has no extra= hook)

    def extra(wb: xlsxwriter.Workbook) -> None:
        _add_sheets(wb, merged)
        _explanations_sheet(wb, explanations, note)
        if provisional:
            _mark_provisional(wb, merged)

    options = WriteOptions(kind="summary", generated_at=merged.generated_at)
    return write_workbook(path, merged.report, options, extra=extra)


def _explanations_sheet(wb: xlsxwriter.Workbook, rows: Sequence[ExplanationRow], note: str) -> None:
    ws = wb.add_worksheet("说明")
    title = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
    cell = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    ws.write_string(0, 0, "说明（填报单位对警告的解释）", title)
    if note:
        ws.write_string(1, 0, note)
    widths = (12, 16, 12, 8, 8, 60, 60)
    for col, (width, label) in enumerate(
        zip(widths, ("单位代码", "单位名称", "问题代码", "工作表", "单元格", "问题", "说明"), strict=True)
    ):
        ws.set_column(col, col, width)
        ws.write_string(2, col, label, head)
    if not rows:
        ws.write_string(3, 0, "（汇总的单位没有填写说明）")
    for r, row in enumerate(rows, start=3):
        # write_string: a 说明 that begins with "=" stays text, never a formula.
        for col, value in enumerate(
            (row.unit_code, row.unit_name, row.code, row.sheet, row.cell, row.message, row.text)
        ):
            ws.write_string(r, col, value, cell)
    ws.freeze_panes(3, 0)


def _mark_provisional(wb: xlsxwriter.Workbook, merged: Merged) -> None:
    red = wb.add_format({"bold": True, "font_color": "#C00000", "font_size": 12})
    lay = layout_for(merged.report.format)
    for name in lay.sheets:
        ws = wb.get_worksheet_by_name(name)
        if ws is not None:
            # Row 2 of every sheet is the unit line (on 填报说明 the note): the mark replaces it.
            ws.write_string(1, 0, f"{PROVISIONAL_LINE}（{merged.report.unit.name}）", red)


def write_tidy_export(merged: Merged, path: Path) -> Path:
    """The tidy CSV (UTF-8 with BOM, text made inert) or Parquet of the merged units, by suffix."""
    return write_tidy(merged, path)
