"""Fuzz: damaged copies of a valid workbook give a Result or a documented WorkbookError, nothing else.

Three bounded hypothesis searches over one filled template: raw byte mutations of the file
(flips, overwrites, truncation, junk inserted), mutations of the XML *inside* the zip re-packed
into a well-formed zip (so the spreadsheet parser, not only the zip reader, sees damage), and
the same files through ``read_many``, which must never raise for a bad file.
"""

from __future__ import annotations

import io
import os
import random
import sys
import tempfile
import zipfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lo import requires_soffice
from xls_gongkai.errors import TemplateMismatchError, UnreadableWorkbookError, WorkbookError
from xls_gongkai.issues import Code, Result
from xls_gongkai.reading.reader import read_many, read_workbook
from xls_gongkai.report import Unit
from xls_gongkai.sample import random_report
from xls_gongkai.spec import get_format
from xls_gongkai.workbook.writer import write_workbook

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@cache
def valid() -> bytes:
    """A filled template's bytes (not a fixture: hypothesis would print 20 kB with every failure)."""
    fmt = get_format(2023)
    report = random_report(fmt, Unit("001", "城关镇"), 2023, random.Random(7), {"s1": "总体情况"})
    with tempfile.TemporaryDirectory() as tmp:
        return write_workbook(Path(tmp) / "valid.xlsx", report).read_bytes()


def outcome(path: Path) -> str:
    """Read ``path``; return what happened, failing the test on anything undocumented."""
    try:
        result = read_workbook(path)
    except (UnreadableWorkbookError, TemplateMismatchError) as exc:
        message = str(exc)
        # One Chinese line naming the file.
        assert path.name in message
        assert "\n" not in message
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
        return type(exc).__name__
    assert isinstance(result, Result)
    assert result.report is not None
    for issue in result.issues:
        assert issue.message
    return "result"


mutation = st.tuples(
    st.sampled_from(["flip", "overwrite", "truncate", "insert", "zero"]),
    st.floats(0, 1, allow_nan=False),
    st.binary(min_size=1, max_size=64),
)


def mutate(data: bytes, ops: list[tuple[str, float, bytes]]) -> bytes:
    buf = bytearray(data)
    for op, where, junk in ops:
        if not buf:
            break
        i = min(int(where * len(buf)), len(buf) - 1)
        if op == "flip":
            buf[i] ^= junk[0] or 0xFF
        elif op == "overwrite":
            buf[i : i + len(junk)] = junk
        elif op == "truncate":
            del buf[i:]
        elif op == "insert":
            buf[i:i] = junk
        else:
            buf[i : i + len(junk)] = bytes(len(junk[: len(buf) - i]))
    return bytes(buf)


@FUZZ
@given(ops=st.lists(mutation, min_size=1, max_size=4))
def test_byte_mutations_give_a_result_or_a_documented_error(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, float, bytes]]
) -> None:
    path = tmp_path_factory.mktemp("bytes") / "mutated.xlsx"
    path.write_bytes(mutate(valid(), ops))
    outcome(path)


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _repack(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return out.getvalue()


@FUZZ
@given(data=st.data())
def test_xml_mutations_inside_the_zip_give_a_result_or_a_documented_error(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    parts = _parts(valid())
    xml_names = sorted(n for n in parts if n.endswith((".xml", ".rels")))
    name = data.draw(st.sampled_from(xml_names), label="part")
    ops = data.draw(st.lists(mutation, min_size=1, max_size=3), label="ops")
    parts[name] = mutate(parts[name], ops)
    if data.draw(st.booleans(), label="drop a part"):
        parts.pop(data.draw(st.sampled_from(sorted(parts)), label="dropped"))
    path = tmp_path_factory.mktemp("xml") / "mutated.xlsx"
    path.write_bytes(_repack(parts))
    outcome(path)


def test_documented_errors_are_workbook_errors() -> None:
    # The fuzz tests accept exactly these two; both must be what the CLI maps to exit code 2.
    assert issubclass(UnreadableWorkbookError, WorkbookError)
    assert issubclass(TemplateMismatchError, WorkbookError)
    assert UnreadableWorkbookError("x").exit_code == TemplateMismatchError("x").exit_code == 2


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.lists(mutation, min_size=1, max_size=3), min_size=3, max_size=5))
def test_read_many_never_raises_for_damaged_files(
    tmp_path_factory: pytest.TempPathFactory, ops: list[list[tuple[str, float, bytes]]]
) -> None:
    folder = tmp_path_factory.mktemp("many")
    paths = []
    for i, one in enumerate(ops):
        p = folder / f"f{i}.xlsx"
        p.write_bytes(mutate(valid(), one))
        paths.append(p)
    good = folder / "good.xlsx"
    good.write_bytes(valid())
    paths.append(good)
    results = read_many(paths, jobs=1)
    assert [r.source for r in results] == [str(p) for p in paths]
    assert results[-1].report is not None
    for r in results:
        if r.report is None:
            assert [i.code for i in r.issues] == [Code.FILE_UNREADABLE]


