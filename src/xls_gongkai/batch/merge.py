"""Merge: add up many units' reports into one summary, with completeness and every issue.

The core is :func:`sum_reports` — pure, exact (ints and Decimals) and associative, so a county
summary can be merged again one level up: ``merge(merge(A, B), C) == merge(A, B, C)``.
:func:`merge` reads the inputs (filled workbooks, folders, JSON reports, earlier summaries),
matches them against a roster, decides which units are summed (duplicates, units with errors,
units not on the roster) and collects every issue. :func:`write_summary` writes the summary
workbook (the template's own layout filled with the sums, plus 明细, 报送情况, 问题清单, 文字材料
and 图表 sheets), and :func:`write_tidy` the tidy CSV/Parquet export. Outputs are written
atomically and a re-run on the same inputs gives the same content.

Example::

    from xls_gongkai.batch.merge import merge, write_summary
    merged = merge(["乡镇报表/"], roster=units, unit=Unit("", "某某县汇总"))
    write_summary(merged, "汇总.xlsx")
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


class Status(StrEnum):
    """A unit's state in 报送情况."""

    SUBMITTED = "已报送"
    MISSING = "未报送"
    ERRORS = "有错误"
    DUPLICATE = "重复"
    UNKNOWN = "不在名单"
    UNREADABLE = "无法读取"


class MergeRefusedError(XlsGongkaiError):
    """``--on-error fail`` and some unit's data has errors: nothing was written."""

    exit_code = 1


# --------------------------------------------------------------------------- the sum


def sum_reports(
    reports: Iterable[Report], unit: Unit, year: int | None = None, *, format_id: str | None = None
) -> Report:
    """The cell-by-cell sum of ``reports`` as one report of ``unit``.

    Exact (ints stay ints, amounts are Decimals), associative and order-independent. A cell
    blank in every report stays blank; ``units`` is the sum of the reports' ``units`` (so a
    summary of summaries counts the townships). Texts are not summed. ``year`` and
    ``format_id`` default to the reports' own; all reports must share them.

    Raises :class:`UsageError` for reports of different years or formats, or for no reports
    and no ``format_id``.
    """
    reports = list(reports)
    years = {r.year for r in reports}
    formats = {r.format_id for r in reports}
    if len(years) > 1 or len(formats) > 1:
        raise UsageError(
            "不能把不同年度或不同格式的报告相加："
            + "、".join(sorted(f"{r.unit.name or r.unit.code}（{r.year} 年度，{r.format_id}）" for r in reports))
        )
    fid = format_id or (next(iter(formats)) if formats else None)
    if fid is None:
        raise UsageError("没有可汇总的报告：请给出至少一份报告，或指定格式。")
    fmt = get_format(fid)
    year_ = year if year is not None else (next(iter(years)) if years else fmt.year_from)
    groups = _group_keys(fmt.id)
    totals: dict[CellKey, Value] = {}
    stored_groups: set[CellKey] = set()
    units = 0
    for report in reports:
        units += report.units
        for key, v in report.values.items():
            if key in groups:
                stored_groups.add(key)
                continue
            totals[key] = totals[key] + v if key in totals else v
    # A group row stored as given by some report (a 2021 table printing （六）其他处理 as one
    # row) is summed as the group's value of every report — the leaves of the others included —
    # so the summary's group total is right and the sum stays associative.
    for key in sorted(stored_groups):
        g: Value = 0
        for report in reports:
            g += report.value(*key)
        totals[key] = g
    # Canonical form (a fractional count that sums to a whole number becomes an int again)
    # so that equal sums compare equal whatever the order of addition.
    values = {k: coerce_value(fmt.table(k[0]).cell_kind(k[1], k[2]), v) for k, v in totals.items()}
    return Report(unit=unit, year=year_, format_id=fid, values=values, texts={}, units=units)


@cache
def _group_keys(format_id: str) -> frozenset[CellKey]:
    """Keys of a format whose row or column is a group (their value is a sum of leaves)."""
    fmt = get_format(format_id)
    return frozenset(
        (t.id, rn.id, cn.id)
        for t in fmt.tables
        for rn in t.row_nodes.values()
        for cn in t.column_nodes.values()
        if not (rn.is_leaf and cn.is_leaf)
    )


