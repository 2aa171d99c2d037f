"""The seam into the library: one upload checked in a bounded child, results through JSON, the summary."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.portal.conftest import YEAR, Books
from xls_gongkai import read_workbook
from xls_gongkai.portal import library

UNIT = library.Unit("410102001", "城关镇", "河洛县")
OPTIONS = library.WriteOptions(deadline="2099年2月20日", contact="县政务公开办")


def check(
    path: Path, tmp_path: Path, *, name: str = "城关镇.xlsx", unit: library.Unit | None = UNIT, **kw: object
) -> library.Checked:
    return library.check_upload(
        path,
        display_name=name,
        year=YEAR,
        unit=unit,
        annotated_to=tmp_path / "marked.xlsx",
        options=OPTIONS,
        workdir=tmp_path,
        **kw,
    )  # type: ignore[arg-type]


def test_the_verdict_is_the_librarys(books: Books, tmp_path: Path) -> None:
    path = books.make(bad=True)
    checked = check(path, tmp_path)
    direct = read_workbook(path, year=YEAR, unit=UNIT)
    assert [(i.code, i.cell, i.message) for i in checked.result.issues] == [
        (i.code, i.cell, i.message) for i in direct.issues
    ]
    assert checked.result.report == direct.report
    assert checked.errors == 2
    assert checked.kind == "xlsx"
    # The messages and the result name the clerk's file, never the stored one.
    assert checked.result.source == "城关镇.xlsx"
    assert {i.file for i in checked.result.issues} == {"城关镇.xlsx"}


def test_marked_up_copy_is_the_librarys_annotate(books: Books, tmp_path: Path) -> None:
    checked = check(books.make(bad=True), tmp_path)
    assert checked.annotated
    book = openpyxl.load_workbook(tmp_path / "marked.xlsx")
    assert "问题清单" in book.sheetnames
    # The deadline of the campaign travels into the copy's 填报说明.
    guide = [str(c.value) for row in book["填报说明"].iter_rows() for c in row if c.value]
    assert any("2099年2月20日" in text for text in guide)
    (tmp_path / "clean").mkdir()
    clean = check(books.make(), tmp_path / "clean")
    assert clean.errors == 0
    assert not clean.annotated


def test_type_is_decided_by_content_not_by_name(books: Books, tmp_path: Path) -> None:
    pdf = tmp_path / "report.xlsx"
    pdf.write_bytes(b"%PDF-1.4\n" + b"x" * 200)
    checked = check(pdf, tmp_path, name="年报.xlsx")
    assert checked.result.report is None
    assert checked.unreadable.startswith("年报.xlsx：是 PDF 文件")
    # A real workbook named .pdf is still read as the workbook it is.
    as_pdf = check(books.make(), tmp_path, name="扫描件.pdf")
    assert as_pdf.result.report is not None
    assert as_pdf.kind == "xlsx"


def test_encrypted_workbook_gets_one_line(books: Books, tmp_path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(books.make().read_bytes())).encrypt("123456", out)
    path = tmp_path / "enc.xlsx"
    path.write_bytes(out.getvalue())
    checked = check(path, tmp_path)
    assert checked.result.report is None
    assert "密码" in checked.unreadable
    assert "\n" not in checked.unreadable


def test_another_units_template_is_an_error(books: Books, tmp_path: Path) -> None:
    checked = check(books.make("410102002", "东城街道"), tmp_path)
    assert [i.code for i in checked.result.errors] == [library.UNIT_MISMATCH]


def test_a_hanging_check_is_stopped_by_the_wall_clock(books: Books, tmp_path: Path) -> None:
    # A bound this small cannot be met by starting a process and reading a workbook.
    checked = check(books.make(), tmp_path, limits=library.CheckLimits(seconds=0.0001))
    assert checked.result.report is None
    assert "检查超时" in checked.unreadable


def test_memory_bound_turns_a_crash_into_a_message(books: Books, tmp_path: Path) -> None:
    # 1 MB more address space than the child starts with: the parser cannot even begin.
    checked = check(books.make(), tmp_path, limits=library.CheckLimits(memory=1024 * 1024))
    assert checked.result.report is None
    assert "无法读取" in checked.unreadable


def test_result_round_trips_through_json(books: Books, tmp_path: Path) -> None:
    checked = check(books.make(bad=True, blank_cell=True), tmp_path)
    text = library.result_to_json(checked.result)
    json.loads(text)  # plain JSON
    again = library.result_from_json(text)
    assert again.report == checked.result.report
    assert tuple(again.issues) == tuple(checked.result.issues)
    assert library.relocated_issues(again) == library.relocated_issues(checked.result)
    assert library.result_from_json(text, source="x").source == "x"


def test_template_is_what_generate_writes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from xls_gongkai.cli import app

    ours = library.write_template(tmp_path / "ours.xlsx", UNIT, YEAR, OPTIONS)
    result = CliRunner().invoke(
        app,
        [
            "generate",
            "--year",
            str(YEAR),
            "--unit",
            UNIT.name,
            "--code",
            UNIT.code,
            "--parent",
            UNIT.parent,
            "--out",
            str(tmp_path / "gen"),
            "--deadline",
            OPTIONS.deadline,
            "--contact",
            OPTIONS.contact,
        ],
    )
    assert result.exit_code == 0, result.output
    generated = tmp_path / "gen" / library.template_name(UNIT, YEAR)
    # Byte for byte the same workbook, but for the moment it was written.
    assert _parts(ours) == _parts(generated)
    assert library.template_name(UNIT, YEAR) == "410102001_城关镇_2024.xlsx"


_STAMP = re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: _STAMP.sub(b"<time>", zf.read(name)) for name in zf.namelist()}


def test_summary_has_explanations_and_provisional_mark(books: Books, tmp_path: Path) -> None:
    results = [
        read_workbook(books.make(), year=YEAR),
        read_workbook(books.make("410102002", "东城街道", seed=2), year=YEAR),
    ]
    merged = library.merge_units(
        results, roster=[UNIT, library.Unit("410102002", "东城街道")], name="河洛县汇总", times={}
    )
    rows = [
        library.ExplanationRow("410102001", "城关镇", "R7", "表二", "D6", "现行有效件数不等", '=HYPERLINK("http://x")')
    ]
    path = library.write_county_summary(merged, tmp_path / "s.xlsx", explanations=rows, provisional=True, note="临时")
    book = openpyxl.load_workbook(path)
    assert "说明" in book.sheetnames
    assert "报送情况" in book.sheetnames
    sheet = book["说明"]
    cell = sheet.cell(4, 7)
    assert cell.value == '=HYPERLINK("http://x")'
    assert cell.data_type == "s"
    for name in ("填报说明", "表二", "表三", "表四"):
        assert str(book[name]["A2"].value).startswith(library.PROVISIONAL_LINE)
    # The summary is still a summary the library reads back.
    again = read_workbook(path)
    assert again.report is not None
    assert again.report.units == 2

    final = library.write_county_summary(merged, tmp_path / "f.xlsx", explanations=[], provisional=False)
    assert not str(openpyxl.load_workbook(final)["表二"]["A2"].value).startswith(library.PROVISIONAL_LINE)


def test_roster_and_matching() -> None:
    from tests.portal.conftest import ROSTER

    units = library.roster_units(ROSTER)
    assert len(units) == 13
    assert library.match_roster(units, library.Unit("410102001", "")) == units[0]
    assert library.match_roster(units, library.Unit("", "东城街道")) == units[1]
    assert library.match_roster(units, library.Unit("999", "某某镇")) is None


@pytest.mark.parametrize(
    ("name", "safe"),
    [("../../etc/passwd", "passwd"), ("a:b*c?.xlsx", "a_b_c_.xlsx"), ("", "上传的文件"), ("C:\\x\\y.xlsx", "y.xlsx")],
)
def test_safe_name(name: str, safe: str) -> None:
    assert library.safe_name(name) == safe