def test_regression_unknown_zip_version_is_an_unreadable_file(tmp_path: Path) -> None:
    # Found by this fuzz test: a damaged central directory that declares an unknown zip
    # version made zipfile raise NotImplementedError past the safety check.
    data = bytearray(valid())
    at = data.index(b"PK\x01\x02")
    data[at + 6 : at + 8] = (164).to_bytes(2, "little")  # "version needed to extract" 16.4
    path = tmp_path / "version.xlsx"
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableWorkbookError, match=r"version\.xlsx"):
        read_workbook(path)


def test_regression_corrupt_xml_part_is_an_unreadable_file(tmp_path: Path) -> None:
    # Found by this fuzz test: a part whose deflate stream is broken raised a raw BadZipFile
    # while the safety check looked for a DTD.
    parts = _parts(valid())
    raw = bytearray(_repack(parts))
    name = b"xl/worksheets/sheet3.xml"
    start = raw.index(name) + len(name)  # the compressed data follows the local header's name
    for i in range(start + 40, start + 60):
        raw[i] ^= 0x55
    path = tmp_path / "corrupt.xlsx"
    path.write_bytes(bytes(raw))
    with pytest.raises(UnreadableWorkbookError, match=r"corrupt\.xlsx"):
        read_workbook(path)


# --------------------------------------------------------------------------- structure mutations

JUNK = (
    "abc",
    "１２",
    "3.5",
    "-4",
    "22（其中修订16件）",
    "251000元",
    "总计",
    "（七）总计",
    "3.其他",
    "规章",
    "第二十条第（一）项",
    "三、本年度办理结果",
    1e300,
    True,
)


@cache
def grids_of_template(format_id: str) -> dict[str, list[list[object]]]:
    from python_calamine import CalamineWorkbook

    fmt = get_format(format_id)
    report = random_report(fmt, Unit("001", "城关镇"), fmt.year_from + 1, random.Random(3), {"s1": "总体情况"})
    with tempfile.TemporaryDirectory() as tmp:
        path = write_workbook(Path(tmp) / "t.xlsx", report)
        wb = CalamineWorkbook.from_path(str(path))
        return {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in wb.sheet_names}


edit = st.tuples(
    st.sampled_from(["insert row", "delete row", "insert column", "delete column", "swap rows", "set"]),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.sampled_from(JUNK),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    format_id=st.sampled_from(["gongkai-2019", "gongkai-2021"]),
    drop_meta=st.booleans(),
    edits=st.lists(edit, min_size=1, max_size=6),
)
def test_edited_structure_gives_a_result_or_a_documented_error(
    tmp_path_factory: pytest.TempPathFactory,
    format_id: str,
    drop_meta: bool,
    edits: list[tuple[str, int, int, object]],
) -> None:
    """Rows and columns inserted, deleted, swapped and junk typed anywhere: the label paths cope."""
    import xlsxwriter

    grids = {n: [list(r) for r in g] for n, g in grids_of_template(format_id).items()}
    if drop_meta:
        grids.pop("_meta", None)
    sheets = sorted(n for n in grids if n != "_meta")
    for op, a, b, junk in edits:
        grid = grids[sheets[a % len(sheets)]]
        if not grid:
            continue
        r = b % len(grid)
        col = a % 12
        if op == "insert row":
            grid.insert(r, [])
        elif op == "delete row":
            del grid[r]
        elif op == "insert column":
            for row in grid:
                row.insert(min(col, len(row)), None)
        elif op == "delete column":
            for row in grid:
                if col < len(row):
                    del row[col]
        elif op == "swap rows":
            r2 = a % len(grid)
            grid[r], grid[r2] = grid[r2], grid[r]
        else:
            row = grid[r]
            row.extend([None] * (col + 1 - len(row)))
            row[col] = junk
    path = tmp_path_factory.mktemp("edited") / "edited.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    for name, grid in grids.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                if v is not None and v != "":
                    ws.write(r, c, v)
        if name == "_meta":
            ws.very_hidden()
    wb.close()
    outcome(path)