# --------------------------------------------------------------------------- inputs


def collect_inputs(paths: Iterable[str | Path], *, exclude: Iterable[str | Path] = ()) -> list[Path]:
    """The input files named by ``paths``: files as given, folders searched recursively.

    Folders contribute files with a suffix of :data:`INPUT_SUFFIXES`, skipping Office lock
    files (``~$…``) and hidden files. Files in ``exclude`` (the outputs of this run) are left
    out. The result is sorted and free of repeats. Raises :class:`UsageError` for a path that
    does not exist.
    """
    skip = {Path(p).resolve() for p in exclude}
    found: dict[Path, Path] = {}
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for child in path.rglob("*"):
                if (
                    child.is_file()
                    and child.suffix.lower() in INPUT_SUFFIXES
                    and not child.name.startswith(("~$", "."))
                ):
                    found.setdefault(child.resolve(), child)
        elif path.is_file():
            found.setdefault(path.resolve(), path)
        else:
            raise UsageError(f"找不到输入：{path}。请检查文件或文件夹的路径。")
    return sorted((shown for real, shown in found.items() if real not in skip), key=lambda q: str(q))


def _unreadable(path: Path, message: str) -> Result:
    issue = Issue(code=Code.FILE_UNREADABLE, severity=Severity.ERROR, message=message, file=str(path), unit_name="")
    return Result(report=None, issues=[issue], source=str(path))


def _read_json(path: Path) -> Result:
    try:
        report = Report.from_json(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, XlsGongkaiError) as exc:
        return _unreadable(path, f"文件 {path} 不是可用的报告 JSON（{exc}）。请重新导出该报告。")
    # The reader checks a workbook's rules; a JSON report is checked here, located in the template.
    return Result(report=report, issues=[replace(i, file=str(path)) for i in check_report(report)], source=str(path))


def load_reports(paths: Sequence[Path], *, jobs: int | None = None, progress: Progress | None = None) -> list[Result]:
    """One :class:`Result` per path, in the order of ``paths``; never raises for one bad file.

    JSON files are read (and checked) here; workbooks by :func:`xls_gongkai.reading.reader.read_many`
    in parallel. ``progress(done, total)`` is called as files finish.
    """
    total = len(paths)
    results: dict[int, Result] = {}
    books = [(i, p) for i, p in enumerate(paths) if p.suffix.lower() != ".json"]
    done = 0
    for i, p in enumerate(paths):
        if p.suffix.lower() == ".json":
            results[i] = _read_json(p)
            done += 1
    if progress and done:
        progress(done, total)
    if books:
        for (i, _p), res in zip(
            books, _read_books([str(p) for _i, p in books], jobs, done, total, progress), strict=True
        ):
            results[i] = res
    return [results[i] for i in range(total)]


def _read_books(paths: list[str], jobs: int | None, done: int, total: int, progress: Progress | None) -> list[Result]:
    """The workbooks read by :func:`reader.read_many` in worker processes, slimmed there.

    Each worker keeps of each result only what a merge uses (:func:`_slim`): half the bytes
    sent back, and a 10,000-unit merge holds a third of the memory. Results come back in
    order, with ``progress`` as files finish.
    """
    from xls_gongkai.reading.reader import read_many

    def step(n: int, *_rest: object) -> None:
        if progress:
            progress(done + n, total)

    return read_many(paths, jobs=jobs, progress=step, keep=_slim)


def _slim(res: Result) -> Result:
    """What a merge needs of a read result: the report (its keys shared), issues, moved cells."""
    if res.report is None:
        return res
    moved = _moved_cells(res)
    keys = _canonical_keys(res.report.format_id)
    values = {keys.get(k, k): v for k, v in res.report.values.items()}
    return replace(res, report=replace(res.report, values=values), extra={"moved_cells": moved} if moved else {})


@cache
def _canonical_keys(format_id: str) -> Mapping[CellKey, CellKey]:
    # One key tuple per cell, shared by every report: results pickled together share them too.
    keys = [*get_format(format_id).cells(), *_group_keys(format_id)]
    return {k: k for k in keys}


# --------------------------------------------------------------------------- the merge


