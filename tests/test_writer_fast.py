"""Blank templates written from a cached skeleton are exactly what xlsxwriter writes directly.

``write_workbook`` writes the first blank template of a kind with xlsxwriter and every further
one by replacing the unit's strings in that package; these tests compare the two paths part by
part, for awkward unit names too, and check that what a reader sees is the unit's own data.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from xls_gongkai.errors import UsageError
from xls_gongkai.report import Report, Unit
from xls_gongkai.spec import get_format
from xls_gongkai.workbook.layout import META_SHEET
from xls_gongkai.workbook.writer import META_KEYS, WriteOptions, _personal, _write, write_workbook

OPTIONS = WriteOptions(
    deadline="2025年2月20日", contact="政务公开办 & 档案室 <0371-1234567>", generated_at="2025-01-02T03:04:05+00:00"
)
_CREATED = re.compile(rb"<dcterms:(created|modified)[^<]*</dcterms:\1>")


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    # The package's own creation time differs between two writes; nothing else may.
    parts["docProps/core.xml"] = _CREATED.sub(b"", parts["docProps/core.xml"])
    return parts


def _both(tmp: Path, report: Report, options: WriteOptions = OPTIONS) -> tuple[dict[str, bytes], dict[str, bytes]]:
    fast = write_workbook(tmp / "fast.xlsx", report, options)
    direct = tmp / "direct.xlsx"
    _write(str(direct), report, options, (), None, _personal(report, options))
    return _parts(fast), _parts(direct)


UNITS = [
    Unit("410102001", "城关镇", "清河县"),
    Unit("410102202", "县发展和改革委员会", ""),
    Unit("", "A&B <局> \"办\" '室'", ""),
    Unit("X-1", "很长的单位名称" * 30, "上级"),
    Unit("1", "1", "1"),  # equal to fixed strings of the workbook: written the normal way
    Unit("2", "名称\t带制表符", ""),  # control character: written the normal way
    Unit("3", " 前后有空格 ", ""),
]


@pytest.mark.parametrize("year", [2020, 2024])
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.code or "blank-code")
def test_fast_path_is_byte_identical(tmp_path: Path, unit: Unit, year: int) -> None:
    fast, direct = _both(tmp_path, Report(unit, year, get_format(year).id))
    assert fast.keys() == direct.keys()
    for name in fast:
        assert fast[name] == direct[name], name


@settings(max_examples=30)
@given(
    name=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=40),
    code=st.from_regex(r"[0-9A-Za-z_&<>-]{0,12}", fullmatch=True),
    parent=st.sampled_from(["", "清河县", "A&B"]),
    year=st.sampled_from([2019, 2023]),
)
def test_fast_path_property(
    tmp_path_factory: pytest.TempPathFactory, name: str, code: str, parent: str, year: int
) -> None:
    tmp = tmp_path_factory.mktemp("fast")
    fast, direct = _both(tmp, Report(Unit(code, name, parent), year, get_format(year).id))
    assert fast == direct


def test_each_template_carries_its_own_unit(tmp_path: Path) -> None:
    fmt = get_format(2024)
    units = [Unit(f"41010200{i}", f"第{i}镇", "清河县") for i in range(1, 4)]
    for u in units:
        path = write_workbook(tmp_path / f"{u.code}.xlsx", Report(u, 2024, fmt.id), OPTIONS)
        wb = CalamineWorkbook.from_path(str(path))
        meta = dict(wb.get_sheet_by_name(META_SHEET).to_python()[1:])
        assert list(meta) == list(META_KEYS)
        assert (meta["unit_code"], meta["unit_name"], meta["unit_parent"]) == (u.code, u.name, u.parent)
        guide = wb.get_sheet_by_name("填报说明").to_python()
        assert guide[2][1] == u.name
        assert guide[3][1] == u.code
        with zipfile.ZipFile(path) as z:
            sheet = z.read("xl/worksheets/sheet2.xml").decode()
        assert f"&amp;L{u.name}&amp;C" in sheet  # the footer names the unit


@pytest.mark.parametrize("filled", [False, True])
def test_unwritable_target_is_one_clear_error_and_leaves_nothing(tmp_path: Path, filled: bool) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    values = {("t3", "new", "natural"): 1} if filled else {}
    with pytest.raises(UsageError, match="无法写入"):
        write_workbook(blocker / "a.xlsx", Report(UNITS[0], 2024, "gongkai-2021", values))
    write_workbook(tmp_path / "out" / "a.xlsx", Report(UNITS[0], 2024, "gongkai-2021", values))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.xlsx"]  # no temporary file left


@pytest.mark.parametrize("password", ["密码123", "tab\there", "x" * 256])
def test_password_excel_cannot_check_is_refused(tmp_path: Path, password: str) -> None:
    with pytest.raises(UsageError, match="保护密码"):
        write_workbook(tmp_path / "a.xlsx", Report(UNITS[0], 2024, "gongkai-2021"), WriteOptions(password=password))
    assert not list(tmp_path.iterdir())