# --------------------------------------------------------------------------- .xls and .ods


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Our template saved by LibreOffice as .xls (an OLE compound file) and .ods."""
    from tests.lo import convert

    folder = tmp_path_factory.mktemp("lo")
    src = folder / "template.xlsx"
    src.write_bytes(valid())
    return [*convert([src], "xls", folder / "xls"), *convert([src], "ods", folder / "ods")]


@pytest.mark.soffice
@requires_soffice
def test_damaged_xls_and_ods_give_a_result_or_a_documented_error(converted: list[Path], tmp_path: Path) -> None:
    """Byte mutations of LibreOffice's .xls and .ods; python-calamine's Rust parser panicked on
    some damaged .xls (PanicException, a BaseException) — those must be unreadable files too."""
    rnd = random.Random(20240131)
    kinds = ["flip", "overwrite", "truncate", "insert", "zero"]
    seen: dict[str, int] = {}
    for src in converted:
        data = src.read_bytes()
        for i in range(150):
            ops = [
                (rnd.choice(kinds), rnd.random(), rnd.randbytes(rnd.randint(1, 8))) for _ in range(rnd.randint(1, 3))
            ]
            path = tmp_path / f"m{i}{src.suffix}"
            path.write_bytes(mutate(data, ops))
            what = outcome(path)
            seen[what] = seen.get(what, 0) + 1
    assert seen.get("UnreadableWorkbookError", 0) > 0
    assert seen.get("result", 0) > 0


def _fake_xls(path: Path) -> Path:
    # Enough for the container check: the OLE signature and a "Workbook" stream name.
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "Workbook".encode("utf-16-le") + bytes(512))
    return path


@pytest.mark.skipif(not hasattr(os, "fork"), reason="进程隔离需要 fork（Windows 上直接解析）")
def test_a_parser_that_aborts_the_process_only_kills_the_probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # python-calamine aborted the whole process on a damaged .xls ("memory allocation of
    # 1742146124400 bytes failed"); the probe child takes the hit instead.
    from xls_gongkai.reading import safety

    def abort(path: str, memory: int) -> None:
        import faulthandler

        faulthandler.disable()  # pytest's faulthandler would print the child's abort
        os.abort()

    monkeypatch.setattr(safety, "_probe_child", abort)
    path = _fake_xls(tmp_path / "abort.xls")
    with pytest.raises(UnreadableWorkbookError, match=r"abort\.xls.*中止"):
        read_workbook(path)
    results = read_many([path, path], jobs=1)
    assert [i.code for r in results for i in r.issues] == [Code.FILE_UNREADABLE] * 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="进程隔离需要 fork（Windows 上直接解析）")
def test_a_parser_that_hangs_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from xls_gongkai.reading import safety

    monkeypatch.setattr(safety, "_probe_child", lambda path, memory: time.sleep(60))
    path = _fake_xls(tmp_path / "hang.xls")
    with pytest.raises(UnreadableWorkbookError, match="超时"):
        safety.inspect_file(path, safety.Limits(probe_seconds=0.3))


# --------------------------------------------------------------------------- used area


def test_a_value_typed_far_away_is_refused_before_parsing(tmp_path: Path) -> None:
    # One value at XFD1048576 made python-calamine ask for 549 GB and abort the process; one at
    # row 200,001 kept it busy for minutes. Both are refused from the sheet's <dimension>.
    import xlsxwriter

    for name, (row, col) in {"corner.xlsx": (1048575, 16383), "far.xlsx": (200000, 300)}.items():
        path = tmp_path / name
        wb = xlsxwriter.Workbook(str(path))
        ws = wb.add_worksheet("表三")
        ws.write(0, 0, "一、本年新收政府信息公开申请数量")
        ws.write(row, col, "多余")
        wb.close()
        with pytest.raises(UnreadableWorkbookError, match="使用范围异常大"):
            read_workbook(path)


def _crafted(path: Path, cells: str) -> Path:
    """The valid workbook with 表三's cells replaced by ``cells`` under a one-cell declared area."""
    import re

    parts = _parts(valid())
    name = "xl/worksheets/sheet3.xml"
    parts[name] = re.sub(
        rb"<sheetData>.*</sheetData>", f"<sheetData>{cells}</sheetData>".encode(), parts[name], flags=re.S
    )
    parts[name] = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', parts[name])
    path.write_bytes(_repack(parts))
    return path