@dataclass(frozen=True)
class Submission:
    """One readable input: a unit's (or a lower summary's) report and its issues."""

    unit: Unit  # the roster's unit when it is on the roster, else the report's own
    report: Report
    file: str
    mtime: float
    issues: tuple[Issue, ...]
    included: bool = False
    #: Where the reader found values away from the template's layout ("t|r|c" → "表三!C8"),
    #: when rows or columns had moved; None when every value sits where the template puts it.
    cells: Mapping[str, str] | None = None

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.is_error)

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if not i.is_error)


@dataclass(frozen=True)
class Entry:
    """One line of 报送情况: a roster unit, a unit not on the roster, or an unreadable file."""

    unit: Unit
    status: Status
    files: tuple[str, ...] = ()
    mtimes: tuple[float, ...] = ()
    errors: int = 0
    warnings: int = 0
    included: bool = False
    note: str = ""


@dataclass(frozen=True)
class Merged:
    """The outcome of a merge: the summed report and everything the officer has to know."""

    report: Report
    #: 报送情况, in roster order, then units not on the roster, then unreadable files.
    entries: tuple[Entry, ...]
    #: Every readable submission in 明细 order (roster order, then by code and name).
    submissions: tuple[Submission, ...]
    #: Issues of the summed report itself (its checks, and R6–R8 against last year's total).
    total_issues: tuple[Issue, ...]
    #: Issues of the merge itself: duplicates, units not on the roster, missing units, unreadable files.
    merge_issues: tuple[Issue, ...]
    generated_at: dt.datetime
    on_error: OnError = "include"
    roster: tuple[Unit, ...] | None = None

    @property
    def included(self) -> tuple[Submission, ...]:
        return tuple(s for s in self.submissions if s.included)

    @property
    def issues(self) -> list[Issue]:
        """Every issue: the summary's, the merge's, then each unit's in 明细 order."""
        out = list(self.total_issues) + list(self.merge_issues)
        for s in self.submissions:
            out.extend(s.issues)
        return out

    def counts(self) -> dict[Status, int]:
        c = Counter(e.status for e in self.entries)
        return {s: c.get(s, 0) for s in Status}

    @property
    def complete(self) -> bool:
        """Every entry 已报送 and the summary's own checks pass."""
        return all(e.status is Status.SUBMITTED for e in self.entries) and not any(
            i.is_error for i in self.total_issues
        )


def _key(unit: Unit) -> str:
    return f"c:{unit.code}" if unit.code else f"n:{unit.name}"


def _with_rule_issues(res: Result, report: Report) -> tuple[Issue, ...]:
    """The result's issues (the reader and :func:`_read_json` have run the rule checks), located."""
    out = list(res.issues)
    if report.units > 1:
        # A summary made by merge has no text of its own (units' texts are not summed).
        out = [i for i in out if i.code != Code.TEXT_MISSING]
    unit = report.unit
    file = res.source
    return tuple(
        replace(
            i,
            unit_code=i.unit_code or unit.code,
            unit_name=i.unit_name or unit.name,
            file=i.file or file,
        )
        for i in out
    )


def _moved_cells(res: Result) -> Mapping[str, str] | None:
    """The cells where the reader found values away from the template's layout (tables moved)."""
    extra = res.extra or {}
    if "moved_cells" in extra:  # already slimmed in a worker
        moved_cells: Mapping[str, str] | None = extra["moved_cells"]
        return moved_cells
    cells = extra.get("cells")
    if res.report is None or not isinstance(cells, Mapping):
        return None
    # Only the differences are kept: 10,000 copies of the layout would cost memory.
    layout = _layout_cells(res.report.format_id)
    moved = {k: v for k, v in cells.items() if layout.get(k) != v}
    return moved or None


@cache
def _layout_cells(format_id: str) -> Mapping[str, str]:
    """``"t|r|c"`` → ``"表三!C7"`` for every value cell of the template's layout."""
    from xls_gongkai.workbook.layout import layout_for

    fmt = get_format(format_id)
    lay = layout_for(fmt)
    return {f"{t}|{r}|{c}": f"{lay.pos(t, r, c).sheet}!{lay.pos(t, r, c).a1}" for t, r, c in fmt.cells()}


