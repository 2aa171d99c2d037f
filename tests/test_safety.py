"""The untrusted-container layer: what inspect_file refuses, what it names, and what it lets through.

Every refused file gives one Chinese line naming the file and saying what to do
(:class:`UnreadableWorkbookError`); every file let through can be parsed by python-calamine
without taking the process down. Files that could take it down (far cells) are never parsed in
this process here: they must be refused first.
"""

from __future__ import annotations

import io
import os
import random
import re
import sys
import time
import zipfile
from pathlib import Path

import pytest
import python_calamine
import xlsxwriter
from msoffcrypto.format.ooxml import OOXMLFile

from tests.safety_files import changed, declare_size, entries, fake_xls, ods, one_line, pack, part, template_bytes
from xls_gongkai.errors import UnreadableWorkbookError
from xls_gongkai.issues import CATALOGUE, Code
from xls_gongkai.reading import safety
from xls_gongkai.reading.safety import Container, Limits, explain_failure, inspect_file
from xls_gongkai.spec import Severity

NO_PROBE = Limits(probe_binary=False)


def refused(path: Path, limits: Limits | None = None, *, scan_xml: bool = True) -> str:
    with pytest.raises(UnreadableWorkbookError) as err:
        inspect_file(path, limits, scan_xml=scan_xml)
    return one_line(err.value, path.name)


