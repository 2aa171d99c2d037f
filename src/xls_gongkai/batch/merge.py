"""Merge a collection into one summary: who sent what, which files count, and their exact sum.

:func:`merge` reads the inputs through the same batch pipeline as ``check`` (so both agree on
roster, duplicates, years and statuses), then decides per unit which file is summed
(:func:`decide`), and adds the included reports cell by cell (:func:`sum_reports`: exact,
associative, order-independent). The result is a :class:`~xls_gongkai.collection.Merged`, which
:func:`xls_gongkai.workbook.summary.write_summary` writes as a workbook that is itself a filled
template (and can be merged again, one level up).

Example::

    from xls_gongkai.batch.merge import merge
    from xls_gongkai.batch.roster import load_roster
    from xls_gongkai.report import Unit
    from xls_gongkai.workbook.summary import write_summary

    merged = merge(["乡镇报表/"], roster=load_roster("名册.csv"), unit=Unit("", "某某县汇总"))
    write_summary(merged, "汇总.xlsx")
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from xls_gongkai.batch.inputs import BOOK_SUFFIXES, REPORT_SUFFIXES, saved_at
from xls_gongkai.batch.pipeline import Batch, Item, load_previous, run_batch, unit_key
from xls_gongkai.batch.roster import Roster
from xls_gongkai.collection import Entry, Merged, OnError, Status, Submission
from xls_gongkai.errors import UsageError, XlsGongkaiError, printable
from xls_gongkai.issues import Code, Issue, Result, issue
from xls_gongkai.numbers import Value, coerce_value
from xls_gongkai.reading.detail import read_detail
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import check_report, engine, year_on_year_issues
from xls_gongkai.spec import CellKey, Format
from xls_gongkai.workbook.layout import layout_for

__all__ = ["MergeRefusedError", "decide", "merge", "merge_batch", "sum_reports"]

Prefer = Literal["newest"] | None


class MergeRefusedError(XlsGongkaiError):
    """``--on-error fail`` and some unit's data has errors: nothing was written."""

    exit_code = 1


# --------------------------------------------------------------------------- the sum


def sum_reports(reports: Iterable[Report], unit: Unit, year: int | None = None, *, fmt: Format | None = None) -> Report:
    """The cell-by-cell sum of ``reports`` as one report of ``unit``.

    Exact (ints stay ints, amounts are Decimals), associative and order-independent. An input
    cell blank in every report stays blank; the computed totals are the sums of the summed
    parts (as the summary workbook's formulas are), not the sums of the units' totals; ``units`` is the sum of the reports' ``units`` (so a
    summary of summaries counts the townships); texts are not summed; the units' 说明 travel
    up, each marked with its unit. All reports must share year and format.

    Raises :class:`UsageError` for reports of different years or formats, or for no reports
    and no ``fmt``.
    """
    reports = list(reports)
    if len({r.year for r in reports}) > 1 or len({id(r.format) for r in reports}) > 1:
        odd = "、".join(sorted(f"{r.unit.name or r.unit.code}（{r.year} 年度，{r.format.name}）" for r in reports))
        raise UsageError(f"不能把不同年度或不同格式的报告相加：{odd}")
    fmt = fmt or (reports[0].format if reports else None)
    if fmt is None:
        raise UsageError("没有可汇总的报告：请给出至少一份报告，或指定格式。")
    totals: dict[CellKey, Value] = {}
    stored_groups: set[CellKey] = set()
    for report in reports:
        for key, v in report.values.items():
            if key in fmt.group_keys:
                stored_groups.add(key)
            else:
                totals[key] = totals[key] + v if key in totals else v
    # A group row stored as given by some report (（六）其他处理 printed as one row) is summed as
    # the group's value of every report — the leaves of the others included — so the summary's
    # group total is right and the sum stays associative.
    for key in stored_groups:
        totals[key] = sum((r.value(*key) for r in reports), start=0)
    # Canonical form (a fractional count that sums to a whole number becomes an int again), so
    # that equal sums compare equal whatever the order of addition.
    values = {k: coerce_value(fmt.table(k[0]).cell_kind(k[1], k[2]), v) for k, v in totals.items()}
    # The summary's totals are the sums of its parts, as its workbook's formulas compute them: a
    # unit's typed-over total (an error in that unit's report) is not carried into the county's.
    eng = engine(fmt)
    full = eng.with_totals(values, keep=stored_groups)
    values = {k: full.get(k, v) if k in eng.computed else v for k, v in values.items()}
    explanations = tuple(
        e if e.unit.name or e.unit.code else replace(e, unit=r.unit) for r in reports for e in r.explanations
    )
    year_ = year if year is not None else (reports[0].year if reports else fmt.year_from)
    return Report(unit, year_, fmt, values, {}, sum(r.units for r in reports), explanations)


