"""Whose report a workbook is, and for which year: from our template's record, the 填报说明 sheet,
or a hand-made workbook's title — compared with what the caller expects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from xls_gongkai.issues import Code, Issue, issue
from xls_gongkai.parsing.grid import at
from xls_gongkai.parsing.labels import normalise
from xls_gongkai.parsing.values import cell_text
from xls_gongkai.reading.sheets import Sheets
from xls_gongkai.report import Unit
from xls_gongkai.spec import Format, format_for_year
from xls_gongkai.workbook.layout import GUIDE_SHEET, META_SHEET, Layout

__all__ = ["Identity", "identify"]

_YEAR = re.compile(r"(20\d{2})\s*年")
_UNIT_IN_TITLE = re.compile(r"^\s*(\S{2,40}?)\s*(?:20\d\d)\s*年(?:度)?\s*政府信息公开")


#: A line that states the unit above a hand-made table: 填报单位：柳河乡 (报送单位, 单位名称…).
_UNIT_LINE = re.compile(r"(?:填报|报送|编制)?单位(?:名称)?\s*[:：]\s*([^\s:：]{2,40})")
#: Rows of each sheet whose text a hand-made workbook's unit may be named in (title, 填报单位…).
HEADING_ROWS = 6


@dataclass(frozen=True)
class Identity:
    unit: Unit
    year: int
    issues: tuple[Issue, ...]
    #: a workbook without our record: the texts of its first rows, where a batch looks for the
    #: unit among the roster's (the reader knows no roster)
    heading: tuple[str, ...] = ()


def _int(text: str) -> int | None:
    try:
        return int(float(text))
    except (TypeError, ValueError):
        return None


def heading_texts(sheets: Sheets) -> tuple[str, ...]:
    """The texts in the first rows of every visible sheet (titles, 填报单位…), in order."""
    out: list[str] = []
    for name in sheets.names:
        if name == META_SHEET:
            continue
        for row in sheets.grid(name)[:HEADING_ROWS]:
            out.extend(v.strip() for v in row if isinstance(v, str) and v.strip())
    return tuple(dict.fromkeys(out))


def _title_match(sheets: Sheets, pattern: re.Pattern[str]) -> re.Match[str] | None:
    """The first match of ``pattern`` in the text of the first rows of any visible sheet."""
    for text in heading_texts(sheets):
        if m := pattern.search(text):
            return m
    return None


def _guide(sheets: Sheets, lay: Layout, key: str) -> str:
    pos = lay.guide_unit_cells.get(key)
    if pos is None or GUIDE_SHEET not in sheets.names:
        return ""
    return cell_text(at(sheets.grid(GUIDE_SHEET), pos.row, pos.col)).strip()


def _file_year(sheets: Sheets, lay: Layout, meta: Mapping[str, str]) -> int | None:
    # What the sheet shows wins over the hidden record (a hint, never proof).
    guide = _int(_guide(sheets, lay, "year").replace("年", ""))
    year = guide if guide is not None and 2000 <= guide <= 2100 else None
    if year is None and meta:
        year = _int(meta.get("year", ""))
    if year is None and (m := _title_match(sheets, _YEAR)):
        # A title such as "城关镇2024年政府信息公开工作年度报告" in the first rows of any sheet.
        year = int(m.group(1))
    return year


def _file_unit(sheets: Sheets, lay: Layout, meta: Mapping[str, str]) -> Unit:
    code, name, parent = meta.get("unit_code", ""), meta.get("unit_name", ""), meta.get("unit_parent", "")
    if not meta and GUIDE_SHEET not in sheets.names:
        m = _title_match(sheets, _UNIT_IN_TITLE) or _title_match(sheets, _UNIT_LINE)
        name = m.group(1) if m else name
    # What the sheet shows wins over the hidden record (a hint, never proof).
    return Unit(_guide(sheets, lay, "code") or code, _guide(sheets, lay, "name") or name, parent)


def _guide_changed(sheets: Sheets, lay: Layout, meta: Mapping[str, str]) -> list[Issue]:
    """填报说明 shows the unit and year the template was made for, locked. A clerk who lifted the
    protection and typed over them leaves a workbook that says two things: what the sheet shows
    is read (the hidden record is a hint, never proof), and the difference is named."""
    recorded = {"name": meta.get("unit_name", ""), "code": meta.get("unit_code", ""), "year": meta.get("year", "")}
    out = []
    for key, label in (("name", "填报单位"), ("code", "单位代码"), ("year", "报告年度")):
        shown = _guide(sheets, lay, key)
        if shown and recorded[key] and shown != recorded[key] and normalise(shown) != normalise(recorded[key]):
            cell = lay.guide_unit_cells[key].a1
            out.append(
                issue(
                    Code.UNIT_CHANGED,
                    label=label,
                    found=shown,
                    expected=recorded[key],
                    sheet=GUIDE_SHEET,
                    cell=cell,
                    cells=(cell,),
                )
            )
    return out


def _format_issues(fmt: Format, wanted: Format | None, year: int) -> list[Issue]:
    if wanted is not None and wanted is not fmt:
        note = f"本文件使用的是“{fmt.name}”格式，本次要求“{wanted.name}”格式"
        return [issue(Code.OTHER_FORMAT, note=note, expected=wanted.id, found=fmt.id)]
    if fmt.covers(year):
        return []
    right = format_for_year(year)
    note = (
        f"{year} 年度的报告应使用“{right.name}”格式（{right.years_text}），本文件使用的是“{fmt.name}”格式"
        f"（{fmt.years_text}），请改用 {year} 年度的模板"
    )
    return [issue(Code.OTHER_FORMAT, note=note, expected=right.id, found=fmt.id)]


def _unit_issues(file_unit: Unit, unit: Unit | None) -> list[Issue]:
    if unit is None:
        return []
    if file_unit.code and unit.code and file_unit.code != unit.code:
        note = f"文件中的单位代码是 {file_unit.code}（{file_unit.name}），与指定的 {unit.code}（{unit.name}）不一致"
        return [issue(Code.UNIT_MISMATCH, note=note, expected=unit.code, found=file_unit.code)]
    if file_unit.name and unit.name and normalise(file_unit.name) != normalise(unit.name):
        note = f"文件中的单位名称是“{file_unit.name}”，与指定的“{unit.name}”不一致"
        return [issue(Code.UNIT_MISMATCH, note=note, expected=unit.name, found=file_unit.name)]
    return []


def identify(
    sheets: Sheets,
    fmt: Format,
    meta: Mapping[str, str],
    *,
    template: bool,
    wanted: Format | None,
    year: int | None,
    unit: Unit | None,
    lay: Layout,
) -> Identity:
    """The report's unit and year, and the issues of the workbook's identity."""
    issues: list[Issue] = []
    file_year = _file_year(sheets, lay, meta)
    if year is not None and file_year is not None and file_year != year:
        issues.append(issue(Code.YEAR_MISMATCH, found=str(file_year), expected=str(year)))
    report_year = year or file_year
    if report_year is None:
        report_year = fmt.year_from
        issues.append(issue(Code.YEAR_UNKNOWN, note=f"文件中没有写明报告年度，暂按 {report_year} 年处理"))
    issues += _format_issues(fmt, wanted, report_year)
    file_unit = _file_unit(sheets, lay, meta)
    if template and meta:
        issues += _guide_changed(sheets, lay, meta)
    issues += _unit_issues(file_unit, unit)
    if unit is not None:
        file_unit = Unit(file_unit.code or unit.code, file_unit.name or unit.name, file_unit.parent or unit.parent)
    if not file_unit.name.strip():
        cell = lay.guide_unit_cells["name"].a1 if template and "name" in lay.guide_unit_cells else ""
        if GUIDE_SHEET in sheets.names:
            how = "请在“填报说明”工作表填写单位名称"
        else:
            how = "请在表格上方写明“填报单位：单位名称”，或在文件名中写明单位名称"
        issues.append(issue(Code.UNIT_NAME_BLANK, how=how, sheet=GUIDE_SHEET if cell else "", cell=cell))
    heading = heading_texts(sheets) if not meta else ()
    return Identity(file_unit, report_year, tuple(issues), heading)