def grids(path: Path) -> dict[str, list[list[object]]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {n: book.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in book.sheet_names}


# --------------------------------------------------------------------------- what a file is


def test_the_template_is_an_xlsx_with_nothing_to_say(tmp_path: Path) -> None:
    path = tmp_path / "城关镇.xlsx"
    path.write_bytes(template_bytes())
    container = inspect_file(path)
    assert (container.kind, container.size, container.findings) == ("xlsx", path.stat().st_size, ())
    assert isinstance(container, Container)
    explain_failure(path)  # the full scan finds nothing either


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (random.Random(7).randbytes(5000), "不是电子表格"),
        (b"%PDF-1.7\n...", "PDF"),
        (b"{\\rtf1 ...}", "RTF"),
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "网页"),
        ("单位,数量\n城关镇,3\n".encode("gbk"), "纯文本"),
        (b"", "0 字节"),
    ],
)
def test_files_that_are_not_spreadsheets(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "报表.xls"
    path.write_bytes(content)
    assert words in refused(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert "不存在" in refused(tmp_path / "没有.xlsx")
    (tmp_path / "夹.xlsx").mkdir()
    assert "文件夹" in refused(tmp_path / "夹.xlsx")


def test_oversized_file(tmp_path: Path) -> None:
    path = tmp_path / "大.xlsx"
    path.write_bytes(template_bytes())
    assert "过大" in refused(path, Limits(max_file_bytes=10_000))


def test_truncated_and_damaged_zips(tmp_path: Path) -> None:
    data = template_bytes()
    for cut in (len(data) // 3, len(data) - 30):
        path = tmp_path / f"截断{cut}.xlsx"
        path.write_bytes(data[:cut])
        assert "损坏" in refused(path)


def test_encrypted_workbook(tmp_path: Path) -> None:
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(template_bytes())).encrypt("123456", out)
    path = tmp_path / "加密.xlsx"
    path.write_bytes(out.getvalue())
    assert "密码" in refused(path)


def test_other_office_documents(tmp_path: Path) -> None:
    import docx

    d = tmp_path / "a.docx"
    docx.Document().save(str(d))
    path = tmp_path / "年报.xlsx"
    path.write_bytes(d.read_bytes())
    assert "Word" in refused(path)
    path = tmp_path / "年报.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "WordDocument".encode("utf-16-le"))
    assert "Word" in refused(path)


def test_an_empty_zip_and_a_zip_of_other_things(tmp_path: Path) -> None:
    path = tmp_path / "空.xlsx"
    path.write_bytes(pack([]))
    assert "损坏" in refused(path) or "空的压缩包" in refused(path)
    path = tmp_path / "杂.xlsx"
    path.write_bytes(pack([("a.txt", b"x")]))
    assert "不是电子表格" in refused(path)


# --------------------------------------------------------------------------- limits on the zip


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "炸弹.xlsx"
    path.write_bytes(declare_size(template_bytes(), b"xl/worksheets/sheet3.xml", 3_900_000_000))
    assert "压缩炸弹" in refused(path, scan_xml=False)


def test_a_real_compression_ratio_bomb(tmp_path: Path) -> None:
    # 40 MB of one repeated row compress ~1000:1: refused from the directory, nothing inflated.
    row = b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
    sheet = b"<worksheet><sheetData>" + row * (40_000_000 // len(row)) + b"</sheetData></worksheet>"
    path = changed(tmp_path / "炸弹2.xlsx", {"xl/worksheets/sheet3.xml": sheet})
    assert path.stat().st_size < 1_000_000
    assert "压缩炸弹" in refused(path, scan_xml=False)


def test_the_total_inflated_size_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "多.xlsx"
    path.write_bytes(template_bytes())
    assert "压缩炸弹" in refused(path, Limits(max_total_bytes=100_000))


def test_too_many_parts(tmp_path: Path) -> None:
    path = changed(tmp_path / "多.xlsx", add=[(f"xl/media/x{i}.bin", b"") for i in range(60)])
    assert "数量异常" in refused(path, Limits(max_entries=50))
    assert inspect_file(path).kind == "xlsx"  # the default limit is far above a real workbook


def test_a_method_no_spreadsheet_program_uses_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in entries(template_bytes()):
            method = zipfile.ZIP_BZIP2 if name == "xl/sharedStrings.xml" else zipfile.ZIP_DEFLATED
            zf.writestr(name, body, compress_type=method)
    path = tmp_path / "bz.xlsx"
    path.write_bytes(out.getvalue())
    assert "压缩或加密" in refused(path, scan_xml=False)


def test_duplicate_entry_names_are_an_error(tmp_path: Path) -> None:
    # Two copies of a sheet: which one is the data? zipfile takes the last, other readers the first.
    sheet = part("xl/worksheets/sheet3.xml")
    other = sheet.replace(b"<v>", b"<v>9", 1)
    path = changed(tmp_path / "重名.xlsx", add=[("xl/worksheets/sheet3.xml", other)])
    msg = refused(path, scan_xml=False)
    assert "重名" in msg
    assert "xl/worksheets/sheet3.xml" in msg
    # part names compare without case, as the Office packaging rules say
    path = changed(tmp_path / "大小写.xlsx", add=[("XL/Worksheets/Sheet3.xml", other)])
    assert "重名" in refused(path, scan_xml=False)


# --------------------------------------------------------------------------- XML: DTDs and entities


def _entity_bomb() -> bytes:
    shared = part("xl/sharedStrings.xml").decode()
    lol = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">' for i in range(9))
        + "]>"
    )
    return (lol + shared.split("?>", 1)[1].replace("<t>", "<t>&lol8;", 1)).encode()


def test_an_entity_bomb_is_refused_and_calamine_never_expands_it(tmp_path: Path) -> None:
    path = changed(tmp_path / "实体.xlsx", {"xl/sharedStrings.xml": _entity_bomb()})
    assert "实体" in refused(path)
    with pytest.raises(UnreadableWorkbookError, match="实体"):
        explain_failure(path)
    # The reader's fast path skips the DTD scan: python-calamine stops at the entity with an
    # error (bounded), and the reader's explain_failure then gives the message above.
    assert inspect_file(path, scan_xml=False).kind == "xlsx"
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever calamine raises, it raises at once
        grids(path)


def test_a_dtd_hidden_behind_padding_is_refused(tmp_path: Path) -> None:
    padded = b"<?xml version='1.0'?>" + b" " * 3000 + b"<!DOCTYPE x [<!ENTITY a 'b'>]>" + part("xl/workbook.xml")
    path = changed(tmp_path / "填充.xlsx", {"xl/workbook.xml": padded})
    assert "实体" in refused(path)


# --------------------------------------------------------------------------- cells far away


@pytest.mark.parametrize(("row", "col"), [(1048575, 16383), (200000, 300)], ids=["XFD1048576", "KO200001"])
def test_a_value_typed_far_away_is_refused_before_parsing(tmp_path: Path, row: int, col: int) -> None:
    # One value at XFD1048576 made python-calamine ask for 549 GB and abort the process; one at
    # row 200,001 cost it 2.8 s and 2.3 GB. Both are refused from the sheet's <dimension>, in
    # an ordinary process and in a confined worker (there by special_cells, which the reader
    # runs before parsing).
    from xls_gongkai.reading.cells import special_cells

    path = tmp_path / "far.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("表三")
    ws.write(0, 0, "一、本年新收政府信息公开申请数量")
    ws.write(row, col, "多余")
    wb.close()
    assert "使用范围异常大" in refused(path)
    assert inspect_file(path, safety.CONFINED_LIMITS, scan_xml=False).kind == "xlsx"
    with pytest.raises(UnreadableWorkbookError, match="使用范围异常大") as err:
        special_cells(path)
    one_line(err.value, path.name)
    # and after a parser failed in a confined worker (or the batch's parent, after a crash)
    with pytest.raises(UnreadableWorkbookError, match="使用范围异常大"):
        explain_failure(path, safety.CONFINED_LIMITS)


def _crafted(path: Path, cells: str, dimension: str = "A1") -> Path:
    """The template with 表三's cells replaced by ``cells`` under a small declared area."""
    sheet = part("xl/worksheets/sheet3.xml")
    sheet = re.sub(rb"<sheetData>.*</sheetData>", f"<sheetData>{cells}</sheetData>".encode(), sheet, flags=re.S)
    sheet = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>'.encode(), sheet)
    return changed(path, {"xl/worksheets/sheet3.xml": sheet})


FAR = [
    # a far row given only on the row element, its cell without a reference (calamine counts
    # it on from the row): 900,000 rows × 702 columns asked for 20 GB
    '<row r="1"><c r="ZZ1"><v>1</v></c></row><row r="900000"><c><v>2</v></c></row>',
    # a cell without a reference as its first attribute
    '<row r="1"><c r="ZZ1"><v>1</v></c></row><row r="900000"><c t="n"><v>2</v></c></row>',
    # a far row on the row element alone, its cell far too
    '<row r="1"><c r="A1"><v>1</v></c></row><row r="2000000"><c r="ZZ2000000"><v>2</v></c></row>',
    # a far cell under a declared area of one cell (549 GB)
    '<row r="1"><c r="A1"><v>1</v></c><c r="XFD1048576"><v>1</v></c></row>',
]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="进程隔离需要 fork")
@pytest.mark.parametrize("cells", FAR)
def test_far_cells_under_a_small_declared_area_go_to_the_probe(tmp_path: Path, cells: str) -> None:
    # Crafted parts that declare a one-cell used area: calamine placed the cells far all the
    # same and aborted the process. The scan sends the file to the bounded child probe, which
    # takes the hit; the file is refused. The same with a fresh interpreter (Windows).
    path = _crafted(tmp_path / "crafted.xlsx", cells)
    assert "中止" in refused(path, scan_xml=False) or "内存" in refused(path, scan_xml=False)
    refused(path, Limits(probe_spawn=True), scan_xml=False)


def test_a_confined_worker_leaves_far_cells_to_its_memory_bound(tmp_path: Path) -> None:
    # In a confined worker neither the cell scan nor the probe runs: there calamine's absurd
    # allocation fails at once and costs that worker only (tests/test_fuzz.py reads such a
    # file in a batch). The file is let through, so the scan's cost is not paid per file.
    path = _crafted(tmp_path / "crafted.xlsx", FAR[0])
    assert inspect_file(path, safety.CONFINED_LIMITS, scan_xml=False).kind == "xlsx"
    assert Limits(scan_cells=False, probe_binary=False) == safety.CONFINED_LIMITS


def test_a_sheet_without_dimension_is_read(tmp_path: Path) -> None:
    # No declared used area: the cell references themselves are looked at, and the file reads
    # as usual (in-process, and with a fresh-interpreter probe).
    replace = {
        name: re.sub(rb"<dimension[^>]*/>", b"", body)
        for name, body in entries(template_bytes())
        if name.startswith("xl/worksheets/")
    }
    path = changed(tmp_path / "nodim.xlsx", replace)
    assert inspect_file(path).kind == "xlsx"
    assert inspect_file(path, Limits(probe_spawn=True)).kind == "xlsx"
    original = tmp_path / "original.xlsx"
    original.write_bytes(template_bytes())
    assert grids(path) == grids(original)


def test_a_sheet_spelt_with_a_namespace_prefix_goes_to_the_probe_and_is_read(tmp_path: Path) -> None:
    from tests.safety_files import workbook

    cells = '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="B1"><x:f>A1*2</x:f><x:v>2</x:v></x:c></x:row>'
    path = workbook(tmp_path / "prefixed.xlsx", {"表三": cells}, prefix="x:")
    assert inspect_file(path).kind == "xlsx"
    assert grids(path) == {"表三": [[1.0, 2.0]]}


# --------------------------------------------------------------------------- damaged parts


def test_a_part_inflating_to_more_than_declared_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "liar.xlsx"
    path.write_bytes(declare_size(template_bytes(), b"xl/worksheets/sheet3.xml", 1000))
    assert "损坏" in refused(path, scan_xml=False)


def test_a_broken_deflate_stream_is_refused(tmp_path: Path) -> None:
    raw = bytearray(pack(entries(template_bytes())))
    name = b"xl/worksheets/sheet3.xml"
    start = raw.index(name) + len(name)  # the compressed data follows the local header's name
    for i in range(start + 40, start + 60):
        raw[i] ^= 0x55
    path = tmp_path / "corrupt.xlsx"
    path.write_bytes(bytes(raw))
    assert "损坏" in refused(path, scan_xml=False)


def test_regression_unknown_zip_version_is_an_unreadable_file(tmp_path: Path) -> None:
    # A damaged central directory declaring an unknown zip version made zipfile raise
    # NotImplementedError past the safety check.
    data = bytearray(template_bytes())
    at = data.index(b"PK\x01\x02")
    data[at + 6 : at + 8] = (164).to_bytes(2, "little")
    path = tmp_path / "version.xlsx"
    path.write_bytes(bytes(data))
    refused(path)


def test_regression_a_part_claiming_more_bytes_than_the_file_has(tmp_path: Path) -> None:
    # A part whose directory entry claims more compressed bytes than the file holds, and which
    # shows no element, made the DTD scan loop forever on empty reads.
    data = bytearray(changed(tmp_path / "src.xlsx", add=[("xl/notes.xml", b" " * 10)]).read_bytes())
    at = data.rindex(b"PK\x01\x02")
    assert data[at + 46 : at + 46 + len(b"xl/notes.xml")] == b"xl/notes.xml"
    data[at + 20 : at + 24] = (0x00FFFFFF).to_bytes(4, "little")  # compressed size: 16 MB
    path = tmp_path / "claim.xlsx"
    path.write_bytes(bytes(data))
    started = time.monotonic()
    try:
        inspect_file(path)
    except UnreadableWorkbookError as exc:
        one_line(exc, path.name)
    assert time.monotonic() - started < 5


def test_regression_a_byte_inserted_into_the_first_part(tmp_path: Path) -> None:
    # One byte inserted inside [Content_Types].xml shifts every later part; zipfile corrects the
    # directory's offsets for that, which leaves the first part's header where none is.
    data = bytearray(template_bytes())
    data.insert(int(0.015625 * len(data)), 0)
    path = tmp_path / "shifted.xlsx"
    path.write_bytes(bytes(data))
    assert "损坏" in refused(path)


# --------------------------------------------------------------------------- the probe


@pytest.mark.skipif(not hasattr(os, "fork"), reason="进程隔离需要 fork（Windows 上直接解析）")
def test_a_parser_that_aborts_the_process_only_kills_the_probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # python-calamine aborted the whole process on a damaged .xls ("memory allocation of
    # 1742146124400 bytes failed"); the probe child takes the hit instead.
    def abort(path: str, memory: int) -> None:
        import faulthandler

        faulthandler.disable()  # pytest's faulthandler would print the child's abort
        os.abort()

    monkeypatch.setattr(safety, "_probe_child", abort)
    path = fake_xls(tmp_path / "abort.xls")
    assert "中止" in refused(path)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="进程隔离需要 fork（Windows 上直接解析）")
