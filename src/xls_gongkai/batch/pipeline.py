"""One batch: the files of a collection read in parallel, then what no single file can know.

``read``, ``check``, ``merge`` and the portal all run :func:`run_batch`, so they agree on every
question about the same files: which unit each belongs to (the roster, matched by code then by
name), which units sent two files (every one of them flagged), which file is of another year or
format than the batch, which units sent nothing, what each file's status is, and each unit's
figures against last year (R6–R8).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from xls_gongkai.batch.inputs import BOOK_SUFFIXES, REPORT_SUFFIXES, Skipped, collect
from xls_gongkai.batch.read import read_many
from xls_gongkai.batch.roster import Roster, RosterIndex
from xls_gongkai.collection import Status
from xls_gongkai.errors import UsageError, XlsGongkaiError, printable
from xls_gongkai.issues import Code, Issue, Result, explanation_for, issue, unreadable
from xls_gongkai.parsing.labels import normalise
from xls_gongkai.reading.detail import read_detail
from xls_gongkai.report import Explanation, Report, Unit
from xls_gongkai.rules import check_report, engine, peer_issues, year_on_year_issues
from xls_gongkai.spec import CellKey, Format
from xls_gongkai.workbook.layout import layout_for

__all__ = ["Batch", "Item", "check_batch", "load_previous", "load_report_json", "load_results", "run_batch", "unit_key"]

Progress = Callable[[int, int], None]


def unit_key(unit: Unit) -> str:
    """How two files are known to be the same unit's: its code, else its name (spelling normalised)."""
    return f"c:{unit.code}" if unit.code else f"n:{normalise(unit.name)}"


@dataclass(frozen=True)
class Item:
    """One input file's outcome in the batch."""

    result: Result
    #: the roster's unit when the file's unit is on the roster, else the file's own unit
    unit: Unit | None
    status: Status
    on_roster: bool = True

    @property
    def source(self) -> str:
        return self.result.source


@dataclass(frozen=True)
class Batch:
    """The results of one batch, in input order, with the batch-level issues already added."""

    items: tuple[Item, ...]
    #: roster units for which no file was read (only when a roster was given)
    missing: tuple[Unit, ...] = ()
    #: files received that are not workbooks (named, not read)
    skipped: tuple[Skipped, ...] = ()
    roster: Roster | None = None

    @property
    def results(self) -> tuple[Result, ...]:
        return tuple(i.result for i in self.items)

    @property
    def issues(self) -> list[Issue]:
        return [i for item in self.items for i in item.result.issues]

    def counts(self) -> dict[Status, int]:
        c = Counter(item.status for item in self.items)
        out = {s: c.get(s, 0) for s in Status}
        out[Status.MISSING] = len(self.missing)
        return out

    @cached_property
    def _explanations(self) -> dict[str, tuple[Explanation, ...]]:
        return {
            item.source: report.explanations
            for item in self.items
            if (report := item.result.report) is not None and report.explanations
        }

    def explanation(self, issue: Issue) -> str:
        """The 说明 its file gives for a warning ("" when none)."""
        given = self._explanations.get(issue.file)
        found = explanation_for(issue, given) if given else None
        return found.text if found is not None else ""

    @property
    def exit_code(self) -> int:
        """2 when a file could not be read, 1 when errors were found, else 0 (warnings are fine)."""
        if any(item.status is Status.UNREADABLE for item in self.items):
            return 2
        return 1 if any(i.is_error for i in self.issues) else 0


# --------------------------------------------------------------------------- loading