def _refuse_mixed(results: Sequence[Result]) -> None:
    groups: dict[tuple[int, str], list[Result]] = {}
    for res in results:
        if res.report is not None:
            groups.setdefault((res.report.year, res.report.format_id), []).append(res)
    if len(groups) <= 1:
        return
    (year, fid), _ = max(groups.items(), key=lambda kv: (len(kv[1]), kv[0][0], kv[0][1]))
    odd = [
        f"{Path(r.source).name}（{k[0]} 年度，{k[1]}）"
        for k, rs in sorted(groups.items())
        if k != (year, fid)
        for r in rs
    ]
    raise UsageError(
        f"输入不是同一年度、同一格式的报告：多数为 {year} 年度（{fid}），以下文件不同：{'；'.join(odd)}。"
        "请移出这些文件后重新汇总。"
    )


def merge_results(
    results: Sequence[Result],
    *,
    unit: Unit | None = None,
    roster: Sequence[Unit] | None = None,
    on_error: OnError = "include",
    prefer: Literal["newest"] | None = None,
    previous: Sequence[Result] = (),
    mtimes: Mapping[str, float] | None = None,
) -> Merged:
    """Merge already-read results (see :func:`merge` for the meaning of the options)."""
    if on_error not in ("include", "exclude", "fail"):
        raise UsageError(f"--on-error 只能是 include、exclude 或 fail，而不是 {on_error!r}。")
    _refuse_mixed(results)
    mtimes = dict(mtimes or {})
    roster_t = tuple(roster) if roster is not None else None
    index = RosterIndex(roster_t or ())
    by_key = {_key(u) for u in roster_t or ()}

    subs: list[Submission] = []
    unreadable: list[Result] = []
    for res in results:
        if res.report is None:
            unreadable.append(res)
            continue
        own = res.report.unit
        issues = _with_rule_issues(res, res.report)
        # By code, else by name — the same matching as check --roster (roster.RosterIndex).
        m = index.match(own)
        matched = m.unit
        if matched is not None and m.by == "name" and m.differs:
            # A code the roster does not know, and the name on the roster: it is likely a
            # typing slip in the roster or the file.
            issues += (
                Issue(
                    code=Code.UNIT_MISMATCH,
                    severity=Severity.WARNING,
                    message=f"文件中“{own.name}”的单位代码是 {own.code}，名单中是 {matched.code}；已按名称对应。"
                    "请核对代码。",
                    unit_code=matched.code,
                    unit_name=matched.name,
                    file=res.source,
                    expected=matched.code,
                    found=own.code,
                ),
            )
        subs.append(
            Submission(
                unit=matched or own,
                report=res.report,
                file=res.source,
                mtime=mtimes.get(res.source, _mtime(res.source)),
                issues=issues,
                cells=_moved_cells(res),
            )
        )

    prev_total, prev_by_key = _previous(previous, results_year(results))
    if prev_by_key:
        subs = [_with_previous(s, prev_by_key) for s in subs]

    groups: dict[str, list[Submission]] = {}
    for s in subs:
        groups.setdefault(_key(s.unit), []).append(s)

    merge_issues: list[Issue] = []
    entries: dict[str, Entry] = {}
    chosen: dict[str, Submission] = {}
    refused: list[str] = []
    for k, group in groups.items():
        group.sort(key=lambda s: (s.mtime, s.file))
        u = group[0].unit
        files = tuple(s.file for s in group)
        times = tuple(s.mtime for s in group)
        on_roster = roster_t is None or k in by_key
        if not on_roster:
            for s in group:
                merge_issues.append(
                    Issue(
                        code=Code.NOT_IN_ROSTER,
                        severity=Severity.WARNING,
                        message=f"单位“{u.name}”（代码 {u.code or '无'}）不在名单中，未计入汇总。"
                        "请核对单位代码，或把它加入名单。",
                        unit_code=u.code,
                        unit_name=u.name,
                        file=s.file,
                    )
                )
            entries[k] = Entry(u, Status.UNKNOWN, files, times, *_counts(group), note="不在名单，未计入汇总")
            continue
        if len(group) > 1:
            use = group[-1] if prefer == "newest" else None
            merge_issues.append(
                Issue(
                    code=Code.DUPLICATE,
                    severity=Severity.ERROR,
                    message=f"单位“{u.name}”有 {len(group)} 份文件：{'、'.join(Path(f).name for f in files)}。"
                    + (
                        f"已采用最新的 {Path(use.file).name}。"
                        if use
                        else "均未计入汇总；请删除多余的文件，或用 --prefer newest 采用最新的一份。"
                    ),
                    unit_code=u.code,
                    unit_name=u.name,
                    file=files[-1],
                )
            )
            note = f"采用最新的 {Path(use.file).name}" if use else "多份文件，均未计入汇总"
            if use is not None and use.errors:
                # The newest file is judged like any other: --on-error applies to it.
                if on_error == "fail":
                    refused.append(f"{u.name or u.code}（{Path(use.file).name}，{use.errors} 个错误）")
                if on_error == "exclude":
                    use = None
                    note += "；它有错误，未计入汇总"
                else:
                    note += "；它有错误，已计入汇总"
            if use is not None:
                chosen[k] = use
            errs, warns = _counts([use] if use else group)
            entries[k] = Entry(u, Status.DUPLICATE, files, times, errs, warns, use is not None, note)
            continue
        s = group[0]
        if s.errors:
            if on_error == "fail":
                refused.append(f"{u.name or u.code}（{Path(s.file).name}，{s.errors} 个错误）")
            include = on_error == "include"
            entries[k] = Entry(
                u,
                Status.ERRORS,
                files,
                times,
                s.errors,
                s.warnings,
                include,
                "有错误，已计入汇总" if include else "有错误，未计入汇总",
            )
            if include:
                chosen[k] = s
            continue
        entries[k] = Entry(u, Status.SUBMITTED, files, times, 0, s.warnings, True)
        chosen[k] = s

    merge_issues.extend(_drop_overlapping_summaries(chosen, entries))

    for res in unreadable:
        if on_error == "fail":
            refused.append(f"{Path(res.source).name}（无法读取）")
        merge_issues.extend(res.issues)

    if refused:
        raise MergeRefusedError(
            "以下单位的数据有错误，按 --on-error fail 停止汇总，未写出任何文件：" + "；".join(refused) + "。"
            "请让这些单位改正后重新报送，或改用 --on-error include/exclude。"
        )

    ordered_keys: list[str] = []
    seen: set[str] = set()  # a set beside the list: a 10,000-unit roster must not cost n² lookups
    if roster_t is not None:
        for u in roster_t:
            k = _key(u)
            if k in seen:
                continue
            seen.add(k)
            ordered_keys.append(k)
            if k not in entries:
                entries[k] = Entry(u, Status.MISSING)
                merge_issues.append(
                    Issue(
                        code=NOT_SUBMITTED,
                        severity=Severity.WARNING,
                        message=f"单位“{u.name}”（代码 {u.code or '无'}）未报送。",
                        unit_code=u.code,
                        unit_name=u.name,
                    )
                )
    rest = sorted((k for k in entries if k not in seen), key=lambda k: (entries[k].unit, k))
    ordered_keys.extend(rest)

    ordered_subs: list[Submission] = []
    for k in ordered_keys:
        for s in groups.get(k, []):
            ordered_subs.append(replace(s, included=chosen.get(k) is s))
    ordered_entries = [entries[k] for k in ordered_keys]
    for res in sorted(unreadable, key=lambda r: r.source):
        ordered_entries.append(
            Entry(
                Unit("", ""),
                Status.UNREADABLE,
                (res.source,),
                (mtimes.get(res.source, _mtime(res.source)),),
                len(res.issues),
                0,
                False,
                res.issues[0].message if res.issues else "无法读取",
            )
        )

    year = results_year(results)
    fid = next((r.report.format_id for r in results if r.report is not None), None)
    if fid is None and not unreadable:
        raise UsageError("没有可汇总的报告：输入中没有任何单位的报表。")
    if fid is None:
        names = "；".join(i.message for r in unreadable[:3] for i in r.issues[:1])
        more = f"（共 {len(unreadable)} 个文件）" if len(unreadable) > 3 else ""
        raise UsageError(f"没有一个文件能读取为报告{more}：{names}")
    target = unit or Unit("", "汇总")
    total = sum_reports([s.report for s in ordered_subs if s.included], target, year, format_id=fid)
    total_issues = list(check_report(total))
    if prev_total is not None:
        total_issues.extend(cross_year_issues(total, prev_total))
    all_times = [s.mtime for s in subs] + [e.mtimes[0] for e in ordered_entries if e.status is Status.UNREADABLE]
    generated = dt.datetime.fromtimestamp(max(all_times), dt.UTC).replace(microsecond=0) if all_times else _EPOCH
    return Merged(
        report=total,
        entries=tuple(ordered_entries),
        submissions=tuple(ordered_subs),
        total_issues=tuple(total_issues),
        merge_issues=tuple(merge_issues),
        generated_at=generated,
        on_error=on_error,
        roster=roster_t,
    )