def test_a_parser_that_hangs_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, "_probe_child", lambda path, memory: time.sleep(60))
    path = fake_xls(tmp_path / "hang.xls")
    assert "超时" in refused(path, Limits(probe_seconds=0.3))


def _confined_state() -> tuple[bool, Limits, int]:
    import resource

    confined = safety.confine()
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return confined, safety.default_limits(), soft


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux only")
def test_a_confined_worker_has_bounded_memory_and_skips_scan_and_probe() -> None:
    from concurrent.futures import ProcessPoolExecutor

    assert safety.confinable()
    assert safety.default_limits() == safety.DEFAULT_LIMITS  # this process: scan and probe on
    with ProcessPoolExecutor(max_workers=1) as pool:
        confined, limits, bound = pool.submit(_confined_state).result()
    assert confined
    assert limits == safety.CONFINED_LIMITS
    assert 0 < bound < 64 * 1024**3  # far below what the crafted files asked for


# --------------------------------------------------------------------------- what a container holds


def _findings(path: Path) -> list[tuple[str, str, str]]:
    return [(f.code, f.detail, f.part) for f in inspect_file(path, NO_PROBE).findings]


def test_a_macro_project_is_named(tmp_path: Path) -> None:
    types = part("[Content_Types].xml").replace(
        b"</Types>",
        b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
    )
    path = changed(tmp_path / "宏.xlsm", {"[Content_Types].xml": types}, add=[("xl/vbaProject.bin", b"\0" * 64)])
    assert _findings(path) == [(Code.CONTAINER_CONTENT, "含宏（xl/vbaProject.bin）", "xl/vbaProject.bin")]
    add = [("xl/macrosheets/sheet1.xml", b"<xm:macrosheet/>")]
    assert _findings(changed(tmp_path / "xlm.xlsx", add=add))[0][1] == "含宏（xl/macrosheets/sheet1.xml）"