# --------------------------------------------------------------------------- deciding per unit


#: ``Result.notes`` key of :func:`saved_at`'s answer, found by the worker that read the file.
_SAVED = "saved_at"


def _file_of(source: str) -> str:
    """The file a source names (a report of a JSON file of many is ``file#n``)."""
    return source.split("#")[0]


def _with_saved_time(result: Result) -> Result:
    """The file's save time looked up in the worker process that read it (a ``keep`` of
    :func:`~xls_gongkai.batch.pipeline.run_batch`), so that the main process, which then has
    the summary to write, does not open every file again."""
    return replace(result, notes={**result.notes, _SAVED: saved_at(_file_of(result.source))})


def _submission(item: Item, times: Mapping[str, float] | None) -> Submission:
    res = item.result
    assert res.report is not None
    assert item.unit is not None
    issues = tuple(res.issues)
    if res.report.units > 1:
        # A summary made by merge has no text of its own (units' texts are not summed).
        issues = tuple(i for i in issues if i.code != Code.TEXT_MISSING)
    if times is not None and res.source in times:
        saved, source = times[res.source], "提交时间"
    elif _SAVED in res.notes:
        saved, source = res.notes[_SAVED]
    else:
        saved, source = saved_at(_file_of(res.source))
    return Submission(item.unit, res.report, res.source, saved, issues, cells=res.cells, time_source=source)


@dataclass(frozen=True)
class Decision:
    entry: Entry
    chosen: Submission | None
    refused: str = ""