_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _drop_overlapping_summaries(chosen: dict[str, Submission], entries: dict[str, Entry]) -> list[Issue]:
    """Leave out a summary whose 明细 lists a unit that is also summed on its own.

    An earlier summary left in the folder of the units' files (or a county summary merged
    together with one of its townships) would otherwise count those units twice. The units'
    own files are kept; the summary is flagged 重复 and not summed.
    """
    issues: list[Issue] = []
    for k, s in sorted(chosen.items()):
        if s.report.units <= 1 or not s.file.lower().endswith((".xlsx", ".xlsm")):
            continue
        members = {_key(r.unit): r.unit for r in detail_reports(s.file, s.report)}
        overlap = sorted(m for m in members if m != k and m in chosen and chosen[m].report.units == 1)
        if not overlap:
            continue
        names = "、".join(members[m].name or members[m].code for m in overlap[:5])
        more = f"等 {len(overlap)} 个单位" if len(overlap) > 5 else ""
        del chosen[k]
        entries[k] = replace(
            entries[k], status=Status.DUPLICATE, included=False, note=f"汇总表含已单独报送的{names}{more}，未计入汇总"
        )
        issues.append(
            Issue(
                code=Code.DUPLICATE,
                severity=Severity.ERROR,
                message=f"汇总表 {Path(s.file).name}（{s.report.units} 个单位）包含已单独报送的{names}{more}，"
                "为免重复计算未计入汇总。请只给出汇总表或只给出各单位的报表。",
                unit_code=s.unit.code,
                unit_name=s.unit.name,
                file=s.file,
            )
        )
    return issues


