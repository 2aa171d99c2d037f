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
from xls_gongkai.collection import Entry, Merged, OnError, Status, Submission
from xls_gongkai.issues import Code, Issue, Result
from xls_gongkai.output import atomic_path as _atomic
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