def load_report_json(path: Path, formats: Sequence[Format] = ()) -> list[Report]:
    """The one loader of reports saved as JSON: one report (``Report.to_json``) or the export
    of ``read``/``import``/``merge --json`` holding several."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"), parse_float=Decimal)
        if isinstance(data, dict) and isinstance(data.get("files"), list):
            return [Report.from_dict(f["report"], tuple(formats)) for f in data["files"]]
        return [Report.from_dict(data, tuple(formats))]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(
            f"{path.name} 不是可用的报告 JSON（{exc}）。请用 xls-gongkai read --json 或 import --json 重新导出"
        ) from exc


def _json_results(path: Path, formats: Sequence[Format]) -> list[Result]:
    try:
        reports = load_report_json(path, formats)
    except XlsGongkaiError as exc:
        return [unreadable(str(path), str(exc))]
    out = []
    for n, report in enumerate(reports, start=1):
        source = printable(str(path) if len(reports) == 1 else f"{path}#{n}")
        # A JSON report's cells are located where the template would put them.
        lay = layout_for(report.format)
        typed = frozenset(report.values)
        report = replace(report, values=engine(report.format).with_totals(report.values, keep=typed))
        checked = check_report(report, None, lay.locate, lay.locate_text, typed=typed)
        issues = tuple(replace(i, file=source) for i in checked)
        out.append(Result(report=report, issues=issues, source=source, container="json", located_by="json"))
    return out


def load_results(
    paths: Sequence[Path],
    *,
    formats: Sequence[Format] = (),
    jobs: int | None = None,
    progress: Progress | None = None,
    keep: Callable[[Result], Result] | None = None,
    **read: Any,
) -> list[Result]:
    """The results of the paths, in order: JSON reports loaded here (a JSON export may hold
    several), workbooks read in parallel."""
    results: dict[int, list[Result]] = {}
    books = [(i, p) for i, p in enumerate(paths) if p.suffix.lower() not in REPORT_SUFFIXES]
    for i, p in enumerate(paths):
        if p.suffix.lower() in REPORT_SUFFIXES:
            results[i] = _json_results(p, formats)
    done = len(results)

    def step(n: int, _total: int) -> None:
        if progress:
            progress(done + n, len(paths))

    if books:
        read_results = read_many(
            [p for _i, p in books], jobs=jobs, progress=step, keep=keep, formats=tuple(formats), **read
        )
        results.update((i, [r]) for (i, _p), r in zip(books, read_results, strict=True))
    return [r for i in range(len(paths)) for r in results[i]]


def load_report_file(path: Path, formats: Sequence[Format] = ()) -> Report:
    """One report from a JSON file, a filled workbook or summary, or a published document."""
    if not path.is_file():
        raise UsageError(f"找不到 {path}。请检查路径")
    if path.suffix.lower() in REPORT_SUFFIXES:
        return load_report_json(path, formats)[0]
    if path.suffix.lower() in BOOK_SUFFIXES:
        from xls_gongkai.reading.reader import read_workbook

        report = read_workbook(path, formats=formats).report
    else:
        from xls_gongkai.documents.importer import import_document

        report = import_document(path, formats=tuple(formats)).report
    if report is None:
        raise UsageError(f"无法从 {path} 读出报告数据。请先用 xls-gongkai check 或 import 检查该文件")
    return report


def load_previous(
    paths: Iterable[str | os.PathLike[str]], *, formats: Sequence[Format] = (), jobs: int | None = None
) -> list[Report]:
    """Last year's reports (workbooks, summaries, JSON) — the one loader of ``--previous``.

    A summary workbook made by merge also gives each of its units' figures (its 明细), so last
    year's county summary serves as every unit's previous year. Raises :class:`UsageError`
    naming the files that cannot be read.
    """
    inputs = collect(paths, suffixes=(*BOOK_SUFFIXES, *REPORT_SUFFIXES))
    results = load_results(list(inputs.files), formats=formats, jobs=jobs)
    bad = [Path(r.source).name for r in results if r.report is None]
    if bad:
        raise UsageError(f"上年数据无法读取：{'、'.join(bad)}。请检查 --previous 给出的文件")
    reports = [r.report for r in results if r.report is not None]
    for res in results:
        rep = res.report
        if rep is not None and rep.units > 1 and res.container in ("xlsx", "xlsm"):
            reports += read_detail(res.source, rep.format, rep.year)
    return reports


# --------------------------------------------------------------------------- batch checks


def _majority(results: Sequence[Result]) -> tuple[int, Format] | None:
    groups = Counter((r.report.year, r.report.format) for r in results if r.report is not None)
    if not groups:
        return None
    return max(groups.items(), key=lambda kv: (kv[1], kv[0][0]))[0]


def _odd_year(result: Result, year: int, fmt: Format) -> list[Issue]:
    """A file of another year or format than the batch (the same rule merge refuses by)."""
    rep = result.report
    if rep is None or any(i.code in (Code.YEAR_MISMATCH, Code.OTHER_FORMAT) for i in result.issues):
        return []
    who = {"file": result.source, "unit_code": rep.unit.code, "unit_name": rep.unit.name}
    if rep.year != year:
        return [issue(Code.YEAR_MISMATCH, found=str(rep.year), expected=str(year), **who)]
    if rep.format is not fmt:
        note = f"本文件使用的是“{rep.format.name}”格式，本批其他文件是“{fmt.name}”格式"
        return [issue(Code.OTHER_FORMAT, note=note, expected=fmt.id, found=rep.format.id, **who)]
    return []


def _roster_match(result: Result, index: RosterIndex, roster: Roster) -> tuple[Result, Unit | None, bool]:
    """The file's unit against the roster: its issues, and the roster's unit (code filled in)."""
    rep = result.report
    assert rep is not None
    u = rep.unit
    m = index.match(u)
    if m.unit is None and result.located_by == "labels" and (by_text := _unit_by_text(result, index)) is not None:
        return by_text
    if m.unit is None:
        outsider = issue(
            Code.NOT_IN_ROSTER,
            name=u.name or "（未填写）",
            code=u.code or "无",
            roster=Path(roster.source).name,
            file=result.source,
            unit_code=u.code,
            unit_name=u.name,
        )
        return result.with_issues(outsider), u, False
    if m.differs:
        if m.by == "code":
            note, found = f"单位代码 {u.code} 在名册中是“{m.differs}”，文件中写的是“{u.name}”", u.name
        else:
            note, found = f"“{u.name}”在名册中的代码是 {m.differs}，文件中写的是 {u.code}；已按名称对应", u.code
        who = {"file": result.source, "unit_code": m.unit.code, "unit_name": u.name}
        result = result.with_issues(issue(Code.ROSTER_MISMATCH, note=note, expected=m.differs, found=found, **who))
    elif not u.code:
        # A hand-made workbook names its unit but has no code: the roster supplies it.
        result = replace(result, report=replace(rep, unit=m.unit))
    return result, m.unit, True


def _unit_by_text(result: Result, index: RosterIndex) -> tuple[Result, Unit, bool] | None:
    """A workbook without our record that does not name a roster unit: the roster's unit its
    file name or the text above its tables (填报单位：柳河乡) names, with a warning saying so."""
    rep = result.report
    assert rep is not None
    name = Path(result.source).name
    heading = tuple(result.notes.get("heading", ()))
    found = index.mentioned((Path(name).stem, *heading))
    if found is None:
        return None
    unit, text = found
    where = f"文件名“{name}”" if text == Path(name).stem else f"表格上方的“{text}”"
    note = f"文件中没有写明名册中的单位，按{where}识别为 {unit.name}（{unit.code}）"
    issues = [
        replace(i, unit_code=unit.code, unit_name=unit.name)
        for i in result.issues
        if i.code not in (Code.UNIT_NAME_BLANK, Code.NOT_IN_ROSTER)
    ]
    issues.append(issue(Code.UNIT_FROM_NAME, note=note, file=result.source, unit_code=unit.code, unit_name=unit.name))
    return replace(result, report=replace(rep, unit=unit), issues=tuple(issues)), unit, True


def _duplicates(items: list[tuple[Result, Unit | None, bool]]) -> list[tuple[Result, Unit | None, bool]]:
    """Every file of a unit that sent more than one is flagged, naming the others."""
    groups: dict[str, list[int]] = {}
    for n, (_res, unit, _on) in enumerate(items):
        if unit is not None and (unit.code or unit.name):
            groups.setdefault(unit_key(unit), []).append(n)
    out = list(items)
    for members in groups.values():
        if len(members) < 2:
            continue
        names = [Path(items[n][0].source).name for n in members]
        for n in members:
            res, unit, on = items[n]
            assert unit is not None
            note = f"单位“{unit.name or unit.code}”交了 {len(members)} 份文件：{'、'.join(names)}"
            dup = issue(
                Code.DUPLICATE,
                note=note,
                action="请确认哪一份有效，删除其他的",
                file=res.source,
                unit_code=unit.code,
                unit_name=unit.name,
            )
            out[n] = (res.with_issues(dup), unit, on)
    return out


def _cross_year(result: Result, unit: Unit | None, previous: Mapping[str, Report]) -> Result:
    rep = result.report
    if rep is None or unit is None:
        return result
    prev = previous.get(unit_key(unit)) or previous.get(unit_key(rep.unit))
    if prev is None or prev.year != rep.year - 1:
        return result
    cells = result.cells

    def locate(key: tuple[str, str, str]) -> tuple[str, str]:
        return cells.get(key) or (rep.format.table(key[0]).sheet, "")

    locate_text = layout_for(rep.format).locate_text if result.located_by == "template" else None
    found = year_on_year_issues(rep, prev, locate, locate_text)
    stamped = (replace(i, file=result.source, unit_code=rep.unit.code, unit_name=rep.unit.name) for i in found)
    return result.with_issues(*stamped)


def _peers(items: list[tuple[Result, Unit | None, bool]]) -> list[tuple[Result, Unit | None, bool]]:
    """A unit's figures far from the other units' of the batch (the format's ``peers`` rules)."""
    readable = [(n, res.report, res.cells) for n, (res, _u, _on) in enumerate(items) if res.report is not None]

    def locator(cells: Mapping[CellKey, tuple[str, str]]) -> Callable[[CellKey], tuple[str, str]]:
        return lambda key: cells.get(key) or ("", "")

    found = peer_issues([(report, locator(cells)) for _n, report, cells in readable])
    out = list(items)
    for (n, _report, _cells), issues in zip(readable, found, strict=True):
        if issues:
            res, unit, on = items[n]
            rep = res.report
            assert rep is not None
            stamped = (replace(i, file=res.source, unit_code=rep.unit.code, unit_name=rep.unit.name) for i in issues)
            out[n] = (res.with_issues(*stamped), unit, on)
    return out


def _check_previous_year(previous: Sequence[Report], year: int) -> None:
    """Last year's data that is not of last year is a usage error, not a silent no-op."""
    years = {r.year for r in previous}
    if previous and year - 1 not in years:
        given = "、".join(str(y) for y in sorted(years))
        raise UsageError(
            f"--previous 应是 {year - 1} 年度的汇总或报告，而给出的是 {given} 年度。请给出上一年度的汇总表或各单位报表"
        )


def previous_by_unit(reports: Sequence[Report]) -> dict[str, Report]:
    """Last year's unit reports by unit key (by code and by name)."""
    out: dict[str, Report] = {}
    for rep in reports:
        if rep.units > 1:
            continue
        out.setdefault(unit_key(rep.unit), rep)
        if rep.unit.code and rep.unit.name:
            out.setdefault(unit_key(Unit("", rep.unit.name)), rep)
    return out


def status_of(result: Result, on_roster: bool) -> Status:
    if result.report is None:
        return Status.UNREADABLE
    if not on_roster:
        return Status.UNKNOWN
    codes = {i.code for i in result.issues}
    if Code.DUPLICATE in codes:
        return Status.DUPLICATE
    if Code.EMPTY in codes:
        return Status.EMPTY
    if any(i.is_error for i in result.issues):
        return Status.ERRORS
    if any(i.is_warning for i in result.issues):
        return Status.WARNINGS
    return Status.SUBMITTED


def check_batch(
    results: Sequence[Result],
    *,
    roster: Roster | None = None,
    previous: Sequence[Report] = (),
    skipped: Sequence[Skipped] = (),
) -> Batch:
    """What no single file can know, for results already read (see the module docstring)."""
    majority = _majority(results)
    if majority is not None:
        _check_previous_year(previous, majority[0])
        results = [r.with_issues(*odd) if (odd := _odd_year(r, *majority)) else r for r in results]
    index = RosterIndex(roster.units) if roster is not None else None
    items: list[tuple[Result, Unit | None, bool]] = []
    for res in results:
        if res.report is None:
            items.append((res, None, True))
        elif index is not None and roster is not None:
            items.append(_roster_match(res, index, roster))
        else:
            items.append((res, res.report.unit, True))
    items = _duplicates(items)
    prev = previous_by_unit(previous)
    if prev:
        items = [(_cross_year(res, unit, prev), unit, on) for res, unit, on in items]
    items = _peers(items)
    seen = {unit_key(u) for _r, u, on in items if u is not None and on}
    missing = tuple(u for u in roster.units if unit_key(u) not in seen) if roster is not None else ()
    return Batch(
        items=tuple(Item(res, unit, status_of(res, on), on) for res, unit, on in items),
        missing=missing,
        skipped=tuple(skipped),
        roster=roster,
    )


def run_batch(
    inputs: Iterable[str | os.PathLike[str]],
    *,
    roster: Roster | None = None,
    formats: Sequence[Format] = (),
    previous: Sequence[Report] = (),
    exclude: Iterable[str | os.PathLike[str]] = (),
    suffixes: Sequence[str] = BOOK_SUFFIXES,
    jobs: int | None = None,
    progress: Progress | None = None,
    keep: Callable[[Result], Result] | None = None,
    **read: Any,
) -> Batch:
    """Read every input and check the batch as a whole (see the module docstring).

    ``read`` keywords (``fmt``, ``year``, ``unit``, ``strict``) go to the reader. ``previous``
    are last year's reports (:func:`load_previous`). Never raises for one bad file.
    """
    found = collect(inputs, suffixes=suffixes, exclude=exclude)
    results = load_results(list(found.files), formats=formats, jobs=jobs, progress=progress, keep=keep, **read)
    return check_batch(results, roster=roster, previous=previous, skipped=found.skipped)