def results_year(results: Sequence[Result]) -> int | None:
    return next((r.report.year for r in results if r.report is not None), None)


def _counts(group: Sequence[Submission]) -> tuple[int, int]:
    return sum(s.errors for s in group), sum(s.warnings for s in group)


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def _previous(previous: Sequence[Result], year: int | None) -> tuple[Report | None, dict[str, Report]]:
    """Last year's total, and last year's unit reports by unit key (for R6–R8)."""
    prev_reports = [r.report for r in previous if r.report is not None]
    if not prev_reports:
        return None, {}
    years = {r.year for r in prev_reports}
    if year is not None and years != {year - 1}:
        raise UsageError(
            f"--previous 应是 {year - 1} 年度的汇总或报告，而给出的是 "
            + "、".join(str(y) for y in sorted(years))
            + " 年度。请给出上一年度的汇总表或各单位报表。"
        )
    _refuse_mixed(previous)
    # Last year's total is its summaries when there are any, else the sum of its unit reports.
    summaries = [r for r in prev_reports if r.units > 1]
    prev_total = sum_reports(summaries or prev_reports, Unit("", "上年汇总"))
    by_key: dict[str, Report] = {}
    for r in prev_reports:
        if r.units <= 1:
            by_key.setdefault(_key(r.unit), r)
    # Last year's summary made by merge also holds each unit's figures (明细): per-unit checks too.
    for res in previous:
        if res.report is not None and res.report.units > 1 and res.source.lower().endswith(".xlsx"):
            for r in detail_reports(res.source, res.report):
                by_key.setdefault(_key(r.unit), r)
    return prev_total, by_key