def test_embedded_objects_are_named(tmp_path: Path) -> None:
    add = [("xl/embeddings/oleObject1.bin", b"\xd0\xcf\x11\xe0"), ("xl/activeX/activeX1.xml", b"<ax/>")]
    path = changed(tmp_path / "对象.xlsx", add=add)
    assert [d for _c, d, _p in _findings(path)] == [
        "含嵌入对象（xl/embeddings/oleObject1.bin）",
        "含嵌入对象（xl/activeX/activeX1.xml）",
    ]


def _external_link(body: str, target: str | None) -> list[tuple[str, bytes]]:
    out = [("xl/externalLinks/externalLink1.xml", body.encode())]
    if target is not None:
        rels = (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships/externalLinkPath" Target="{target}" TargetMode="External"/>'
            "</Relationships>"
        )
        out.append(("xl/externalLinks/_rels/externalLink1.xml.rels", rels.encode()))
    return out


def test_an_external_link_is_named_with_its_target(tmp_path: Path) -> None:
    body = '<externalLink xmlns="x"><externalBook r:id="rId1"/></externalLink>'
    path = changed(tmp_path / "链接.xlsx", add=_external_link(body, "file:///C:\\报表\\x.xlsx"))
    [(code, detail, name)] = _findings(path)
    assert code == Code.CONTAINER_CONTENT
    assert detail == "含外部链接（xl/externalLinks/externalLink1.xml → 目标 file:///C:\\报表\\x.xlsx）"
    assert name == "xl/externalLinks/externalLink1.xml"


