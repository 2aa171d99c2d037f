"""The county summary and the tidy export, from the versions the officer accepted.

The summary is the library's merge of the accepted versions' results (stored as the library
returned them, so nothing is read twice) against the campaign's roster, with the units' 说明.
A provisional summary takes every unit's latest readable version of the campaign's year and
format instead, and says so in red on every sheet and in its file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from xls_gongkai.portal import library
from xls_gongkai.portal.intake import library_unit
from xls_gongkai.portal.models import Campaign, Unit, Version
from xls_gongkai.portal.sheetview import issue_rows
from xls_gongkai.portal.states import State

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


@dataclass(frozen=True)
class Chosen:
    unit: Unit
    version: Version
    result: library.Result


def chosen(campaign: Campaign, *, provisional: bool) -> tuple[list[Chosen], list[str]]:
    """The versions a summary adds up, and why other units' latest versions were left out."""
    out: list[Chosen] = []
    left_out: list[str] = []
    units = campaign.units.prefetch_related("versions")
    for unit in units:
        if not provisional and unit.state is not State.ACCEPTED:
            continue
        versions = sorted(unit.versions.all(), key=lambda v: v.number, reverse=True)
        if not versions:
            continue
        latest = versions[0]
        source = f"{unit.code}_{unit.name}_第{latest.number}版_{latest.original_name}"
        result = library.result_from_json(latest.result_json, source=source)
        report = result.report
        if report is None:
            left_out.append(f"{unit.name}：第 {latest.number} 版无法读取")
            continue
        if report.year != campaign.year or report.format_id != campaign.format_id:
            left_out.append(f"{unit.name}：第 {latest.number} 版不是 {campaign.year} 年度本格式的报表")
            continue
        out.append(Chosen(unit, latest, result))
    return out, left_out


def merged(campaign: Campaign, picked: list[Chosen]) -> library.Merged:
    roster = [library_unit(u) for u in campaign.units.all()]
    times = {c.result.source: c.version.uploaded_at.timestamp() for c in picked}
    return library.merge_units([c.result for c in picked], roster=roster, name=f"{campaign.name}汇总", times=times)


def explanations(picked: list[Chosen]) -> list[library.ExplanationRow]:
    rows: list[library.ExplanationRow] = []
    for c in picked:
        texts = {e.key: e.text for e in c.version.explanations.all()}
        if not texts:
            continue
        for row in issue_rows(c.result):
            if row.key in texts:
                sheet, _sep, cell = row.where.partition("!")
                rows.append(
                    library.ExplanationRow(c.unit.code, c.unit.name, row.code, sheet, cell, row.message, texts[row.key])
                )
    return rows


def file_name(campaign: Campaign, *, provisional: bool, suffix: str = ".xlsx") -> str:
    kind = "临时汇总_含未审核单位" if provisional else "汇总_已通过单位"
    return _UNSAFE.sub("_", f"{campaign.name}_{campaign.year}年度_{kind}") + suffix


def write(campaign: Campaign, path: Path, *, provisional: bool) -> tuple[Path, int, list[str]]:
    """Write the summary workbook; returns its path, the number of units in it and what was left out.

    Raises the library's ``UsageError`` when there is nothing to add up.
    """
    picked, left_out = chosen(campaign, provisional=provisional)
    result = merged(campaign, picked)
    accepted = sum(1 for c in picked if c.unit.state is State.ACCEPTED)
    if provisional:
        note = f"临时汇总：{len(picked)} 个单位的最新版本，其中 {accepted} 个已通过审核，其余尚未审核。"
    else:
        note = f"本汇总只含已通过审核的 {len(picked)} 个单位；其余单位在“报送情况”中列为未报送。"
    library.write_county_summary(result, path, explanations=explanations(picked), provisional=provisional, note=note)
    return path, len(picked), left_out


def write_tidy(campaign: Campaign, path: Path) -> Path:
    """The accepted units' values, one row a value (CSV or Parquet by suffix)."""
    picked, _left_out = chosen(campaign, provisional=False)
    return library.write_tidy_export(merged(campaign, picked), path)
