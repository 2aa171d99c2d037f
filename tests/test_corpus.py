"""A corpus of damaged and odd workbooks, made here, each with its documented result.

Unusable files raise :class:`UnreadableWorkbookError` / :class:`TemplateMismatchError` with one
Chinese line naming the file; odd but usable ones give a Result whose issues say what is odd.
Never anything else (no traceback, no unbounded memory or time).
"""

from __future__ import annotations

import io
import random
import warnings
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from msoffcrypto.format.ooxml import OOXMLFile

from tests.lo import convert, requires_soffice
from tests.safety_files import declare_size, one_line
from xls_gongkai.batch.read import read_many
from xls_gongkai.errors import TemplateMismatchError, UnreadableWorkbookError, WorkbookError
from xls_gongkai.issues import Code
from xls_gongkai.reading.reader import read_workbook
from xls_gongkai.reading.safety import inspect_file
from xls_gongkai.report import Report, Unit
from xls_gongkai.sample import random_report
from xls_gongkai.spec import get_format
from xls_gongkai.workbook.writer import write_workbook

FMT = get_format(2021)
TEXTS = {
    "s1": "总体情况",
    "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
    "s6": "本年度未收取信息处理费。",
}


def valid(path: Path, seed: int = 1) -> Path:
    report = random_report(FMT, Unit("001", "城关镇"), 2022, random.Random(seed), TEXTS)
    return write_workbook(path, report)