def test_a_dde_link_is_named(tmp_path: Path) -> None:
    body = '<externalLink xmlns="x"><ddeLink ddeService="cmd" ddeTopic="/c calc"><ddeItems/></ddeLink></externalLink>'
    path = changed(tmp_path / "dde.xlsx", add=_external_link(body, None))
    assert _findings(path) == [
        (
            Code.CONTAINER_CONTENT,
            "含 DDE 链接（xl/externalLinks/externalLink1.xml → cmd /c calc）",
            "xl/externalLinks/externalLink1.xml",
        )
    ]


def test_a_data_connection_is_named(tmp_path: Path) -> None:
    path = changed(tmp_path / "连接.xlsx", add=[("xl/connections.xml", b"<connections/>")])
    assert [d for _c, d, _p in _findings(path)] == ["含外部数据连接（xl/connections.xml）"]


@pytest.mark.parametrize(
    ("name", "shown"),
    [("../x", "../x"), ("/abs", "/abs"), ("a\\b", "a\\b"), ("C:/x", "C:/x"), ("xl/\x1b[31mred", "xl/\\x1b[31mred")],
)
def test_odd_entry_names_are_named_and_shown_safely(tmp_path: Path, name: str, shown: str) -> None:
    path = changed(tmp_path / "名字.xlsx", add=[(name, b"x")])
    assert _findings(path) == [(Code.ODD_ENTRY_NAME, f"压缩包内有异常的文件名“{shown}”", name)]