def _files(group: Sequence[Submission]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    return tuple(s.file for s in group), tuple(s.mtime for s in group)


def _data_errors(s: Submission) -> int:
    """Errors in the file's data (a second file of the unit is decided by ``prefer``, not here)."""
    return sum(1 for i in s.issues if i.is_error and i.code != Code.DUPLICATE)


def _judge(s: Submission, on_error: OnError) -> tuple[bool, str, str]:
    """Whether a unit's file with errors is summed, the note, and a refusal (``fail``)."""
    errors = _data_errors(s)
    if not errors:
        return True, "", ""
    refused = f"{s.unit.name or s.unit.code}（{Path(s.file).name}，{errors} 个错误）" if on_error == "fail" else ""
    include = on_error == "include"
    return include, "有错误，已计入汇总" if include else "有错误，未计入汇总", refused


def decide(group: Sequence[Submission], *, on_roster: bool, on_error: OnError, prefer: Prefer) -> Decision:
    """Which of a unit's files is summed, and the unit's line in 报送情况."""
    u = group[0].unit
    files, times = _files(group)
    errs, warns = sum(s.errors for s in group), sum(s.warnings for s in group)
    if not on_roster:
        return Decision(Entry(u, Status.UNKNOWN, files, times, errs, warns, False, "不在名单，未计入汇总"), None)
    if len(group) > 1:
        if prefer != "newest":
            return Decision(
                Entry(u, Status.DUPLICATE, files, times, errs, warns, False, "多份文件，均未计入汇总"), None
            )
        use = max(group, key=lambda s: (s.mtime, s.file))
        include, note, refused = _judge(use, on_error)
        note = f"采用最新保存的 {Path(use.file).name}（按{use.time_source}）" + (f"；{note}" if note else "")
        entry = Entry(u, Status.DUPLICATE, files, times, _data_errors(use), use.warnings, include, note)
        return Decision(entry, use if include else None, refused)
    s = group[0]
    if any(i.code == Code.EMPTY for i in s.issues):
        return Decision(Entry(u, Status.EMPTY, files, times, s.errors, s.warnings, False, "空白模板，未计入汇总"), None)
    include, note, refused = _judge(s, on_error)
    status = Status.ERRORS if s.errors else Status.WARNINGS if s.warnings else Status.SUBMITTED
    return Decision(
        Entry(u, status, files, times, s.errors, s.warnings, include, note), s if include else None, refused
    )


def _overlapping(chosen: dict[str, Submission]) -> dict[str, tuple[Submission, list[Unit]]]:
    """Summaries whose 明细 lists a unit that is also summed on its own (it would count twice)."""
    out: dict[str, tuple[Submission, list[Unit]]] = {}
    for k, s in sorted(chosen.items()):
        if s.report.units <= 1 or not s.file.lower().endswith((".xlsx", ".xlsm")):
            continue
        members = {unit_key(r.unit): r.unit for r in read_detail(s.file, s.report.format, s.report.year)}
        overlap = [members[m] for m in sorted(members) if m != k and m in chosen and chosen[m].report.units == 1]
        if overlap:
            out[k] = (s, overlap)
    return out


def _drop_overlaps(chosen: dict[str, Submission], entries: dict[str, Entry]) -> list[Issue]:
    issues: list[Issue] = []
    for k, (s, overlap) in _overlapping(chosen).items():
        names = "、".join(u.name or u.code for u in overlap[:5]) + (
            f"等 {len(overlap)} 个单位" if len(overlap) > 5 else ""
        )
        del chosen[k]
        entries[k] = replace(
            entries[k], status=Status.DUPLICATE, included=False, note=f"汇总表含已单独报送的{names}，未计入汇总"
        )
        note = f"汇总表 {Path(s.file).name}（{s.report.units} 个单位）包含已单独报送的{names}，为免重复计算未计入汇总"
        issues.append(issue(Code.SUMMARY_OVERLAP, note=note, unit_code=s.unit.code, unit_name=s.unit.name, file=s.file))
    return issues


# --------------------------------------------------------------------------- the merge


def _refuse_mixed(batch: Batch) -> None:
    odd = [
        f"{Path(it.source).name}（{it.result.report.year} 年度，{it.result.report.format.name}）"
        for it in batch.items
        if it.result.report is not None
        and any(i.code in (Code.YEAR_MISMATCH, Code.OTHER_FORMAT) for i in it.result.issues)
    ]
    if odd:
        raise UsageError(
            f"输入不是同一年度、同一格式的报告，以下文件与其他文件不同：{'；'.join(odd)}。请移出这些文件后重新汇总。"
        )


def _ordered(entries: dict[str, Entry], roster: Roster | None) -> list[str]:
    keys = list(dict.fromkeys(unit_key(u) for u in roster.units)) if roster is not None else []
    listed = set(keys)
    return keys + sorted((k for k in entries if k not in listed), key=lambda k: (entries[k].unit, k))


def _total(
    subs: Sequence[Submission], unit: Unit, fmt: Format, year: int, previous: Sequence[Report]
) -> tuple[Report, list[Issue]]:
    total = sum_reports([s.report for s in subs if s.included], unit, year, fmt=fmt)
    lay = layout_for(fmt)
    issues = check_report(total, None, lay.locate, None)
    prev = [r for r in previous if r.year == year - 1]
    if prev:
        # Last year's total: its summaries when there are any, else the sum of its unit reports.
        summaries = [r for r in prev if r.units > 1]
        by_format = [r for r in (summaries or prev) if r.format is prev[0].format]
        issues += year_on_year_issues(total, sum_reports(by_format, Unit("", "上年汇总")), lay.locate)
    return total, issues


def merge_batch(
    batch: Batch,
    *,
    unit: Unit | None = None,
    on_error: OnError = "include",
    prefer: Prefer = None,
    previous: Sequence[Report] = (),
    times: Mapping[str, float] | None = None,
) -> Merged:
    """Merge an already-read batch (see :func:`merge` for the options). ``times`` gives each
    source's submission time where the caller knows it (the portal's upload times); otherwise
    the time a file says it was saved decides which of a unit's files is the newest."""
    if on_error not in ("include", "exclude", "fail"):
        raise UsageError(f"--on-error 只能是 include、exclude 或 fail，而不是 {on_error!r}。")
    _refuse_mixed(batch)
    readable = [it for it in batch.items if it.result.report is not None and it.unit is not None]
    if not readable:
        notes = [i.message for it in batch.items[:3] for i in it.result.issues[:1]]
        notes += [f"{printable(s.path.name)}{s.reason}" for s in batch.skipped[:3]]
        detail = "；".join(notes)
        raise UsageError(f"没有可汇总的报告：{detail}" if detail else "没有可汇总的报告：输入中没有任何单位的报表。")
    groups: dict[str, list[Submission]] = {}
    on_roster: dict[str, bool] = {}
    for it in readable:
        sub = _submission(it, times)
        groups.setdefault(unit_key(sub.unit), []).append(sub)
        on_roster[unit_key(sub.unit)] = it.on_roster
    entries: dict[str, Entry] = {}
    chosen: dict[str, Submission] = {}
    refused: list[str] = []
    for k, group in groups.items():
        d = decide(group, on_roster=on_roster[k], on_error=on_error, prefer=prefer)
        entries[k] = d.entry
        if d.chosen is not None:
            chosen[k] = d.chosen
        if d.refused:
            refused.append(d.refused)
    merge_issues = _drop_overlaps(chosen, entries)
    unreadable = [it for it in batch.items if it.result.report is None]
    refused += [f"{Path(it.source).name}（无法读取）" for it in unreadable] if on_error == "fail" else []
    if refused:
        raise MergeRefusedError(
            "以下单位的数据有错误，按 --on-error fail 停止汇总，未写出任何文件："
            + "；".join(refused)
            + "。请让这些单位改正后重新报送，或改用 --on-error include/exclude。"
        )
    for u in batch.missing:
        entries[unit_key(u)] = Entry(u, Status.MISSING)
        merge_issues.append(
            issue(Code.NOT_SUBMITTED, name=u.name, code=u.code or "无", unit_code=u.code, unit_name=u.name)
        )
    order = _ordered(entries, batch.roster)
    subs = [replace(s, included=chosen.get(k) is s) for k in order for s in groups.get(k, [])]
    for it in sorted(unreadable, key=lambda it: it.source):
        note = it.result.issues[0].message if it.result.issues else "无法读取"
        order.append(f"f:{it.source}")
        entries[f"f:{it.source}"] = Entry(
            Unit("", ""), Status.UNREADABLE, (it.source,), (0.0,), len(it.result.issues), 0, False, note
        )
        merge_issues.extend(it.result.issues)
    fmt, year = readable[0].result.report.format, readable[0].result.report.year  # type: ignore[union-attr]
    total, total_issues = _total(subs, unit or Unit("", "汇总"), fmt, year, previous)
    saved = [s.mtime for s in subs if s.mtime]
    generated = dt.datetime.fromtimestamp(max(saved), dt.UTC).replace(microsecond=0) if saved else _EPOCH
    return Merged(
        report=total,
        entries=tuple(entries[k] for k in order),
        submissions=tuple(subs),
        total_issues=tuple(total_issues),
        merge_issues=tuple(merge_issues),
        generated_at=generated,
        on_error=on_error,
        roster=batch.roster.units if batch.roster is not None else None,
        skipped=tuple((printable(str(s.path)), s.reason) for s in batch.skipped),
    )


_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def merge(
    inputs: Iterable[str | os.PathLike[str]],
    *,
    unit: Unit | None = None,
    roster: Roster | None = None,
    on_error: OnError = "include",
    prefer: Prefer = None,
    previous: Iterable[str | os.PathLike[str]] = (),
    formats: Sequence[Format] = (),
    exclude: Iterable[str | os.PathLike[str]] = (),
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Merged:
    """Read every input and merge the units into one summary.

    ``inputs`` are workbooks, JSON reports, earlier summaries, or folders (searched
    recursively). ``roster`` lists the units expected (报送情况 follows its order; units not on
    it are flagged and not summed). A unit with two files is flagged and not summed unless
    ``prefer="newest"`` (the newer by the save time inside the file). ``on_error`` says whether
    units with errors are summed (``include``, flagged), left out (``exclude``) or stop the merge
    (``fail``: raises :class:`MergeRefusedError`). ``previous`` — last year's summary or reports —
    adds the cross-year warnings R6–R8 per unit and for the total. ``exclude`` names files never
    to read (the outputs of this run).

    Raises :class:`UsageError` when the inputs mix years or formats (naming the odd files).
    """
    prev = load_previous(list(previous), formats=formats, jobs=jobs) if previous else []
    batch = run_batch(
        inputs,
        roster=roster,
        formats=formats,
        previous=prev,
        exclude=exclude,
        suffixes=(*BOOK_SUFFIXES, *REPORT_SUFFIXES),
        jobs=jobs,
        progress=progress,
        keep=_with_saved_time,
    )
    return merge_batch(batch, unit=unit, on_error=on_error, prefer=prefer, previous=prev)