def detail_reports(path: str | Path, summary: Report) -> list[Report]:
    """The units' reports listed in the 明细 sheet of a summary workbook written by merge.

    Columns are recognised by their labels (row path, column path) under each table's title,
    so the function reads what :meth:`_Sheets.detail` writes. A workbook without 明细, or one
    that cannot be read, gives no reports (last year's per-unit checks are then skipped).
    """
    from python_calamine import CalamineWorkbook

    fmt = summary.format
    try:
        grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("明细").to_python(skip_empty_area=False)
    except Exception:  # no 明细 sheet, or not readable: nothing to add
        return []
    titles = {_detail_title(t): t for t in fmt.tables}
    top = next((i for i, row in enumerate(grid) if row and str(row[0]).strip() == "单位代码"), None)
    if top is None or top + 2 >= len(grid):
        return []
    # The table title stands in the first column of its merged block: carry it to the right.
    # So does a row label over its columns.
    cols: dict[int, tuple[str, str, str]] = {}
    table = None
    row_label = ""
    for c in range(2, len(grid[top])):
        title = str(grid[top][c]).strip()
        if title:
            table = titles.get(title)
            row_label = ""
        if table is None:
            continue
        row_label = str(grid[top + 1][c]) or row_label
        label = (row_label, str(grid[top + 2][c]))
        for rn in table.leaf_rows:
            for cn in table.leaf_columns:
                if (rn.path_text or table.title, cn.path_text) == label:
                    cols[c] = (table.id, rn.id, cn.id)
    units: dict[tuple[str, str], dict[CellKey, Value]] = {}
    order: list[tuple[str, str]] = []
    for row in grid[top + 3 :]:
        if len(row) < 2 or str(row[1]).strip() in ("合计", ""):
            break
        code, name = str(row[0]).strip(), str(row[1]).strip()
        if (code, name) not in units:
            units[(code, name)] = {}
            order.append((code, name))
        values = units[(code, name)]
        for c, key in cols.items():
            v = row[c] if c < len(row) else ""
            if isinstance(v, int | float) and not isinstance(v, bool):
                values[key] = coerce_value(fmt.table(key[0]).cell_kind(key[1], key[2]), v)
    return [Report(Unit(code, name), summary.year, summary.format_id, units[(code, name)]) for code, name in order]


def _with_previous(s: Submission, prev_by_key: Mapping[str, Report]) -> Submission:
    prev = prev_by_key.get(_key(s.unit)) or prev_by_key.get(_key(s.report.unit))
    if prev is None:
        return s
    extra = tuple(
        replace(i, file=s.file, unit_code=s.unit.code or i.unit_code, unit_name=s.unit.name or i.unit_name)
        for i in cross_year_issues(s.report, prev)
    )
    return replace(s, issues=s.issues + extra) if extra else s


def cross_year_issues(report: Report, previous: Report) -> list[Issue]:
    """The cross-year warnings (R6–R8) of ``report`` against last year's ``previous``.

    Last year may be of the other format (2020 reports use the 2019 format, 2021 the 2021
    one): a cross-year rule is checked only when every cell it needs from last year exists in
    last year's format; last year's values are then carried over by their ids.
    """
    fmt, pfmt = report.format, previous.format
    usable: set[str] = set()
    unusable: set[str] = set()
    for check in expand(fmt):
        if check.rule.kind is not RuleKind.PREVIOUS:
            continue
        ok = all(
            (pt := pfmt.table_map.get(t)) is not None and r in pt.row_nodes and c in pt.column_nodes
            for _sign, prev, t, r, c in check.lhs + check.rhs
            if prev
        )
        (usable if ok else unusable).add(check.rule.id)
    usable -= unusable
    if not usable:
        return []
    if pfmt.id != fmt.id:
        known = set(fmt.cells()) | _group_keys(fmt.id)
        previous = Report(
            previous.unit,
            previous.year,
            fmt.id,
            {k: v for k, v in previous.values.items() if k in known},
            units=previous.units,
        )
    return [i for i in check_report(report, previous=previous) if i.code in usable]