def test_many_parts_of_one_kind_are_folded(tmp_path: Path) -> None:
    add = [(f"xl/embeddings/oleObject{i}.bin", b"x") for i in range(12)]
    assert len(_findings(changed(tmp_path / "多.xlsx", add=add))) == 5


def test_an_xls_with_macros_and_objects(tmp_path: Path) -> None:
    path = fake_xls(tmp_path / "宏.xls", "_VBA_PROJECT_CUR", "ObjectPool")
    assert [d for _c, d, _p in _findings(path)] == ["含宏（VBA 工程 _VBA_PROJECT_CUR）", "含嵌入对象（ObjectPool）"]


def test_an_ods_with_basic_macros_and_an_object(tmp_path: Path) -> None:
    src = ods(tmp_path / "src.ods", {"表三": "<table:table-row><table:table-cell/></table:table-row>"})
    items = [*entries(src.read_bytes()), ("Basic/Standard/Module1.xml", b"<m/>"), ("Object 1/content.xml", b"<o/>")]
    path = tmp_path / "宏.ods"
    path.write_bytes(pack(items))
    assert [d for _c, d, _p in _findings(path)] == [
        "含宏（Basic/Standard/Module1.xml）",
        "含嵌入对象（Object 1/content.xml）",
    ]


def test_the_findings_codes_are_warnings_in_the_catalogue() -> None:
    for code in (Code.CONTAINER_CONTENT, Code.ODD_ENTRY_NAME):
        kind = CATALOGUE[code]
        assert kind.severity is Severity.WARNING
        issue = kind.make(detail="含宏（xl/vbaProject.bin）", file="a.xlsm")
        assert issue.message.startswith("含宏（xl/vbaProject.bin）。")
        assert "请" in issue.message
        assert issue.file == "a.xlsm"


def test_a_file_name_with_control_characters_is_shown_safely(tmp_path: Path) -> None:
    path = tmp_path / "a\x1b[2Jb.xlsx"
    path.write_bytes(b"")
    with pytest.raises(UnreadableWorkbookError) as err:
        inspect_file(path)
    assert "\x1b" not in str(err.value)
    assert "a\\x1b[2Jb.xlsx" in str(err.value)
