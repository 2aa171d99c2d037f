"""The hidden record (_meta) is a hint, never proof: what the workbook shows wins."""

from __future__ import annotations

import random
from pathlib import Path

import openpyxl

from xls_gongkai.batch.check import check_files
from xls_gongkai.batch.merge import merge_batch
from xls_gongkai.issues import Code
from xls_gongkai.reading.reader import read_workbook
from xls_gongkai.report import Report, Unit
from xls_gongkai.sample import random_report
from xls_gongkai.spec import get_format
from xls_gongkai.workbook.layout import META_SHEET
from xls_gongkai.workbook.summary import write_summary
from xls_gongkai.workbook.writer import write_workbook

F = get_format("gongkai-2021")


def _town(folder: Path, i: int) -> Path:
    r = random_report(F, Unit(f"41010200{i}", f"第{i}镇"), 2024, random.Random(i), texts={"s1": "总体"})
    return write_workbook(folder / f"{i}.xlsx", r)


def _set_meta(path: Path, key: str, value: str) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[META_SHEET]
    for row in ws.iter_rows():
        if row[0].value == key:
            row[1].value = value
    wb.save(path)


def _summary(folder: Path, name: str, files: list[Path]) -> Path:
    return write_summary(merge_batch(check_files(files), unit=Unit("", name)), folder / f"{name}.xlsx")


def test_a_township_file_cannot_count_as_a_summary(tmp_path: Path) -> None:
    town = _town(tmp_path, 1)
    _set_meta(town, "units", "50")
    result = read_workbook(town)
    assert result.report is not None
    assert result.report.units == 1
    [warning] = [i for i in result.issues if i.code == Code.META_MISMATCH]
    assert "50" in warning.message
    assert not warning.is_error
    merged = merge_batch(check_files([town, _town(tmp_path, 2)]), unit=Unit("", "县"))
    assert merged.report.units == 2


def test_a_summarys_unit_count_comes_from_its_detail_rows(tmp_path: Path) -> None:
    towns = [_town(tmp_path, i) for i in (1, 2, 3)]
    county = _summary(tmp_path, "甲县", towns)
    clean = read_workbook(county)
    assert clean.report is not None
    assert clean.report.units == 3
    assert not [i for i in clean.issues if i.code == Code.META_MISMATCH]
    _set_meta(county, "units", "50")
    tampered = read_workbook(county)
    assert tampered.report is not None
    assert tampered.report.units == 3
    assert [i.expected for i in tampered.issues if i.code == Code.META_MISMATCH] == ["3"]


def test_a_city_summary_counts_the_townships_of_its_counties(tmp_path: Path) -> None:
    a = _summary(tmp_path, "甲县", [_town(tmp_path, i) for i in (1, 2)])
    (tmp_path / "b").mkdir()
    b = _summary(tmp_path, "乙县", [_town(tmp_path / "b", 3)])
    city = _summary(tmp_path, "某市", [a, b])
    result = read_workbook(city)
    assert result.report is not None
    assert result.report.units == 3
    assert not [i for i in result.issues if i.code == Code.META_MISMATCH]


def test_a_report_reads_what_its_guide_shows_not_the_hidden_record(tmp_path: Path) -> None:
    town = _town(tmp_path, 1)
    _set_meta(town, "unit_name", "别的镇")
    result = read_workbook(town)
    assert result.report is not None
    assert result.report.unit.name == "第1镇"
    assert any(i.code == Code.UNIT_CHANGED and i.found == "第1镇" for i in result.issues)
    assert isinstance(result.report, Report)