def merge(
    inputs: Iterable[str | Path],
    *,
    unit: Unit | None = None,
    roster: Sequence[Unit] | None = None,
    on_error: OnError = "include",
    prefer: Literal["newest"] | None = None,
    previous: Iterable[str | Path] = (),
    exclude: Iterable[str | Path] = (),
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Merged:
    """Read every input and merge the units into one summary.

    ``inputs`` are workbooks, JSON reports, earlier summaries, or folders (searched
    recursively). ``roster`` lists the units expected (报送情况 follows its order; units not
    on it are flagged and not summed). Units with two files are flagged and not summed unless
    ``prefer="newest"``. ``on_error`` says whether units with errors are summed (``include``,
    flagged), left out (``exclude``) or stop the merge (``fail``: raises
    :class:`MergeRefusedError`). ``previous`` — last year's summary or reports — adds the
    cross-year warnings R6–R8 per unit and for the total. ``exclude`` names files never to read
    (the outputs of this run).

    Raises :class:`UsageError` when the inputs mix years or formats (naming the odd files),
    or when an input does not exist.
    """
    paths = collect_inputs(inputs, exclude=exclude)
    if not paths:
        raise UsageError("没有找到可汇总的文件（.xlsx、.xls、.ods、.json）。请检查输入的文件或文件夹。")
    prev_results: list[Result] = []
    prev_list = list(previous)
    if prev_list:
        # Last year's files first: a wrong --previous is reported before the long read.
        prev_paths = collect_inputs(prev_list)
        prev_results = load_reports(prev_paths, jobs=jobs)
        bad = [r.source for r in prev_results if r.report is None]
        if bad:
            raise UsageError(f"上年数据无法读取：{'、'.join(bad)}。请检查 --previous 给出的文件。")
    results = load_reports(paths, jobs=jobs, progress=progress)
    return merge_results(
        results,
        unit=unit,
        roster=roster,
        on_error=on_error,
        prefer=prefer,
        previous=prev_results,
        mtimes={str(p): _mtime(str(p)) for p in paths},
    )


# --------------------------------------------------------------------------- tidy export

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def escape_csv_text(text: str) -> str:
    """A text cell made inert for spreadsheet programs opening a CSV (formula injection)."""
    return "'" + text if text.startswith(_DANGEROUS) else text


def tidy_frame(merged: Merged) -> pd.DataFrame:
    """Every summed unit's values, one row per value cell: :data:`TIDY_EXPORT_COLUMNS`."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    layout_cells = _layout_cells(merged.report.format_id)
    for s in merged.included:
        report = replace(s.report, unit=s.unit) if s.unit != s.report.unit else s.report
        # A JSON report has no cells; a workbook's are the layout's unless its tables had moved.
        json = s.file.lower().endswith(".json")
        moved = s.cells or {}
        for row in report.tidy_rows():
            key = f"{row['table']}|{row['row']}|{row['column']}"
            row["file"] = s.file
            row["cell"] = "" if json else moved.get(key) or layout_cells.get(key, "")
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(TIDY_EXPORT_COLUMNS))
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["year"] = frame["year"].astype("int64")
    return frame


def write_tidy(merged: Merged, path: str | Path) -> Path:
    """Write the tidy export as CSV (UTF-8 with BOM, text escaped) or Parquet, by suffix."""
    import pandas as pd

    out = Path(path)
    frame = tidy_frame(merged)
    if out.suffix.lower() == ".parquet":
        with _atomic(out) as tmp:
            frame.to_parquet(tmp, index=False)
        return out
    text_cols = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    for c in text_cols:
        frame[c] = frame[c].map(lambda v: escape_csv_text(v) if isinstance(v, str) else v)
    with _atomic(out) as tmp:
        # BOM so that Excel and WPS open the Chinese labels correctly.
        frame.to_csv(tmp, index=False, encoding="utf-8-sig")
    return out


@contextmanager
def _atomic(target: Path) -> Iterator[Path]:
    """A temporary path next to ``target``, moved onto it with :func:`os.replace` on success.

    Raises :class:`UsageError` (naming the file) when it cannot be written or replaced — on
    Windows most often because the old file is open in Excel or WPS.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise UsageError(f"无法在 {target.parent} 中写入文件（{exc.strerror or exc}）。请换一个输出位置。") from exc
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); give it the permissions a normal new file gets.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(
            f"无法写入 {target}（{exc.strerror or exc}）。如果它正在 Excel 或 WPS 中打开，请关闭后重试。"
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
