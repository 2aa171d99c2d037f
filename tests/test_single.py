"""read_one: one untrusted file read in a fresh, bounded child process with a wall-clock deadline."""

from __future__ import annotations

import multiprocessing
import re
import sys
import time
from pathlib import Path

import pytest

from tests.safety_files import TEMPLATE, changed, part, workbook
from xls_gongkai.batch.single import file_name, prepare, read_one
from xls_gongkai.issues import Code
from xls_gongkai.reading.reader import read_workbook
from xls_gongkai.report import Unit

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux only")


def _no_child_left() -> bool:
    return not multiprocessing.active_children()


def test_a_normal_file_gives_the_readers_verdict_under_its_own_name(tmp_path: Path) -> None:
    stored = tmp_path / "0f3a.upload"  # as a server stores an upload
    stored.write_bytes(TEMPLATE.read_bytes())
    got = read_one(stored, name="城关镇 年报.xlsx", year=2023)
    direct = read_workbook(TEMPLATE, year=2023)
    assert got.report == direct.report
    assert got.cells == direct.cells
    assert [(i.code, i.sheet, i.cell, i.key) for i in got.issues] == [
        (i.code, i.sheet, i.cell, i.key) for i in direct.issues
    ]
    assert got.source == "城关镇 年报.xlsx"
    assert {i.file for i in got.issues} <= {"城关镇 年报.xlsx"}
    assert got.container == "xlsx"
    assert _no_child_left()


def test_reader_keywords_reach_the_reader(tmp_path: Path) -> None:
    got = read_one(TEMPLATE, unit=Unit("999", "别的单位"))
    assert Code.UNIT_MISMATCH in {i.code for i in got.errors}
    assert got.source == str(TEMPLATE)  # no name: the path, as read_workbook gives it


def test_an_unusable_file_is_named_as_uploaded(tmp_path: Path) -> None:
    stored = tmp_path / "0f3a.upload"
    stored.write_bytes(b"%PDF-1.4\n" + b"x" * 200)
    got = read_one(stored, name="年报.xlsx")
    assert got.report is None
    assert [i.code for i in got.issues] == [Code.FILE_UNREADABLE]
    assert got.issues[0].message.startswith("年报.xlsx：")
    assert "0f3a" not in got.issues[0].message


@linux
def test_a_crafted_far_cell_costs_the_child_only(tmp_path: Path) -> None:
    # 表三 declares a one-cell used area but holds a row 900,000 rows down whose cell has no
    # reference: python-calamine asks for 20 GB and aborts. In the bounded child the request
    # fails at once; the caller gets a Chinese line, and is still here.
    sheet = part("xl/worksheets/sheet3.xml")
    cells = '<row r="1"><c r="ZZ1"><v>1</v></c></row><row r="900000"><c><v>2</v></c></row>'
    sheet = re.sub(rb"<sheetData>.*</sheetData>", f"<sheetData>{cells}</sheetData>".encode(), sheet, flags=re.S)
    sheet = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', sheet)
    stored = changed(tmp_path / "0f3a.upload", {"xl/worksheets/sheet3.xml": sheet})
    started = time.monotonic()
    got = read_one(stored, name="远处的格子.xlsx", timeout=60)
    assert time.monotonic() - started < 30
    assert got.report is None
    assert [i.code for i in got.issues] == [Code.FILE_UNREADABLE]
    assert "远处的格子.xlsx" in got.issues[0].message
    assert "\n" not in got.issues[0].message
    assert _no_child_left()


@linux
def test_a_child_without_memory_to_read_reports_the_file(tmp_path: Path) -> None:
    # 1 MB more address space than the child starts with: the parser cannot even begin.
    got = read_one(TEMPLATE, name="城关镇.xlsx", memory=1024 * 1024)
    assert got.report is None
    assert [i.code for i in got.issues] == [Code.FILE_UNREADABLE]
    assert "城关镇.xlsx" in got.issues[0].message
    assert _no_child_left()


@pytest.fixture(scope="module")
def slow_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid workbook that takes the reader about a second: 500,000 text cells, none a label
    of the report (every one looked at before the reader gives up on finding the tables)."""
    rows = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{c}{r}" t="inlineStr"><is><t>x{r}</t></is></c>' for c in "ABCDEFGHIJ")
        + "</row>"
        for r in range(1, 50_001)
    )
    return workbook(tmp_path_factory.mktemp("slow") / "big.xlsx", {"表三": rows})


def test_the_wall_clock_stops_a_slow_read(slow_file: Path) -> None:
    # The process server is warm, so the child is reading when the deadline passes: 0.2 s is
    # far below the second this file takes (more on a busy machine, never less).
    prepare()
    started = time.monotonic()
    got = read_one(slow_file, name="很大的表.xlsx", timeout=0.2)
    assert time.monotonic() - started < 5
    assert got.report is None
    assert [i.code for i in got.issues] == [Code.FILE_UNREADABLE]
    assert got.issues[0].message.startswith("很大的表.xlsx：读取超时（0.2 秒内未能读完）")
    assert got.source == "很大的表.xlsx"
    assert _no_child_left()


def test_the_slow_file_is_read_in_full_given_time(slow_file: Path) -> None:
    # The same file with time enough: it is valid, only slow (its verdict: not this report).
    got = read_one(slow_file, name="很大的表.xlsx", timeout=120)
    assert got.report is None
    assert "找不到政府信息公开工作年度报告的任何表格" in got.issues[0].message


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("a:b*c?.xlsx", "a_b_c_.xlsx"),
        ("", "文件"),
        ("C:\\x\\y.xlsx", "y.xlsx"),
        ("行\n换.xlsx", "行_换.xlsx"),
    ],
)
def test_file_name(name: str, safe: str) -> None:
    assert file_name(name) == safe


def test_a_long_chinese_name_fits_a_file_name() -> None:
    name = file_name("很" * 300 + ".xlsx")
    assert name.endswith("很.xlsx")
    assert len(name.encode("utf-8")) <= 200