@pytest.mark.parametrize(
    "cells",
    [
        # a far row given only on the row element, its cell without a reference (calamine counts
        # it on from the row): 900,000 rows × 702 columns asked for 20 GB
        '<row r="1"><c r="ZZ1"><v>1</v></c></row><row r="900000"><c><v>2</v></c></row>',
        # a cell without a reference as its first attribute
        '<row r="1"><c r="ZZ1"><v>1</v></c></row><row r="900000"><c t="n"><v>2</v></c></row>',
        # a far row on the row element alone
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="2000000"><c r="ZZ2000000"><v>2</v></c></row>',
    ],
)
def test_far_cells_without_far_cell_references_go_to_the_probe(tmp_path: Path, cells: str) -> None:
    # Crafted parts that declare a one-cell used area and never write a far cell reference
    # (no "AAA1", no "A10000" after r="): calamine placed the cells far all the same and
    # aborted the process. The probe child takes the hit; the reader refuses the file.
    path = _crafted(tmp_path / "crafted.xlsx", cells)
    with pytest.raises(UnreadableWorkbookError, match=r"crafted\.xlsx"):
        read_workbook(path)


@pytest.mark.parametrize("writer", ["xlsxwriter", "openpyxl"])
def test_the_parser_reads_the_same_values_from_the_unpacked_copy(tmp_path: Path, writer: str) -> None:
    # The reader hands python-calamine the workbook with each worksheet's cells already inflated
    # and cut after <sheetData>: every sheet must read exactly as from the file itself, for our
    # template and for the same workbook re-saved by openpyxl (other XML, other part order).
    import openpyxl
    import python_calamine

    from xls_gongkai.reading.safety import inspect_file

    path = tmp_path / "valid.xlsx"
    path.write_bytes(valid())
    if writer == "openpyxl":
        openpyxl.load_workbook(path).save(path)
    unpacked = inspect_file(path).unpacked
    assert unpacked is not None
    assert len(unpacked) > path.stat().st_size
    original = python_calamine.CalamineWorkbook.from_path(str(path))
    copy = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(unpacked))
    assert copy.sheet_names == original.sheet_names
    for sheet in original.sheet_names:
        grid = copy.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        assert grid == original.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        assert any(v != "" for row in grid for v in row)


def test_a_part_inflating_to_more_than_declared_is_refused(tmp_path: Path) -> None:
    # The zip-bomb limits are checked against the directory's sizes; a part whose stream
    # inflates to more than its directory entry declares is not inflated past the declaration.
    data = bytearray(valid())
    name = b"xl/worksheets/sheet3.xml"
    at = data.index(name, data.index(b"PK\x01\x02")) - 46  # its central directory entry
    assert data[at : at + 4] == b"PK\x01\x02"
    data[at + 24 : at + 28] = (1000).to_bytes(4, "little")  # uncompressed size: 1,000 bytes
    path = tmp_path / "liar.xlsx"
    path.write_bytes(bytes(data))
    assert outcome(path) == "UnreadableWorkbookError"


def test_a_sheet_without_dimension_is_read(tmp_path: Path) -> None:
    # No declared used area (no program we know omits it): the cell references themselves are
    # looked at, and the file reads as usual (in-process, and with a fresh-interpreter probe).
    import re

    parts = _parts(valid())
    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        parts[name] = re.sub(rb"<dimension[^>]*/>", b"", parts[name])
    path = tmp_path / "nodim.xlsx"
    path.write_bytes(_repack(parts))
    from xls_gongkai.reading.safety import Limits, inspect_file

    assert inspect_file(path, Limits(probe_spawn=True)).kind == "xlsx"
    result = read_workbook(path)
    assert result.report is not None
    assert not result.errors


@pytest.mark.soffice
@requires_soffice
def test_an_ods_with_a_far_cell_is_refused_in_bounded_time(tmp_path: Path) -> None:
    # LibreOffice writes the empty cells before a far value as one repeated cell; python-calamine
    # expanded a value at row 200,001, column 301 into 60 million cells for minutes. The bounded
    # child probe refuses it instead.
    import xlsxwriter

    from tests.lo import convert

    src = tmp_path / "far.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("表三")
    ws.write(0, 0, "一、本年新收政府信息公开申请数量")
    ws.write(200000, 300, "多余")
    wb.close()
    (ods,) = convert([src], "ods", tmp_path / "ods")
    with pytest.raises(UnreadableWorkbookError, match=r"far\.ods"):
        read_workbook(ods)


