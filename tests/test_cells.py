"""special_cells: every formula and error value python-calamine cannot show, by sheet name and position."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import python_calamine
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.lo import requires_soffice
from tests.safety_files import changed, entries, fake_xls, ods, part, template_bytes, workbook
from xls_gongkai.errors import UnreadableWorkbookError
from xls_gongkai.reading.cells import MAX_FORMULA, CellNote, special_cells
from xls_gongkai.reading.safety import inspect_file


def test_the_templates_own_formulas_with_their_results(tmp_path: Path) -> None:
    path = tmp_path / "城关镇.xlsx"
    path.write_bytes(template_bytes())
    notes = special_cells(path)
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    assert list(notes) == book.sheet_names  # every worksheet, by its visible name, in order
    formulas = sum(len(re.findall(rb"<f[ >]", part(f"xl/worksheets/sheet{i}.xml"))) for i in range(1, 7))
    assert sum(1 for sheet in notes.values() for n in sheet.values() if n.formula is not None) >= formulas - 5
    for name, sheet in notes.items():
        grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for (r, c), note in sheet.items():
            assert note.formula
            assert note.error is None
            if note.value is not None:  # the stored result is what calamine shows
                shown = grid[r][c]
                assert note.value == (shown if isinstance(shown, str) else format(shown, "g")) or float(
                    note.value
                ) == pytest.approx(shown)
    # 表三's first total, J7 = 自然人 + the five kinds of 法人或其他组织
    assert notes["表三"][(6, 9)].formula == "SUM(D7)+SUM(E7:I7)"
    # the check cells are array formulas in 表二
    assert any(n.array for n in notes["表二"].values())
    assert special_cells(path, ["表三"]).keys() == {"表三"}
    assert special_cells(path, []) == {}


def test_a_container_is_looked_at_without_reading_the_file_again(tmp_path: Path) -> None:
    path = tmp_path / "城关镇.xlsx"
    path.write_bytes(template_bytes())
    container = inspect_file(path)
    expected = special_cells(path)
    path.write_bytes(b"changed since")
    assert special_cells(container) == expected


def test_error_values_and_formulas_typed_into_input_cells(tmp_path: Path) -> None:
    # What the issue names: #REF!, #DIV/0!, #N/A in input cells, and formulas typed over inputs
    # (another workbook, DDE, a volatile function) — calamine shows "" or the stored result.
    cells = (
        '<row r="7"><c r="D7" t="e"><v>#REF!</v></c><c r="E7"><f>[1]表三!E7</f><v>12</v></c>'
        '<c r="F7"><f>cmd|\'/c calc\'!A0</f><v>0</v></c><c r="G7"><f>RAND()*10</f><v>3.5</v></c>'
        '<c r="H7" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="I7" t="e"><v>#N/A</v></c>'
        '<c r="J7" t="str"><f>"a&amp;b"&amp;"&lt;c&gt;"</f><v>a&amp;b&lt;c&gt;</v></c><c r="K7" t="e"/></row>'
    )
    path = workbook(tmp_path / "填报.xlsx", {"表三": cells})
    notes = special_cells(path)["表三"]
    assert notes == {
        (6, 3): CellNote(None, "#REF!", None),
        (6, 4): CellNote("[1]表三!E7", None, "12"),
        (6, 5): CellNote("cmd|'/c calc'!A0", None, "0"),
        (6, 6): CellNote("RAND()*10", None, "3.5"),
        (6, 7): CellNote("1/0", "#DIV/0!", None),
        (6, 8): CellNote(None, "#N/A", None),
        (6, 9): CellNote('"a&b"&"<c>"', None, "a&b<c>"),
        (6, 10): CellNote(None, "", None),
    }
    grid = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("表三").to_python()
    # why this scanner exists: error values read as blanks
    assert grid[0][0] == ""
    assert grid[0][5] == ""


def test_shared_formulas_are_translated_to_each_cell(tmp_path: Path) -> None:
    # Excel writes a formula filled down or across once, and refers to it from the other cells.
    cells = (
        '<row r="7"><c r="J7"><f t="shared" ref="J7:J9" si="0">SUM(D7)+SUM(E7:I7)</f><v>1</v></c>'
        '<c r="K7"><f t="shared" ref="K7:K8" si="1">$A$1+J7</f><v>2</v></c></row>'
        '<row r="8"><c r="J8"><f t="shared" si="0"/><v>3</v></c><c r="K8"><f t="shared" si="1"/><v>4</v></c></row>'
        '<row r="9"><c r="J9"><f t="shared" si="0"/><v>5</v></c><c r="L9"><f t="shared" si="7"/><v>6</v></c></row>'
    )
    notes = special_cells(workbook(tmp_path / "shared.xlsx", {"表三": cells}))["表三"]
    assert notes[(6, 9)] == CellNote("SUM(D7)+SUM(E7:I7)", None, "1", shared=True)
    assert notes[(7, 9)] == CellNote("SUM(D8)+SUM(E8:I8)", None, "3", shared=True)
    assert notes[(8, 9)] == CellNote("SUM(D9)+SUM(E9:I9)", None, "5", shared=True)
    assert notes[(7, 10)] == CellNote("$A$1+J8", None, "4", shared=True)
    # a reference to a shared formula that is not there (a damaged file): a formula, text unknown
    assert notes[(8, 11)] == CellNote("", None, "6", shared=True)


def test_array_formulas_mark_every_cell_of_their_range(tmp_path: Path) -> None:
    path = tmp_path / "array.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("表三")
    ws.write_row(0, 0, [1, 2, 3])
    ws.write_array_formula(1, 0, 3, 0, "{=A1:A3*2}", None, 2)
    ws.write_array_formula(1, 2, 1, 2, "{=SUM(A1:C1*2)}", None, 12)
    wb.close()
    notes = special_cells(path)["表三"]
    assert notes[(1, 0)] == CellNote("A1:A3*2", None, "2", array=True)
    assert notes[(2, 0)] == notes[(3, 0)] == CellNote("A1:A3*2", None, None, array=True)
    assert notes[(1, 2)] == CellNote("SUM(A1:C1*2)", None, "12", array=True)
    assert len(notes) == 4


def test_a_data_table_and_a_huge_array_range(tmp_path: Path) -> None:
    cells = (
        '<row r="1"><c r="B1"><f t="dataTable" ref="B1:C2" dt2D="1" r1="A1" r2="A2"/><v>1</v></c>'
        '<c r="D1"><f t="array" ref="D1:XFD1048576">1</f><v>1</v></c></row>'
    )
    notes = special_cells(workbook(tmp_path / "table.xlsx", {"表三": cells}))["表三"]
    assert notes[(0, 1)] == CellNote("TABLE(A1,A2)", None, "1", array=True)
    assert notes[(1, 2)] == CellNote("TABLE(A1,A2)", None, None, array=True)
    assert notes[(0, 3)] == CellNote("1", None, "1", array=True)
    assert len(notes) == 5  # the huge range is not spelt out cell by cell


def test_sheets_are_named_as_the_workbook_lists_them(tmp_path: Path) -> None:
    # The parts' order and names say nothing: xl/workbook.xml and its relationships decide.
    book = part("xl/workbook.xml").replace("表三".encode(), "表三&amp;附".encode())
    rels = part("xl/_rels/workbook.xml.rels")
    rels = rels.replace(b"worksheets/sheet3.xml", b"TMP").replace(b"worksheets/sheet1.xml", b"worksheets/sheet3.xml")
    rels = rels.replace(b"TMP", b"/xl/worksheets/sheet1.xml")
    path = changed(tmp_path / "换.xlsx", {"xl/workbook.xml": book, "xl/_rels/workbook.xml.rels": rels})
    notes = special_cells(path)
    assert len(notes["表三&附"]) == 1  # the guide sheet's single formula now stands under 表三's name
    assert len(notes["填报说明"]) > 50


def _spellings(cells: str) -> tuple[str, str]:
    """The same cells spelt with a namespace prefix and in single quotes."""
    prefixed = re.sub(r"<(/?)(row|c|f|v|is|t)([ >/])", r"<\1x:\2\3", cells)
    quoted = re.sub(r'(\w+)="([^"]*)"', r"\1='\2'", cells)
    return prefixed, quoted


def test_other_spellings_give_the_same_notes(tmp_path: Path) -> None:
    sheet = part("xl/worksheets/sheet3.xml").decode()
    cells = sheet[sheet.index("<sheetData>") + 11 : sheet.index("</sheetData>")]
    plain = special_cells(workbook(tmp_path / "plain.xlsx", {"表三": cells}))
    prefixed, quoted = _spellings(cells)
    assert special_cells(workbook(tmp_path / "x.xlsx", {"表三": prefixed}, prefix="x:")) == plain
    assert special_cells(workbook(tmp_path / "q.xlsx", {"表三": quoted})) == plain
    assert len(plain["表三"]) > 60


def test_cells_without_references_are_counted_as_spreadsheet_programs_do(tmp_path: Path) -> None:
    cells = (
        '<row r="3"><c r="B3"><v>1</v></c><c><f>B3*2</f><v>2</v></c></row>'
        '<row><c t="e"><v>#REF!</v></c><c r="E4"><f>1</f><v>1</v></c><c><f>2</f><v>2</v></c></row>'
    )
    notes = special_cells(workbook(tmp_path / "noref.xlsx", {"表三": cells}))["表三"]
    assert notes == {
        (2, 2): CellNote("B3*2", None, "2"),
        (3, 0): CellNote(None, "#REF!", None),
        (3, 4): CellNote("1", None, "1"),
        (3, 5): CellNote("2", None, "2"),
    }


def test_hostile_xml_is_never_expanded_and_stays_bounded(tmp_path: Path) -> None:
    lol = "&lol9;"
    huge = "1+" * 10_000 + "1"
    cells = f'<row r="1"><c r="A1"><f>{lol}</f><v>&#x41;&#0;</v></c><c r="B1"><f>{huge}</f><v>1</v></c></row>'
    body = (
        '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY lol "lol"><!ENTITY lol9 "&lol;&lol;">]>'
        f'<worksheet xmlns="x"><sheetData>{cells}</sheetData></worksheet>'
    )
    src = workbook(tmp_path / "src.xlsx", {"表三": ""})
    path = changed(tmp_path / "hostile.xlsx", {"xl/worksheets/sheet1.xml": body.encode()}, source=src.read_bytes())
    notes = special_cells(path)["表三"]
    assert notes[(0, 0)] == CellNote("&lol9;", None, "A\ufffd")
    assert notes[(0, 1)].formula is not None
    assert len(notes[(0, 1)].formula) == MAX_FORMULA


def test_an_unclosed_sheet_is_looked_at_in_bounded_time(tmp_path: Path) -> None:
    import time

    cells = '<row r="1">' + '<c r="A1" t="e"><v>#N/A' * 20_000 + '<x:c><x:f t="shared" si="1"' * 20_000
    path = workbook(tmp_path / "unclosed.xlsx", {"表三": cells})
    started = time.monotonic()
    notes = special_cells(path)
    assert time.monotonic() - started < 5
    assert isinstance(notes["表三"], dict)


def test_ods_formulas_errors_and_repeated_cells(tmp_path: Path) -> None:
    rows = (
        '<table:table-row><table:table-cell office:value-type="float" office:value="1"/>'
        '<table:table-cell table:formula="of:=[.A1]*2" office:value-type="float" office:value="2"/>'
        '<table:table-cell table:formula="of:=1/0" office:value-type="string" office:string-value="" '
        'calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell></table:table-row>'
        '<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="4"/>'
        "</table:table-row>"
        '<table:table-row><table:table-cell table:number-columns-repeated="2"/>'
        '<table:table-cell table:number-matrix-columns-spanned="1" table:number-matrix-rows-spanned="2" '
        'table:formula="of:=[.A1:.A2]*2" office:value-type="float" office:value="2"/></table:table-row>'
        '<table:table-row><table:covered-table-cell table:number-columns-repeated="2"/>'
        '<table:table-cell office:value-type="string" calcext:value-type="error"><text:p>#N/A</text:p>'
        "</table:table-cell></table:table-row>"
    )
    path = ods(tmp_path / "表.ods", {"表三": rows, "空": "<table:table-row><table:table-cell/></table:table-row>"})
    assert special_cells(path) == {
        "表三": {
            (0, 1): CellNote("[.A1]*2", None, "2"),
            (0, 2): CellNote("1/0", "#DIV/0!", None),
            (4, 2): CellNote("[.A1:.A2]*2", None, "2", array=True),
            (5, 2): CellNote("[.A1:.A2]*2", "#N/A", None, array=True),
        },
        "空": {},
    }
    assert special_cells(path, ["空"]) == {"空": {}}


def test_xls_and_xlsb_are_not_looked_into(tmp_path: Path) -> None:
    assert special_cells(fake_xls(tmp_path / "a.xls")) == {}
    xlsb = tmp_path / "a.xlsb"
    xlsb.write_bytes(
        changed(tmp_path / "b.xlsx", {"xl/workbook.xml": None}, add=[("xl/workbook.bin", b"")]).read_bytes()
    )
    assert special_cells(xlsb) == {}


def test_a_damaged_sheet_is_an_unreadable_file(tmp_path: Path) -> None:
    data = bytearray(template_bytes())
    name = b"xl/worksheets/sheet3.xml"
    start = data.index(name) + len(name)
    for i in range(start + 40, start + 60):
        data[i] ^= 0x55
    path = tmp_path / "坏.xlsx"
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableWorkbookError, match=r"坏\.xlsx.*损坏"):
        special_cells(path)


# --------------------------------------------------------------------------- a property


_REFS = st.tuples(st.integers(0, 40), st.integers(0, 30))
_FORMULAS = st.sampled_from(["SUM(A1:B2)", 'IF(A1>0,"✔","✘ "&A1)', "[1]Sheet1!A1", "RAND()", "1/0", "A1&amp;B1"])
_CELL = st.one_of(
    st.tuples(st.just("value"), st.integers(0, 999)),
    st.tuples(st.just("formula"), _FORMULAS),
    st.tuples(st.just("error"), st.sampled_from(["#REF!", "#N/A", "#DIV/0!", "#VALUE!"])),
)


def _name(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


@settings(max_examples=40, deadline=None)
@given(cells=st.dictionaries(_REFS, _CELL, max_size=40))
def test_every_formula_and_error_is_found_in_every_spelling(
    tmp_path_factory: pytest.TempPathFactory, cells: dict[tuple[int, int], tuple[str, object]]
) -> None:
    rows: dict[int, list[str]] = {}
    expected: dict[tuple[int, int], CellNote] = {}
    for (r, c), (kind, what) in sorted(cells.items()):
        ref = _name(r, c)
        if kind == "value":
            xml = f'<c r="{ref}"><v>{what}</v></c>'
        elif kind == "formula":
            xml = f'<c r="{ref}"><f>{what}</f><v>7</v></c>'
            expected[(r, c)] = CellNote(str(what).replace("&amp;", "&"), None, "7")
        else:
            xml = f'<c r="{ref}" t="e"><v>{what}</v></c>'
            expected[(r, c)] = CellNote(None, str(what), None)
        rows.setdefault(r, []).append(xml)
    xml = "".join(f'<row r="{r + 1}">{"".join(c)}</row>' for r, c in sorted(rows.items()))
    folder = tmp_path_factory.mktemp("spell")
    prefixed, quoted = _spellings(xml)
    assert special_cells(workbook(folder / "a.xlsx", {"表": xml})) == {"表": expected}
    assert special_cells(workbook(folder / "b.xlsx", {"表": prefixed}, prefix="x:")) == {"表": expected}
    assert special_cells(workbook(folder / "c.xlsx", {"表": quoted})) == {"表": expected}


def test_entries_helper_keeps_duplicates() -> None:
    assert len(entries(template_bytes())) == 15


def test_rich_inline_text_beside_a_formula(tmp_path: Path) -> None:
    # <family> inside rich text starts like <f>; it is not a formula.
    cells = (
        '<row r="1"><c r="A1" t="inlineStr"><is><r><rPr><family val="2"/></rPr><t>x</t></r></is></c>'
        '<c r="B1"><f>A1&amp;"y"</f><v>xy</v></c></row>'
    )
    assert special_cells(workbook(tmp_path / "rich.xlsx", {"表三": cells})) == {
        "表三": {(0, 1): CellNote('A1&"y"', None, "xy")}
    }


@pytest.mark.soffice
@requires_soffice
def test_the_template_saved_by_libreoffice(tmp_path: Path) -> None:
    # LibreOffice keeps the template's formulas in .ods (OpenFormula) and in .xlsx (its own
    # spelling); .xls keeps them too, as compiled tokens this does not read.
    from tests.lo import convert

    src = tmp_path / "城关镇.xlsx"
    src.write_bytes(template_bytes())
    original = special_cells(src)
    outs = {kind: convert([src], kind, tmp_path / kind)[0] for kind in ("ods", "xls", "xlsx")}
    assert inspect_file(outs["ods"]).kind == "ods"
    assert inspect_file(outs["xls"]).kind == "xls"
    assert special_cells(outs["xls"]) == {}
    for kind in ("ods", "xlsx"):
        notes = special_cells(outs[kind])
        assert set(notes) >= {"表二", "表三", "表四"}, kind
        for sheet in ("表三", "表四"):
            assert set(notes[sheet]) == set(original[sheet]), (kind, sheet)
    assert special_cells(outs["ods"])["表三"][(6, 9)].formula == "SUM([.D7])+SUM([.E7:.I7])"