def rezip(src: Path, dst: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of a workbook's zip with some parts replaced (None: removed) or added."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in change:
                continue
            zout.writestr(info, zin.read(info.filename))
        for name, data in change.items():
            if data is not None:
                zout.writestr(name, data)
    return dst


# --------------------------------------------------------------------------- unusable files


def test_empty_workbook(tmp_path: Path) -> None:
    p = tmp_path / "空表.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    wb.add_worksheet("Sheet1")
    wb.close()
    with pytest.raises(UnreadableWorkbookError) as err:
        read_workbook(p)
    assert "空" in one_line(err.value, p.name)


def test_spreadsheet_of_another_report(tmp_path: Path) -> None:
    p = tmp_path / "统计表.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("统计")
    for r, row in enumerate([["项目", "本年", "上年"], ["收入", 100, 90], ["支出", 80, 70]]):
        ws.write_row(r, 0, row)
    wb.close()
    with pytest.raises(TemplateMismatchError) as err:
        read_workbook(p)
    one_line(err.value, p.name)


def test_a_batch_survives_every_bad_file(tmp_path: Path) -> None:
    good = valid(tmp_path / "好.xlsx")
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(good.read_bytes()[:500])
    noise = tmp_path / "噪声.xlsx"
    noise.write_bytes(b"\x00" * 100)
    results = read_many([bad, good, noise], jobs=1)
    assert [r.report is None for r in results] == [True, False, True]
    for r in (results[0], results[2]):
        [issue] = r.issues
        assert issue.code == Code.FILE_UNREADABLE
        assert Path(r.source).name in issue.message


# --------------------------------------------------------------------------- odd but usable


def test_xlsm_extension(tmp_path: Path) -> None:
    src = valid(tmp_path / "a.xlsx")
    p = tmp_path / "宏.xlsm"
    p.write_bytes(src.read_bytes())
    result = read_workbook(p)
    assert result.report is not None
    assert not result.errors


def test_a_workbook_without_content_types_is_still_read(tmp_path: Path) -> None:
    # A sloppy generator may leave out [Content_Types].xml; the values all come back.
    report = random_report(FMT, Unit("001", "城关镇"), 2022, random.Random(9), TEXTS)
    src = write_workbook(tmp_path / "src.xlsx", report)
    path = rezip(src, tmp_path / "无类型.xlsx", {"[Content_Types].xml": None})
    result = read_workbook(path)
    assert result.report is not None
    assert dict(result.report.values) == dict(report.values)


@pytest.mark.parametrize("keep_meta", [True, False], ids=["with-meta", "labels-only"])
def test_xlsb_binary_workbook(tmp_path: Path, keep_meta: bool) -> None:
    # An .xlsb (Excel's binary format; LibreOffice cannot write one): every sheet of a filled
    # template, as values, written by pyxlsbwriter. With its hidden _meta sheet the template is
    # recognised as such; without it, by its labels. Either way every value comes back.
    import python_calamine
    from pyxlsbwriter import XlsbWriter

    report = random_report(FMT, Unit("001", "城关镇"), 2022, random.Random(5), TEXTS)
    src = write_workbook(tmp_path / "src.xlsx", report)
    book = python_calamine.CalamineWorkbook.from_path(str(src))
    path = tmp_path / "城关镇.xlsb"
    with XlsbWriter(str(path)) as writer:
        for name in book.sheet_names:
            if name == "_meta" and not keep_meta:
                continue
            writer.add_sheet(name, hidden=name == "_meta")
            writer.write_sheet(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
    assert inspect_file(path).kind == "xlsb"
    result = read_workbook(path, year=2022)
    assert result.report is not None
    assert dict(result.report.values) == dict(report.values)
    assert not result.errors, [i.message for i in result.errors]
    assert result.container == "xlsb"
    assert result.located_by == ("template" if keep_meta else "labels")


@pytest.mark.soffice
@requires_soffice
def test_libreoffice_xls_and_ods(tmp_path: Path) -> None:
    report = random_report(FMT, Unit("001", "城关镇"), 2022, random.Random(3), TEXTS)
    src = write_workbook(tmp_path / "src" / "城关镇.xlsx", report)
    outs = {}
    for ext in ("xls", "ods"):
        [outs[ext]] = convert([src], ext, tmp_path / ext)
    for ext, path in outs.items():
        result = read_workbook(path)
        assert result.report is not None, ext
        assert dict(result.report.values) == dict(report.values), ext
        assert result.report.year == 2022
        assert not result.errors, (ext, [i.message for i in result.errors])
        assert result.container == ext
        if result.located_by == "labels":
            # _meta was lost in the conversion: recognised by labels, and the file says so.
            assert any(i.code == Code.HAND_MADE for i in result.issues)
        else:
            assert result.report.unit == report.unit


def test_documented_errors_only(tmp_path: Path) -> None:
    """Everything above is a WorkbookError subclass: the CLI maps each to exit code 2."""
    assert issubclass(UnreadableWorkbookError, WorkbookError)
    assert issubclass(TemplateMismatchError, WorkbookError)
    blank = write_workbook(tmp_path / "blank.xlsx", Report(Unit("1", "甲"), 2022, FMT))
    assert read_workbook(blank).report is not None


# --------------------------------------------------------------------------- the whole corpus at once


def _corpus(folder: Path) -> dict[str, str | set[str]]:
    """Every case above as a file in one folder, with its documented outcome.

    The outcome is ``"unreadable"`` / ``"mismatch"`` for files that cannot be used, else the
    issue codes the file must raise (others may come too).
    """
    from tests.test_reader import grids_of, hand_made, set_cell, write_grids
    from xls_gongkai.workbook.layout import layout_for

    folder.mkdir(parents=True, exist_ok=True)
    work = folder.parent / "work"
    work.mkdir(exist_ok=True)
    good = valid(work / "good.xlsx")
    data = good.read_bytes()
    out: dict[str, str | set[str]] = {}

    def put(name: str, content: bytes, outcome: str | set[str]) -> None:
        (folder / name).write_bytes(content)
        out[name] = outcome

    put("01_good.xlsx", data, set())
    put("02_random.xlsx", random.Random(1).randbytes(3000), "unreadable")
    put("03_empty_file.xlsx", b"", "unreadable")
    put("04_truncated.xlsx", data[: len(data) // 2], "unreadable")
    enc = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("pw", enc)
    put("05_encrypted.xlsx", enc.getvalue(), "unreadable")
    put("06_zip_bomb.xlsx", declare_size(data, b"xl/worksheets/sheet3.xml", 3_000_000_000), "unreadable")
    put("07_text.xls", "单位,数量\n".encode(), "unreadable")
    other = work / "other.xlsx"
    wb = xlsxwriter.Workbook(str(other))
    wb.add_worksheet("工资").write_row(0, 0, ["姓名", "工资"])
    wb.close()
    put("08_other_report.xlsx", other.read_bytes(), "mismatch")
    lay = layout_for(FMT)
    grids = grids_of(good)
    grids["表三"].insert(lay.tables["t3"].rows["withheld_law"], ["", "", "（插入的行）"])
    put("09_inserted_row.xlsx", write_grids(work / "ins.xlsx", grids).read_bytes(), {Code.LAYOUT_MOVED})
    grids = grids_of(good)
    p = lay.pos("t2_1", "regulations", "issued")
    set_cell(grids, p.sheet, p.a1, "22（其中修订16件）")
    p = lay.pos("t2_8", "fees", "fee_amount")
    set_cell(grids, p.sheet, p.a1, "251000元")
    p = lay.pos("t3", "new", "natural")
    set_cell(grids, p.sheet, p.a1, "１２")
    # text is not a number in the sheet (its SUM takes 0, R5 turns red), nor in check
    put("10_text_numbers.xlsx", write_grids(work / "txt.xlsx", grids).read_bytes(), {"R5"})
    report = random_report(FMT, Unit("001", "城关镇"), 2022, random.Random(1), TEXTS)
    put("11_hand_made.xlsx", hand_made(FMT, report, work).read_bytes(), {Code.HAND_MADE})
    old = get_format("gongkai-2019")
    old_report = Report(
        Unit("002", "东城街道"), 2022, old, random_report(old, Unit("", ""), 2020, random.Random(2)).values
    )
    put("12_other_version.xlsx", write_workbook(work / "old.xlsx", old_report).read_bytes(), {Code.OTHER_FORMAT})
    # what the container holds: a macro project is named in a warning; two parts of the same
    # name (which is the data?) and an XML entity bomb make the file unusable
    macros = rezip(good, work / "m.xlsm", {"xl/vbaProject.bin": b"\0" * 64})
    put("13_macros.xlsm", macros.read_bytes(), {Code.CONTAINER_CONTENT})
    with zipfile.ZipFile(good) as z:
        sheet = z.read("xl/worksheets/sheet3.xml")
        shared = z.read("xl/sharedStrings.xml").decode()
    twice = rezip(good, work / "twice.xlsx", {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(twice, "a") as z:
            z.writestr("xl/worksheets/sheet3.xml", sheet)
    put("14_duplicate_parts.xlsx", twice.read_bytes(), "unreadable")
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    entity = rezip(
        good,
        work / "e.xlsx",
        {"xl/sharedStrings.xml": (bomb + shared.split("?>", 1)[1].replace("<t>", "<t>&b;", 1)).encode()},
    )
    put("15_entity_bomb.xlsx", entity.read_bytes(), "unreadable")
    return out


def test_corpus_batch_gives_each_documented_result(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from xls_gongkai.cli import app

    corpus = _corpus(tmp_path / "corpus")
    paths = sorted((tmp_path / "corpus").iterdir())
    results = read_many(paths, jobs=2)
    assert [Path(r.source).name for r in results] == [p.name for p in paths]
    for res in results:
        expected = corpus[Path(res.source).name]
        codes = {i.code for i in res.issues}
        if expected in ("unreadable", "mismatch"):
            assert res.report is None, res.source
            assert codes == {Code.FILE_UNREADABLE}
            [issue] = res.issues
            assert Path(res.source).name in issue.message
            assert "\n" not in issue.message
        else:
            assert res.report is not None, (res.source, [i.message for i in res.issues])
            assert isinstance(expected, set)
            assert expected <= codes, (res.source, codes)
            if not expected:
                assert not res.issues
    # the command line over the same folder: exit 2 (files could not be read), no traceback
    cli = CliRunner().invoke(app, ["check", str(tmp_path / "corpus"), "--report", str(tmp_path / "r.json")])
    assert cli.exit_code == 2
    assert "Traceback" not in cli.output
    assert cli.exception is None or isinstance(cli.exception, SystemExit)


def test_large_sheet_of_other_text_is_a_mismatch(tmp_path: Path) -> None:
    """The label search looks at a bounded area and matches fully only rows that look like a header."""
    p = tmp_path / "台账.xlsx"
    rnd = random.Random(5)
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("台账")
    for r in range(1500):
        ws.write_row(r, 0, [f"事项{rnd.randint(0, 10**6)}办理情况说明" for _ in range(20)])
    wb.close()
    with pytest.raises(TemplateMismatchError) as err:
        read_workbook(p)
    one_line(err.value, p.name)
