"""How the template prints and shows: 表四 on one A4 landscape page at a readable scale, and
long texts on the 文字说明 sheet shown, printed and read back whole.

The print scale is computed the way Excel and WPS lay a sheet out with the workbook's default
font (Calibri 11: 7 pixels per width unit, as stored in the file), fitted to the printable width
of A4 landscape between the page margins stored in the file. LibreOffice with Carlito (Calibri's
metric twin) prints 表四 at 92 % (measured from the title's glyph widths in its PDF).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.lo import convert, requires_soffice
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import engine
from xls_gongkai.spec import Each, Format, get_format, load_format
from xls_gongkai.workbook.layout import (
    TEXT_CELL_LINES,
    TEXT_SHEET,
    join_text,
    layout_for,
    split_text,
    text_height,
    text_lines,
)
from xls_gongkai.workbook.writer import write_workbook

ROOT = Path(__file__).resolve().parents[1]
VARIANT = load_format(ROOT / "tests" / "data" / "local-variant.yaml")
FORMATS = [get_format(2019), get_format(2021), VARIANT]

A4_LANDSCAPE_WIDTH_IN = 297 / 25.4
PIXELS_PER_UNIT = 7  # Calibri 11's widest digit, Excel's unit of column width


def _ids(fmt: Format) -> str:
    return fmt.id


def print_scale(path: Path, sheet: str) -> float:
    """The scale at which a sheet fitted to one page width prints on A4 landscape."""
    ws = openpyxl.load_workbook(path)[sheet]
    widths = dict.fromkeys(range(1, ws.max_column + 1), 8.43)  # Excel's default width
    for dim in ws.column_dimensions.values():  # openpyxl keeps a run of equal columns as one
        for col in range(dim.min, dim.max + 1):
            if col in widths and dim.width:
                widths[col] = dim.width
    pixels = sum(round(w * PIXELS_PER_UNIT) for w in widths.values())
    margins = ws.page_margins
    printable_pt = (A4_LANDSCAPE_WIDTH_IN - margins.left - margins.right) * 72
    return min(1.0, printable_pt / (pixels * 0.75))


@pytest.mark.parametrize("fmt", FORMATS, ids=_ids)
def test_table_four_prints_at_ninety_percent_or_more(tmp_path: Path, fmt: Format) -> None:
    path = write_workbook(tmp_path / "t.xlsx", Report(Unit("1", "城关镇"), fmt.year_from, fmt))
    t4 = fmt.table("t4").sheet
    scale = print_scale(path, t4)
    assert scale >= 0.9, f"{t4} prints at {scale:.0%}"
    # nothing stands right of the table's last column
    lay = layout_for(fmt)
    ws = openpyxl.load_workbook(path)[t4]
    assert ws.max_column == lay.tables["t4"].value_right + 1


@pytest.mark.parametrize("fmt", FORMATS, ids=_ids)
def test_row_checks_of_a_one_row_table_stand_below_it_under_their_totals(fmt: Format) -> None:
    lay = layout_for(fmt)
    tl = lay.tables["t4"]
    assert len(tl.table.leaf_rows) == 1
    row_checks = [c for c in engine(fmt).checks if c.table.id == "t4" and c.rule.each is Each.ROW and c.in_sheet]
    assert row_checks, "R4 holds in 表四's row"
    data_row = tl.rows[tl.table.leaf_rows[0].id]
    below = {lay.checks[c.key].row for c in row_checks}
    assert len(below) == 1  # one row of checks
    assert below.pop() > data_row
    for c in row_checks:
        pos = lay.checks[c.key]
        total = c.lhs[0].key[2]  # the total the equation defines
        assert pos.col == tl.cols[total], c.key
    # each check cell has its own column: no two checks share a cell
    assert len({lay.checks[c.key] for c in row_checks}) == len(row_checks)


def test_table_three_keeps_its_row_checks_beside_the_table() -> None:
    fmt = get_format(2021)
    lay = layout_for(fmt)
    tl = lay.tables["t3"]
    r2 = [c for c in engine(fmt).checks if c.table.id == "t3" and c.rule.each is Each.ROW and c.in_sheet]
    assert r2
    assert {lay.checks[c.key].col for c in r2} == {tl.value_right + 1}
    assert all(lay.checks[c.key].row == tl.rows[c.index] for c in r2)


# --------------------------------------------------------------------------- 文字说明: long texts

#: Chinese running text with its punctuation, some Latin and digits.
_CHARS = st.sampled_from(
    list("政府信息公开工作年度报告依申请主动平台建设监督保障，、“”《》（）") + list("。；！？") + list("ab 12")
)
_PARAGRAPH = st.text(_CHARS, min_size=1, max_size=1800).map(str.strip).filter(bool)
_SENTENCE = "2024年，本单位认真贯彻落实《中华人民共和国政府信息公开条例》，围绕主动公开、依申请公开扎实推进政务公开工作，取得较好成效。"


def _section(chars: int, heads: list[str]) -> str:
    """A realistic section: one paragraph per sub-part, ``chars`` characters in all."""
    per = chars // len(heads)
    return "\n".join((head + _SENTENCE * (per // len(_SENTENCE) + 1))[:per] for head in heads)


def _flat(text: str) -> str:
    return text.replace("\n", "")


@settings(max_examples=200, deadline=None)
@given(paragraphs=st.lists(_PARAGRAPH | st.just(""), min_size=1, max_size=12), cells=st.integers(1, 6))
def test_split_text_loses_nothing_and_each_cell_but_the_last_fits(paragraphs: list[str], cells: int) -> None:
    text = "\n".join(paragraphs).strip()
    parts = split_text(text, cells)
    assert len(parts) <= cells
    assert all(p.strip() for p in parts) or not text
    assert _flat(join_text(parts)) == _flat(text)  # a line break at most where a cell is full
    assert all(text_lines(p) <= TEXT_CELL_LINES for p in parts[:-1])


@settings(max_examples=200, deadline=None)
@given(paragraphs=st.lists(_PARAGRAPH, min_size=1, max_size=6), extra=st.integers(0, 2))
def test_split_text_gives_back_exactly_a_text_whose_paragraphs_each_fit_a_cell(
    paragraphs: list[str], extra: int
) -> None:
    fitting = [p for p in paragraphs if text_lines(p) <= TEXT_CELL_LINES]
    if not fitting:
        return
    text = "\n".join(fitting)
    parts = split_text(text, len(fitting) + extra)
    assert join_text(parts) == text
    assert all(text_lines(p) <= TEXT_CELL_LINES for p in parts)


def test_a_four_thousand_character_overview_fits_its_cells() -> None:
    fmt = get_format(2024)
    cells = layout_for(fmt).texts["s1"].cells
    assert len(cells) == 5  # one for each of the five usual sub-parts
    text = _section(
        4000, ["（一）主动公开。", "（二）依申请公开。", "（三）政府信息管理。", "（四）平台建设。", "（五）监督保障。"]
    )
    parts = split_text(text, len(cells))
    assert join_text(parts) == text
    assert all(text_height(p) < 409 for p in parts)
    # a denser text than the five parts: still every cell within Excel's row limit
    dense = "\n".join([text, text[:1500]])
    parts = split_text(dense, len(cells))
    assert _flat(join_text(parts)) == _flat(dense)
    assert all(text_lines(p) <= TEXT_CELL_LINES for p in parts)


@settings(max_examples=12, deadline=None)
@given(
    s1=st.lists(_PARAGRAPH, min_size=1, max_size=5),
    s5=st.lists(_PARAGRAPH, min_size=1, max_size=2),
    s6=_PARAGRAPH,
    fmt=st.sampled_from(FORMATS),
)
def test_long_texts_round_trip_through_the_workbook(
    tmp_path_factory: pytest.TempPathFactory, s1: list[str], s5: list[str], s6: str, fmt: Format
) -> None:
    from xls_gongkai.reading.reader import read_workbook

    texts = {"s1": "\n".join(s1), "s5": "\n".join(s5), "s6": s6}
    path = write_workbook(
        tmp_path_factory.mktemp("t") / "t.xlsx", Report(Unit("1", "城关镇"), fmt.year_from, fmt, {}, texts)
    )
    back = read_workbook(path, formats=[VARIANT]).report
    assert back is not None
    lay = layout_for(fmt)
    for sid, text in texts.items():
        paragraphs_fit = all(text_lines(p) <= TEXT_CELL_LINES for p in text.split("\n"))
        if paragraphs_fit and len(text.split("\n")) <= len(lay.texts[sid].cells):
            assert back.texts[sid] == text
        else:
            assert _flat(back.texts[sid]) == _flat(text)


def test_a_clerk_goes_on_in_the_next_cells(tmp_path: Path) -> None:
    from xls_gongkai.reading.reader import read_workbook

    fmt = get_format(2024)
    path = write_workbook(tmp_path / "t.xlsx", Report(Unit("1", "城关镇"), 2024, fmt))
    cells = layout_for(fmt).texts["s1"].cells
    wb = openpyxl.load_workbook(path)
    ws = wb[TEXT_SHEET]
    ws[cells[0].a1] = "（一）主动公开。" + _SENTENCE * 20
    ws[cells[1].a1] = "（二）依申请公开。\n（三）政府信息管理。"
    ws[cells[3].a1] = "（五）监督保障。 "  # the fourth left empty, trailing space typed
    wb.save(path)
    result = read_workbook(path)
    assert result.report is not None
    assert result.report.texts["s1"] == "\n".join(
        ["（一）主动公开。" + _SENTENCE * 20, "（二）依申请公开。", "（三）政府信息管理。", "（五）监督保障。"]
    )
    assert not [i for i in result.issues if i.code == "unrecognised-content"]


@pytest.mark.soffice
@requires_soffice
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="需要 pdftotext（poppler-utils）")
def test_printed_text_sheet_shows_every_character_of_long_sections(tmp_path: Path) -> None:
    """4,000 / 1,600 / 800 characters: every part of every section is on paper (LibreOffice
    prints only what a row shows; text beyond a cell's height would be missing)."""
    fmt = get_format(2024)
    texts = {
        "s1": _section(
            4000,
            ["（一）主动公开。", "（二）依申请公开。", "（三）政府信息管理。", "（四）平台建设。", "（五）监督保障。"],
        ),
        "s5": _section(1600, ["存在的主要问题：", "改进措施："]),
        "s6": _section(800, ["本年度未收取信息处理费。"]),
    }
    path = write_workbook(tmp_path / "t.xlsx", Report(Unit("1", "城关镇"), 2024, fmt, {}, texts))
    pdf = convert([path], "pdf", tmp_path / "pdf")[0]
    printed = "".join(
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    for text in texts.values():
        for paragraph in text.split("\n"):
            assert "".join(paragraph.split()) in printed, paragraph[:20]
