"""The county summary and the tidy export, from the versions the officer accepted.

The summary is the library's, made as ``merge`` makes it: the accepted versions' stored results
(nothing is read again) checked together against the campaign's roster (``check_batch``), merged
with each version's upload time as its time (``merge_batch``), written by ``write_summary``. Each
unit's 说明 travel on its report (``Report.explanations``; the sum carries them up). A provisional
summary takes every unit's latest readable version of the campaign's year and format instead,
and says so in red (``Merged.provisional``) and in its file name.

Until the library's summary workbook shows the 说明 itself, they are also written here as a
workbook of their own (:func:`write_explanations`, linked beside the summary).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import xlsxwriter

from xls_gongkai.batch.export import merged_sources, write_tidy
from xls_gongkai.batch.merge import merge_batch
from xls_gongkai.batch.pipeline import check_batch
from xls_gongkai.collection import Merged
from xls_gongkai.issues import Result
from xls_gongkai.portal import intake
from xls_gongkai.portal.models import Campaign, Unit, Version
from xls_gongkai.portal.sheetview import issue_rows
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
        out.append(Chosen(unit, latest, replace(result, source=source, report=replace(report, explanations=said))))
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


# --------------------------------------------------------------------------- the 说明, for now


_HEADINGS = ("单位代码", "单位名称", "问题代码", "位置", "问题", "说明")
_WIDTHS = (12, 16, 12, 14, 60, 60)


def write_explanations(campaign: Campaign, path: Path, *, provisional: bool) -> tuple[Path, int]:
    """The units' 说明 of the summary's versions as one workbook; returns its path and how many.

    Each line names the warning it explains as the unit's page showed it. Every text is written
    as a string: a 说明 that begins with "=" stays text, never a formula.
    """
    picked, _left_out = chosen(campaign, provisional=provisional)
    rows: list[tuple[str, ...]] = []
    for c in picked:
        report = c.result.report
        if report is None or not report.explanations:
            continue
        warnings = {row.key: row for row in issue_rows(intake.verdict(campaign, c.result).result)}
        for e in report.explanations:
            row = warnings.get(e.key)
            rows.append(
                (
                    e.unit.code,
                    e.unit.name,
                    row.code if row else "",
                    row.where if row else "",
                    row.message if row else e.key,
                    e.text,
                )
            )
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("说明")
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
    cell = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    kind = "临时汇总" if provisional else "正式汇总（已通过的单位）"
    ws.write_string(0, 0, f"{campaign.name}{campaign.year}年度{kind}：各单位对警告的说明", title)
    for col, (width, label) in enumerate(zip(_WIDTHS, _HEADINGS, strict=True)):
        ws.set_column(col, col, width)
        ws.write_string(2, col, label, head)
    if not rows:
        ws.write_string(3, 0, "（汇总的单位没有填写说明）")
    for r, values in enumerate(rows, start=3):
        for col, value in enumerate(values):
            ws.write_string(r, col, value, cell)
    ws.freeze_panes(3, 0)
    book.close()
    return path, len(rows)