def test_a_far_cell_under_a_small_declared_area_goes_to_the_probe(tmp_path: Path) -> None:
    # A crafted part declaring <dimension ref="A1:B2"/> but holding a cell at XFD1048576 made
    # python-calamine abort the process; the cell references themselves are looked at.
    import re

    import xlsxwriter

    src = tmp_path / "src.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("表三")
    ws.write(0, 0, "一、本年新收政府信息公开申请数量")
    ws.write(1048575, 16383, "多余")
    wb.close()
    parts = _parts(src.read_bytes())
    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        parts[name] = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:B2"/>', parts[name])
    path = tmp_path / "lying.xlsx"
    path.write_bytes(_repack(parts))
    with pytest.raises(UnreadableWorkbookError, match=r"lying\.xlsx"):
        read_workbook(path)
    # the same with a fresh interpreter as the probe (what Windows, without fork, uses)
    from xls_gongkai.reading.safety import Limits, inspect_file

    with pytest.raises(UnreadableWorkbookError, match=r"lying\.xlsx"):
        inspect_file(path, Limits(probe_spawn=True))
    # and in a batch on all cores the other files are still read
    good = tmp_path / "good.xlsx"
    good.write_bytes(valid())
    copies = [good] + [tmp_path / f"good{i}.xlsx" for i in range(4)]
    for c in copies[1:]:
        c.write_bytes(valid())
    results = read_many([path, *copies], jobs=2)
    assert results[0].report is None
    assert all(r.report is not None for r in results[1:])


def test_regression_a_part_claiming_more_bytes_than_the_file_has(tmp_path: Path) -> None:
    # Found by fuzzing: a part whose directory entry claims more compressed bytes than the file
    # holds, and which shows no element, made the DTD scan loop forever on empty reads.
    from xls_gongkai.reading.safety import inspect_file

    parts = _parts(valid())
    parts["xl/notes.xml"] = b" " * 10
    data = bytearray(_repack(parts))
    at = data.rindex(b"PK\x01\x02")  # the central directory entry of the last part, xl/notes.xml
    assert data[at + 46 : at + 46 + len(b"xl/notes.xml")] == b"xl/notes.xml"
    data[at + 20 : at + 24] = (0x00FFFFFF).to_bytes(4, "little")  # compressed size: 16 MB
    path = tmp_path / "claim.xlsx"
    path.write_bytes(bytes(data))
    assert inspect_file(path).kind == "xlsx"  # returns (it used to hang)


def _confined_limits() -> tuple[bool, bool, int]:
    import resource

    from xls_gongkai.reading import safety

    confined = safety.confine()
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return confined, safety.default_limits().scan_cells, soft


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux only")
def test_a_confined_worker_has_bounded_memory_and_skips_the_reference_scan() -> None:
    from concurrent.futures import ProcessPoolExecutor

    from xls_gongkai.reading import safety

    assert safety.default_limits().scan_cells  # this process: every reference is looked at
    with ProcessPoolExecutor(max_workers=1) as pool:
        confined, scan, bound = pool.submit(_confined_limits).result()
    assert confined
    assert not scan
    assert 0 < bound < 64 * 1024**3  # far below what the crafted files asked for


def test_a_batch_survives_a_crafted_far_cell_in_a_confined_worker(tmp_path: Path) -> None:
    # In a batch the workers are confined and do not scan references: the crafted file makes
    # python-calamine abort its worker (bounded memory: at once, not after filling the
    # machine), that file is reported and the others are read, also with jobs=1.
    cells = '<row r="1"><c r="ZZ1"><v>1</v></c></row><row r="900000"><c><v>2</v></c></row>'
    crafted = _crafted(tmp_path / "crafted.xlsx", cells)
    good = [tmp_path / f"good{i}.xlsx" for i in range(3)]
    for g in good:
        g.write_bytes(valid())
    for jobs in (1, 2):
        results = read_many([good[0], crafted, *good[1:]], jobs=jobs)
        assert [r.source for r in results] == [str(p) for p in (good[0], crafted, *good[1:])]
        assert [i.code for i in results[1].issues] == [Code.FILE_UNREADABLE]
        assert "crafted.xlsx" in results[1].issues[0].message
        assert all(r.report is not None for i, r in enumerate(results) if i != 1)


def test_regression_a_byte_inserted_into_the_first_part(tmp_path: Path) -> None:
    # Found by this fuzz test: one byte inserted inside [Content_Types].xml shifts every later
    # part; zipfile corrects the directory's offsets for that, which leaves the first part's
    # local header where none is. Copying that part for the parser raised a raw BadZipFile.
    data = bytearray(valid())
    data.insert(int(0.015625 * len(data)), 0)
    path = tmp_path / "shifted.xlsx"
    path.write_bytes(bytes(data))
    assert outcome(path) == "UnreadableWorkbookError"
