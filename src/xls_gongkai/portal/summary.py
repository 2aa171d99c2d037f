"""The county summary and the tidy export, from the versions the officer accepted.

The summary is the library's, made as ``merge`` makes it: the accepted versions' stored results
(nothing is read again) checked together against the campaign's roster (``check_batch``), merged
with each version's upload time as its time (``merge_batch``), written by ``write_summary``. Each
unit's 说明 travel on its report (``Report.explanations``; the sum carries them up): the summary
lists them on its 说明 sheet and beside each warning in its 问题清单. A provisional summary takes
every unit's latest readable version of the campaign's year and format instead, and says so in
red (``Merged.provisional``) and in its file name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from xls_gongkai.batch.export import merged_sources, write_tidy
from xls_gongkai.batch.merge import merge_batch
from xls_gongkai.batch.pipeline import check_batch
from xls_gongkai.collection import Merged
from xls_gongkai.issues import Result
from xls_gongkai.portal import intake
from xls_gongkai.portal.models import Campaign, Unit, Version
from xls_gongkai.portal.states import State
from xls_gongkai.report import Explanation
from xls_gongkai.report import Unit as LibUnit
from xls_gongkai.workbook.summary import write_summary

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
PROVISIONAL = "【临时汇总】含尚未审核通过的单位，数据仅供参考，不得作为正式数据上报"


@dataclass(frozen=True)
class Chosen:
    """A unit's version in a summary: its stored result, renamed and carrying the unit's 说明."""

    unit: Unit
    version: Version
    result: Result


def chosen(campaign: Campaign, *, provisional: bool) -> tuple[list[Chosen], list[str]]:
    """The versions a summary adds up, and why other units' latest versions were left out."""
    out: list[Chosen] = []
    left_out: list[str] = []
    for unit in campaign.units.prefetch_related("versions", "versions__explanations"):
        if not provisional and unit.state is not State.ACCEPTED:
            continue
        versions = sorted(unit.versions.all(), key=lambda v: v.number, reverse=True)
        if not versions:
            continue
        latest = versions[0]
        result = Result.from_json(latest.result_json)
        report = result.report
        if report is None:
            left_out.append(f"{unit.name}：第 {latest.number} 版无法读取")
            continue
        if report.year != campaign.year or report.format.id != campaign.format_id:
            left_out.append(f"{unit.name}：第 {latest.number} 版不是 {campaign.year} 年度本格式的报表")
            continue
        said = tuple(Explanation(e.key, e.text, intake.library_unit(unit)) for e in latest.explanations.all())
        # A source of its own per version: 报送情况 names it, and the merge keys upload times by it.
        source = f"{unit.code}_{unit.name}_第{latest.number}版_{latest.original_name}"
        issues = tuple(replace(i, file=source) for i in result.issues)  # each issue names its version
        result = replace(result, source=source, issues=issues, report=replace(report, explanations=said))
        out.append(Chosen(unit, latest, result))
    return out, left_out


def merged(campaign: Campaign, picked: Sequence[Chosen], *, provisional: bool = False) -> Merged:
    """The library's merge of the chosen versions against the campaign's roster.

    Raises the library's ``UsageError`` when there is nothing to add up.
    """
    batch = check_batch([c.result for c in picked], roster=intake.roster(campaign))
    times = {c.result.source: c.version.uploaded_at.timestamp() for c in picked}
    total = merge_batch(batch, unit=LibUnit("", f"{campaign.name}汇总"), times=times)
    return replace(total, provisional=PROVISIONAL) if provisional else total


def file_name(campaign: Campaign, *, provisional: bool, suffix: str = ".xlsx") -> str:
    kind = "临时汇总_含未审核单位" if provisional else "汇总_已通过单位"
    return _UNSAFE.sub("_", f"{campaign.name}_{campaign.year}年度_{kind}") + suffix


def write(campaign: Campaign, path: Path, *, provisional: bool) -> tuple[Path, int, list[str]]:
    """Write the summary workbook; returns its path, the number of units in it and what was left out.

    Raises the library's ``UsageError`` when there is nothing to add up.
    """
    picked, left_out = chosen(campaign, provisional=provisional)
    write_summary(merged(campaign, picked, provisional=provisional), path)
    return path, len(picked), left_out


def write_tidy_export(campaign: Campaign, path: Path) -> Path:
    """The accepted units' values in the library's tidy columns (CSV or Parquet by suffix)."""
    picked, _left_out = chosen(campaign, provisional=False)
    return write_tidy(merged_sources(merged(campaign, picked)), path)
