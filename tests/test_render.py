"""render.py: the report document in md / html / docx, and the render CLI."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xls_gongkai.cli import app
from xls_gongkai.documents.render import (
    SUMMARY_MARK,
    TEXT_PLACEHOLDER,
    document_title,
    missing_statements,
    render_docx,
    render_html,
    render_markdown,
    summary,
    table_grid,
)
from xls_gongkai.report import Report, Unit
from xls_gongkai.sample import random_report
from xls_gongkai.spec import RuleKind, get_format

#: The 信息处理费 sentence render inserts, flagged: the 2021 format's rule T1 says what it is.
FEE_PLACEHOLDER = "【待补充】" + get_format("gongkai-2021").rules_of(RuleKind.TEXT)[0].placeholder

DATA = Path(__file__).parent / "data"
F2019 = get_format("gongkai-2019")
F2021 = get_format("gongkai-2021")
TEXTS = {
    "s1": "总体情况正文。",
    "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
    "s6": "本年度未收取信息处理费。",
}


def potouzhen() -> Report:
    return Report.from_json((DATA / "potouzhen_2020.json").read_text(encoding="utf-8"))


def sample2024(texts: dict[str, str] | None = None) -> Report:
    return random_report(
        F2021, Unit("001", "城关镇人民政府"), 2024, random.Random(3), TEXTS if texts is None else texts
    )


# --------------------------------------------------------------------------- the grid


def test_table_three_grid_has_the_official_merged_header() -> None:
    grid = table_grid(F2021.table("t3"))
    at = grid.at()
    assert grid.header_rows == 3
    assert grid.cols == 3 + 7  # three label columns, seven value columns
    corner = at[(0, 0)]
    assert corner.text.startswith("（本列数据的勾稽关系为")
    assert (corner.rowspan, corner.colspan) == (3, 3)
    assert (at[(0, 3)].text, at[(0, 3)].colspan) == ("申请人情况", 7)
    assert (at[(1, 3)].text, at[(1, 3)].rowspan) == ("自然人", 2)
    assert (at[(1, 4)].text, at[(1, 4)].colspan) == ("法人或其他组织", 5)
    assert (at[(1, 9)].text, at[(1, 9)].rowspan) == ("总计", 2)
    assert [at[(2, c)].text for c in range(4, 9)] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    # rows: 一 spans all three label columns; 三 spans its 25 sub-rows in 2021 (1+1+8+3+5+3+1+... )
    assert (at[(3, 0)].text, at[(3, 0)].colspan) == ("一、本年新收政府信息公开申请数量", 3)
    results = at[(5, 0)]
    assert results.text == "三、本年度办理结果"
    assert results.rowspan == len(F2021.table("t3").row_nodes["results"].leaves())
    withheld = next(c for c in grid.cells if c.text == "（三）不予公开")
    assert (withheld.col, withheld.rowspan) == (1, 8)
    disclosed = next(c for c in grid.cells if c.text == "（一）予以公开")
    assert (disclosed.col, disclosed.colspan) == (1, 2)
    assert grid.rows == 3 + len(F2021.table("t3").leaf_rows)


def test_table_four_grid_has_no_row_label_and_three_header_rows() -> None:
    grid = table_grid(F2021.table("t4"))
    at = grid.at()
    assert (grid.rows, grid.cols) == (4, 15)
    assert (at[(0, 0)].text, at[(0, 0)].colspan) == ("行政复议", 5)
    assert (at[(1, 0)].text, at[(1, 0)].rowspan) == ("结果维持", 2)
    assert (at[(0, 5)].text, at[(0, 5)].colspan) == ("行政诉讼", 10)
    assert (at[(1, 5)].text, at[(1, 5)].colspan) == ("未经复议直接起诉", 5)
    assert (at[(1, 10)].text, at[(1, 10)].colspan) == ("复议后起诉", 5)
    assert at[(2, 14)].text == "总计"
    assert all(at[(3, c)].key is not None for c in range(15))


def test_every_grid_covers_each_position_exactly_once() -> None:
    report = sample2024()
    for fmt in (F2019, F2021):
        for table in fmt.tables:
            grid = table_grid(table, report if fmt is F2021 else None, width=6)
            covered: dict[tuple[int, int], int] = {}
            for c in grid.cells:
                for r in range(c.row, c.row + c.rowspan):
                    for k in range(c.col, c.col + c.colspan):
                        covered[(r, k)] = covered.get((r, k), 0) + 1
            assert set(covered) == {(r, k) for r in range(grid.rows) for k in range(grid.cols)}, table.id
            assert set(covered.values()) == {1}, table.id
            keys = [c.key for c in grid.cells if c.key]
            assert sorted(keys) == sorted((table.id, r, c) for r, c in table.cells()), table.id


def test_unsplit_other_handling_prints_as_one_row() -> None:
    values = dict(sample2024().values)
    for sub in ("oh_no_correction", "oh_no_fee", "oh_other"):
        for col in F2021.table("t3").leaf_columns:
            values.pop(("t3", sub, col.id), None)
    for col in F2021.table("t3").leaf_columns:
        values[("t3", "other_handling", col.id)] = 2
    report = Report(Unit("1", "某镇"), 2022, F2021, values, TEXTS)
    grid = table_grid(F2021.table("t3"), report)
    row = next(c for c in grid.cells if c.text == "（六）其他处理")
    assert (row.rowspan, row.colspan) == (1, 2)
    assert not any(c.text.startswith("3.其他") for c in grid.cells)
    assert "三、本年度办理结果 › （六）其他处理 | 2 |" in render_markdown(report)


# --------------------------------------------------------------------------- documents


def test_markdown_has_title_sections_and_values() -> None:
    report = potouzhen()
    md = render_markdown(report)
    assert md.startswith("# 坡头镇人民政府2020年政府信息公开工作年度报告\n")
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    assert headings == [s.label for s in F2019.sections]
    assert "| 政府集中采购 | 113 | 13.7951 |" in md
    assert "| 规范性文件 | 17 | 17 | 17 |" in md
    assert "| 三、本年度办理结果 › （一）予以公开 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |" in md
    assert report.texts["s5"].splitlines()[0] in md
    # 2020 is before the 信息处理费 statement became a standard part of 六
    assert FEE_PLACEHOLDER not in md


def _md_cell_count(md: str) -> int:
    return sum(line.count("|") - 1 for line in md.splitlines() if line.startswith("| ") and "---" not in line)


def test_blank_values_stay_blank() -> None:
    report = potouzhen()
    values = dict(report.values)
    del values[("t3", "new", "natural")]
    md = render_markdown(Report(report.unit, report.year, report.format, values, report.texts))
    assert "| 一、本年新收政府信息公开申请数量 |  | 0 |" in md


def test_fee_statement_placeholder_from_2021() -> None:
    report = sample2024({"s1": "总体。", "s5": "问题。", "s6": "无。"})
    notes = missing_statements(report)
    assert len(notes) == 1
    assert "信息处理费" in notes[0]
    md = render_markdown(report)
    assert "无。" in md
    assert f"**{FEE_PLACEHOLDER}**" in md
    html = render_html(report)
    assert f"<mark>{FEE_PLACEHOLDER}</mark>" in html.replace("&quot;", '"').replace("&ldquo;", "“")
    with_fee = sample2024()
    assert missing_statements(with_fee) == []
    assert FEE_PLACEHOLDER not in render_markdown(with_fee)


def test_empty_texts_are_flagged() -> None:
    report = sample2024({})
    notes = missing_statements(report)
    assert len(notes) == 4  # s1, s5, s6 empty, and 六 lacks the fee statement
    md = render_markdown(report)
    assert md.count(TEXT_PLACEHOLDER) == 2
    assert md.count(FEE_PLACEHOLDER) == 1


class _Spans(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, dict[str, str | None]]] = []
        self._open: dict[str, str | None] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("td", "th"):
            self._open, self._text = dict(attrs), ""

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._open is not None:
            self.cells.append((self._text, self._open))
            self._open = None


def test_html_has_real_spans_and_escapes() -> None:
    report = potouzhen()
    html = render_html(report)
    assert "<title>坡头镇人民政府2020年政府信息公开工作年度报告</title>" in html
    assert '<meta charset="utf-8">' in html
    parser = _Spans()
    parser.feed(html)
    spans = {text: attrs for text, attrs in parser.cells}
    assert spans["申请人情况"].get("colspan") == "7"
    assert spans["自然人"].get("rowspan") == "2"
    assert spans["三、本年度办理结果"].get("rowspan") == str(len(F2019.table("t3").row_nodes["results"].leaves()))
    assert spans["行政诉讼"].get("colspan") == "10"
    evil = Report(report.unit, report.year, report.format, report.values, {"s1": "<script>alert(1)</script>"})
    assert "<script>alert" not in render_html(evil)


def test_docx_structure_fonts_and_merges(tmp_path: Path) -> None:
    import docx
    from docx.oxml.ns import qn

    report = potouzhen()
    path = render_docx(report, tmp_path / "r.docx")
    doc = docx.Document(str(path))
    texts = [p.text for p in doc.paragraphs if p.text.strip()]
    assert texts[0] == document_title(report)
    for s in F2019.sections:
        assert s.label in texts
    # East Asian font is set on the Normal style and on runs
    normal = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert normal.get(qn("w:eastAsia")) == "宋体"
    assert doc.styles["Normal"].element.rPr.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    assert doc.core_properties.title == document_title(report)
    footer = doc.sections[0].footer.paragraphs[0]._p
    assert [f.get(qn("w:instr")).strip() for f in footer.iter(qn("w:fldSimple"))] == ["PAGE"]
    # 表二's five blocks are one table, as in the official attachment; then 表三 and 表四
    assert len(doc.tables) == 3
    t2 = doc.tables[0]
    assert [r.cells[0].text for r in t2.rows if r.cells[0].text.startswith("第二十条")] == [
        t.title for t in F2019.tables if t.id.startswith("t2_")
    ]
    assert t2.rows[0].cells[0].text == t2.rows[0].cells[3].text == "第二十条第（一）项"
    t3 = doc.tables[1]
    assert len(t3.rows) == 3 + len(F2019.table("t3").leaf_rows)
    # python-docx repeats a merged cell's text in every grid position it covers
    assert t3.cell(0, 3).text == t3.cell(0, 9).text == "申请人情况"
    assert t3.cell(1, 3).text == t3.cell(2, 3).text == "自然人"
    assert t3.cell(3, 0).text == t3.cell(3, 2).text == "一、本年新收政府信息公开申请数量"
    assert [t3.cell(3, c).text for c in range(3, 10)] == ["1", "0", "0", "0", "0", "0", "1"]
    t4 = doc.tables[2]
    assert t4.cell(0, 5).text == t4.cell(0, 14).text == "行政诉讼"
    assert [t4.cell(3, c).text for c in range(15)] == ["0"] * 15
    assert [c.text for c in t2.rows[-1].cells][:3] == ["政府集中采购", "113", "13.7951"]


@pytest.mark.soffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) 未安装：跳过 DOCX→PDF 测试")
def test_docx_opens_in_libreoffice(tmp_path: Path) -> None:
    from tests.lo import convert

    files = [render_docx(potouzhen(), tmp_path / "a.docx"), render_docx(sample2024(), tmp_path / "b.docx")]
    pdfs = convert(files, "pdf", tmp_path / "pdf")
    assert len(pdfs) == 2
    for pdf in pdfs:
        assert pdf.read_bytes().startswith(b"%PDF")
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
            assert "政府信息公开工作年度报告" in text
            assert "申请人情况" in text


# --------------------------------------------------------------------------- CLI


def test_cli_render_md_to_stdout_and_files(tmp_path: Path) -> None:
    runner = CliRunner()
    src = tmp_path / "r.json"
    src.write_text(sample2024({"s1": "a", "s5": "b", "s6": "无"}).to_json(), encoding="utf-8")
    result = runner.invoke(app, ["render", str(src), "--to", "md", "--out", "-"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# 城关镇人民政府2024年政府信息公开工作年度报告")
    assert "信息处理费" in result.stderr  # the placeholder is announced
    for to in ("html", "docx"):
        result = runner.invoke(app, ["render", str(src), "--to", to])
        assert result.exit_code == 0, result.output
        assert (tmp_path / f"r.{to}").stat().st_size > 1000


def test_cli_render_bad_input_exits_2(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["render", str(bad), "--to", "md"])
    assert result.exit_code == 2
    assert "不是可用的报告 JSON" in result.stderr
    result = runner.invoke(app, ["render", str(tmp_path / "missing.json")])
    assert result.exit_code == 2
    assert "找不到" in result.stderr
    result = runner.invoke(app, ["render", str(tmp_path / "bad.json"), "--to", "docx", "--out", "-"])
    assert result.exit_code == 2


# --------------------------------------------------------------------------- render → import round trip

_unit_names = st.sampled_from(["城关镇人民政府", "某某县人民政府办公室", "新华街道办事处", "县教育局"])
_texts = st.fixed_dictionaries(
    {
        "s1": st.sampled_from(["本年度全面推进政务公开。", "一是加强组织领导。\n二是完善制度。"]),
        "s5": st.sampled_from(["存在问题：公开不够及时。改进：建立月度检查制度。", "无。"]),
        "s6": st.sampled_from(["本年度未收取信息处理费。", "本年度收取信息处理费 120 元。"]),
    }
)


def _imported(report: Report, kind: str, tmp: Path, *, consistent: bool = True) -> Report:
    from xls_gongkai.documents.importer import import_document, import_text

    if kind == "docx":
        result = import_document(render_docx(report, tmp / "r.docx"))
    else:
        result = import_text(render_markdown(report) if kind == "md" else render_html(report), kind=kind)
    assert result.report is not None
    if consistent:  # a blank cell counts 0, so dropping values may break rules
        assert not result.errors, [i.message for i in result.errors]
    return result.report


def _assert_same(back: Report, report: Report) -> None:
    assert back.unit.name == report.unit.name
    assert back.year == report.year
    assert back.format_id == report.format_id
    assert back.texts == report.texts
    assert dict(back.values) == dict(report.values)


@pytest.mark.parametrize("kind", ["md", "html", "docx"])
@pytest.mark.parametrize(("format_id", "years"), [("gongkai-2019", (2019, 2020)), ("gongkai-2021", (2021, 2030))])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), name=_unit_names, texts=_texts, data=st.data())
def test_render_then_import_gives_the_same_report(
    tmp_path: Path,
    kind: str,
    format_id: str,
    years: tuple[int, int],
    seed: int,
    name: str,
    texts: dict[str, str],
    data: st.DataObject,
) -> None:
    year = data.draw(st.integers(min_value=years[0], max_value=years[1]))
    report = random_report(get_format(format_id), Unit("", name), year, random.Random(seed), texts)
    # published reports leave cells blank: drop a few values, which must come back blank
    keys = sorted(report.values)
    dropped = data.draw(st.sets(st.sampled_from(keys), max_size=5))
    values = {k: v for k, v in report.values.items() if k not in dropped}
    report = Report(report.unit, report.year, report.format, values, report.texts)
    _assert_same(_imported(report, kind, tmp_path, consistent=not dropped), report)


@pytest.mark.parametrize("kind", ["md", "html", "docx"])
def test_round_trip_of_an_unsplit_other_handling_row(tmp_path: Path, kind: str) -> None:
    from xls_gongkai.documents.importer import import_document, import_text

    base = sample2024()
    t3 = F2021.table("t3")
    values = {k: v for k, v in base.values.items() if not (k[0] == "t3" and k[1].startswith("oh_"))}
    for col in t3.leaf_columns:
        values[("t3", "other_handling", col.id)] = base.value("t3", "other_handling", col.id)
    report = Report(base.unit, base.year, base.format, values, base.texts)
    if kind == "docx":
        result = import_document(render_docx(report, tmp_path / "r.docx"))
    else:
        result = import_text(render_markdown(report) if kind == "md" else render_html(report), kind=kind)
    assert result.report is not None
    assert dict(result.report.values) == values
    # the importer says that the three sub-rows of （六） are unknown
    assert any("（六）" in i.message for i in result.warnings)


# --------------------------------------------------------------------------- other inputs


def test_render_from_a_filled_workbook_equals_render_from_json(tmp_path: Path) -> None:
    from xls_gongkai.workbook.writer import write_workbook

    report = sample2024()
    write_workbook(tmp_path / "u.xlsx", report)
    (tmp_path / "u.json").write_text(report.to_json(), encoding="utf-8")
    runner = CliRunner()
    for src in ("u.xlsx", "u.json"):
        result = runner.invoke(app, ["render", str(tmp_path / src), "--to", "md", "--out", str(tmp_path / f"{src}.md")])
        assert result.exit_code == 0, result.output
    from_workbook = (tmp_path / "u.xlsx.md").read_text(encoding="utf-8")
    assert from_workbook == (tmp_path / "u.json.md").read_text(encoding="utf-8")
    assert from_workbook.startswith("# 城关镇人民政府2024年政府信息公开工作年度报告")


def test_render_from_a_county_summary(tmp_path: Path) -> None:
    from xls_gongkai.batch.merge import merge, sum_reports
    from xls_gongkai.workbook.summary import write_summary
    from xls_gongkai.workbook.writer import write_workbook

    units = [Unit(f"00{i}", f"乡镇{i}") for i in range(3)]
    reports = [random_report(F2021, u, 2024, random.Random(i), TEXTS) for i, u in enumerate(units)]
    for r in reports:
        write_workbook(tmp_path / f"{r.unit.code}.xlsx", r)
    county = Unit("C1", "某县人民政府")
    book = write_summary(merge([tmp_path], unit=county), tmp_path / "out" / "汇总.xlsx")
    result = CliRunner().invoke(app, ["render", str(book), "--to", "md", "--out", str(tmp_path / "county.md")])
    assert result.exit_code == 0, result.output
    md = (tmp_path / "county.md").read_text(encoding="utf-8")
    assert md.startswith("# 某县人民政府2024年政府信息公开工作年度报告")
    total = sum_reports(reports, county)
    assert render_markdown(Report(county, 2024, F2021, total.values, {})) == md


def test_a_published_report_renders_and_reads_back(tmp_path: Path) -> None:
    """Text as published → Report → our md/html/docx → the same Report (blank cells stay blank)."""
    from xls_gongkai.documents.importer import import_document, import_text

    for name in ("2019_shanghaishi_zhengfu_bangongting.txt", "2020_potouzhen.txt", "2024_huaianshi_zhengfu.txt"):
        first = import_document(DATA / name).report
        assert first is not None
        again = [
            import_text(render_markdown(first), kind="md").report,
            import_text(render_html(first), kind="html").report,
            import_document(render_docx(first, tmp_path / f"{name}.docx")).report,
        ]
        for back in again:
            assert back is not None
            assert dict(back.values) == dict(first.values), name
            assert (back.unit.name, back.year, back.format_id) == (first.unit.name, first.year, first.format_id)


def test_docx_run_properties_keep_the_schema_order(tmp_path: Path) -> None:
    """Word refuses a file whose w:rPr children are out of order (rFonts must come before sz and b)."""
    import zipfile

    from lxml import etree

    path = render_docx(sample2024({"s1": "a", "s5": "b", "s6": "无"}), tmp_path / "r.docx")
    xml = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    order = ["rStyle", "rFonts", "b", "bCs", "i", "color", "sz", "szCs", "highlight"]
    checked = 0
    for rpr in xml.iter(f"{w}rPr"):
        names = [child.tag.removeprefix(w) for child in rpr if child.tag.removeprefix(w) in order]
        assert names == sorted(names, key=order.index), names
        checked += 1
    assert checked > 100
    for tr_pr in xml.iter(f"{w}trPr"):
        names = [child.tag.removeprefix(w) for child in tr_pr]
        assert names in (["cantSplit"], ["cantSplit", "tblHeader"]), names


def test_cli_import_then_render_a_published_report(tmp_path: Path) -> None:
    """The pipeline of the README: a published report → JSON → a document in the official layout."""
    runner = CliRunner()
    data = tmp_path / "huaian.json"
    result = runner.invoke(app, ["import", str(DATA / "2024_huaianshi_zhengfu.txt"), "--json", str(data)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "huaian.md"
    result = runner.invoke(app, ["render", str(data), "--to", "md", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "待补充" not in result.stderr  # 一、五、六 and the 信息处理费 statement all came from the report
    md = out.read_text(encoding="utf-8")
    assert md.startswith("# 淮安市人民政府2024年政府信息公开工作年度报告")
    assert "| 行政许可 | 447228 |" in md
    assert "| 行政事业性收费 | 96171.6 |" in md
    assert "全年收取政府信息公开信息处理费 3940 元" in md
    assert "| 72 | 64 | 178 | 37 | 351 | 13 | 4 | 8 | 1 | 26 | 12 | 1 | 1 | 6 | 20 |" in md


def test_empty_overview_gets_the_tables_key_counts_which_agree_with_r9() -> None:
    """An empty 一 gets a draft paragraph with the counts; importing it back raises no R9 warning."""
    from xls_gongkai.documents.importer import import_document, import_text
    from xls_gongkai.rules import restated_numbers

    published = import_document(DATA / "2019_shanghaishi_zhengfu_bangongting.txt").report
    assert published is not None
    report = Report(published.unit, published.year, published.format, published.values, {})
    counts = summary(report)
    # 表三's totals are blank in most of 上海's detail rows: the counts come from the applicant columns
    assert counts.startswith("本年度共收到政府信息公开申请859件，上年结转18件；办结805件，其中予以公开272件")
    assert {r.name: r.value for r in restated_numbers(F2019.rules_of(RuleKind.RESTATED)[0], counts)} == {
        "收到申请": 859,
        "上年结转": 18,
        "办结申请": 805,
        "予以公开": 272,
        "部分公开": 3,
        "不予公开": 35,
        "无法提供": 337,
        "不予处理": 158,
        "其他处理": 0,
        "结转下年度": 72,
        "行政复议": 7,
        "行政诉讼": 9,
    }
    md = render_markdown(report)
    assert f"**{SUMMARY_MARK}{counts}**" in md  # flagged like every placeholder
    back = import_text(md, kind="md").report
    assert back is not None
    assert back.texts == {}  # placeholders are not the unit's text
    # a report with its own 一 keeps it untouched
    assert summary(report) not in render_markdown(potouzhen())


def test_cli_render_warns_and_exits_1_when_the_data_breaks_a_rule(tmp_path: Path) -> None:
    from xls_gongkai.sample import broken

    report = broken(sample2024(), ("t4", "cases", "review_upheld"), 3)
    src = tmp_path / "bad.json"
    src.write_text(report.to_json(), encoding="utf-8")
    result = CliRunner().invoke(app, ["render", str(src), "--to", "html", "--out", str(tmp_path / "bad.html")])
    assert result.exit_code == 1
    assert (tmp_path / "bad.html").exists()  # the document is still written, for review
    assert "数据有 1 处错误" in result.stderr
    assert "[R4]" in result.stderr


def test_cli_render_of_a_published_report_with_blank_totals_is_clean(tmp_path: Path) -> None:
    """上海 2019 leaves totals blank: no error for a total it never printed."""
    from xls_gongkai.documents.importer import import_document

    report = import_document(DATA / "2019_shanghaishi_zhengfu_bangongting.txt").report
    assert report is not None
    src = tmp_path / "sh.json"
    src.write_text(report.to_json(), encoding="utf-8")
    result = CliRunner().invoke(app, ["render", str(src), "--to", "md", "--out", str(tmp_path / "sh.md")])
    assert result.exit_code == 0, result.output
    assert "错误" not in result.stderr


@pytest.mark.soffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) 未安装：跳过 DOCX 另存测试")
def test_docx_saved_again_by_libreoffice_still_reads_back(tmp_path: Path) -> None:
    """A unit opens our DOCX in an office suite and saves it: merges and values survive."""
    from tests.lo import convert
    from xls_gongkai.documents.importer import import_document

    reports = {"a": potouzhen(), "b": sample2024()}
    files = [render_docx(r, tmp_path / f"{k}.docx") for k, r in reports.items()]
    resaved = convert(files, "docx:MS Word 2007 XML", tmp_path / "resaved")
    for path, report in zip(resaved, reports.values(), strict=True):
        back = import_document(path).report
        assert back is not None
        assert dict(back.values) == dict(report.values)
        assert back.texts == report.texts


def test_docx_without_python_docx_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """python-docx is a dependency; a broken environment without it gets one Chinese line saying what to install."""
    import sys

    monkeypatch.setitem(sys.modules, "docx", None)
    src = tmp_path / "r.json"
    src.write_text(sample2024().to_json(), encoding="utf-8")
    result = CliRunner().invoke(app, ["render", str(src), "--to", "docx", "--out", str(tmp_path / "r.docx")])
    assert result.exit_code == 2
    assert "pip install python-docx" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.docx").exists()


# --------------------------------------------------------------------------- data that fails the rules

R1_NATURAL = "【数据待核：表三“自然人”列 一+二≠（七）+四，相差 -16】"
R1_TOTAL = "【数据待核：表三“总计”列 一+二≠（七）+四，相差 -16】"


def _unbalanced() -> Report:
    """表三 with 16 fewer new applications from natural persons (totals recomputed): R1 fails
    in the 自然人 and the 总计 column."""
    report = sample2024()
    key = ("t3", "new", "natural")
    return replace_value(report, key, report.value(*key) - 16)


def _paragraphs(report: Report, kind: str, tmp_path: Path, **kw: object) -> list[tuple[str, bool]]:
    """The document's paragraphs in order, each with whether it is highlighted."""
    if kind == "docx":
        import docx
        from docx.enum.text import WD_COLOR_INDEX

        doc = docx.Document(str(render_docx(report, tmp_path / "r.docx", **kw)))  # type: ignore[arg-type]
        body = doc.element.body
        out = []
        for el in body.iterchildren():
            if el.tag.endswith("}tbl"):
                out.append(("<表格>", False))
            elif el.tag.endswith("}p"):
                p = docx.text.paragraph.Paragraph(el, doc)
                if p.text.strip():
                    marked = any(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in p.runs)
                    out.append((p.text, marked))
        return out
    if kind == "html":
        page = render_html(report, **kw)  # type: ignore[arg-type]
        out = []
        for m in re.finditer(r"<(h1|h2|p|table)[^>]*>(.*?)</\1>", page, flags=re.S):
            if m.group(1) == "table":
                out.append(("<表格>", False))
            else:
                inner = m.group(2)
                out.append((re.sub(r"<[^>]+>", "", inner), inner.startswith("<mark>")))
        return out
    md = render_markdown(report, **kw)  # type: ignore[arg-type]
    out = []
    for block in md.split("\n\n"):
        block = block.strip()
        if block.startswith("|"):
            out.append(("<表格>", False))
        elif block:
            text = block.lstrip("# ")
            out.append((text.strip("*"), text.startswith("**")))
    return out


@pytest.mark.parametrize("kind", ["md", "html", "docx"])
def test_data_that_fails_the_rules_is_flagged_under_the_title_and_under_its_table(tmp_path: Path, kind: str) -> None:
    report = _unbalanced()
    paras = _paragraphs(report, kind, tmp_path)
    texts = [t for t, _ in paras]
    # the notice is the paragraph right after the title, highlighted
    assert texts[0] == document_title(report)
    notice, marked = paras[1]
    assert marked
    assert notice.startswith("【数据待核】本文稿的表格数据有 2 处不符合勾稽关系")
    assert "请核对改正后再发布" in notice
    # one highlighted line per failing check, right after 表三 and before the next section
    t3_heading = texts.index(F2021.section_map["s3"].label)
    after = texts.index("<表格>", t3_heading) + 1
    assert paras[after : after + 2] == [(R1_NATURAL, True), (R1_TOTAL, True)]
    assert texts[after + 2] == F2021.section_map["s4"].label
    assert sum(1 for t in texts if t.startswith("【数据待核")) == 3


@pytest.mark.parametrize("kind", ["md", "html", "docx"])
def test_data_that_passes_has_no_data_flag(tmp_path: Path, kind: str) -> None:
    paras = _paragraphs(sample2024(), kind, tmp_path)
    assert not [t for t, _ in paras if "数据待核" in t]
    assert paras[1][0] == F2021.sections[0].label  # the first section follows the title


def test_flag_lines_name_the_cell_for_a_bad_value_and_the_equation_for_a_row_rule() -> None:
    from xls_gongkai.documents.render import data_notes
    from xls_gongkai.sample import broken

    report = sample2024()
    negative = replace_value(report, ("t3", "withheld_secret", "natural"), -1)
    lines = data_notes(negative).tables["t3"]
    assert (
        "【数据待核：表三“三、本年度办理结果 › （三）不予公开 › 1.属于国家秘密”行“自然人”列不能为负数，填的是 -1】"
        in lines
    )
    review = broken(report, ("t4", "cases", "review_upheld"), 3)
    notes = data_notes(review)
    assert notes.tables == {"t4": ("【数据待核：表四“行政复议” 总计≠四项之和，相差 -3】",)}
    assert notes.notice.startswith("【数据待核】本文稿的表格数据有 1 处")


def replace_value(report: Report, key: tuple[str, str, str], value: int) -> Report:
    """The report with one input cell set to ``value`` and every total recomputed."""
    from xls_gongkai.rules import engine

    eng = engine(report.format)
    values = {k: v for k, v in report.values.items() if k not in eng.computed}
    values[key] = value
    return Report(report.unit, report.year, report.format, eng.with_totals(values), report.texts)


@pytest.mark.parametrize("kind", ["md", "html", "docx"])
def test_flagged_document_still_imports_as_the_same_report(tmp_path: Path, kind: str) -> None:
    from xls_gongkai.documents.importer import import_document, import_text

    report = _unbalanced()
    if kind == "docx":
        result = import_document(render_docx(report, tmp_path / "r.docx"))
    else:
        result = import_text(render_markdown(report) if kind == "md" else render_html(report), kind=kind)
    assert result.report is not None
    assert dict(result.report.values) == dict(report.values)
    assert result.report.texts == report.texts
    assert sorted(i.code for i in result.errors) == ["R1", "R1"]


def test_render_of_a_summary_names_every_unit_summed_with_errors(tmp_path: Path) -> None:
    """A unit whose error no longer shows in the summed figures (a text number counts 0) is
    named all the same: the summary's 报送情况 says it was summed with errors."""
    import openpyxl

    from xls_gongkai.batch.merge import merge
    from xls_gongkai.workbook.layout import layout_for
    from xls_gongkai.workbook.summary import write_summary
    from xls_gongkai.workbook.writer import write_workbook

    units = [Unit(f"00{i}", f"乡镇{i}") for i in range(3)]
    for i, u in enumerate(units):
        write_workbook(tmp_path / "in" / f"{u.code}.xlsx", random_report(F2021, u, 2024, random.Random(i), TEXTS))
    sheet, a1 = layout_for(F2021).locate(("t3", "np_repeat", "natural"))
    book = tmp_path / "in" / "001.xlsx"
    wb = openpyxl.load_workbook(book)
    wb[sheet][a1] = "１２"
    wb.save(book)
    summary = write_summary(merge([tmp_path / "in"], unit=Unit("C1", "某县汇总")), tmp_path / "汇总.xlsx")
    result = CliRunner().invoke(app, ["render", str(summary), "--to", "md", "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 1, result.output
    assert "汇总所含 1 个单位的数据有错误：乡镇1。" in result.output
    assert "乡镇1的数据有错误" in (tmp_path / "r.md").read_text(encoding="utf-8")


def test_a_summary_names_its_units_with_errors_in_the_notice() -> None:
    from xls_gongkai.documents.render import data_notes

    notes = data_notes(sample2024(), [], ["东城街道", "柳河乡"])
    assert notes.notice == (
        "【数据待核】汇总所含单位中，东城街道、柳河乡的数据有错误，汇总数字可能随之有误。请核对改正后再发布，发布前删除本段。"
    )
    assert notes.tables == {}
    many = data_notes(sample2024(), [], [f"单位{i}" for i in range(7)])
    assert "单位0、单位1、单位2、单位3、单位4等 7 个单位的数据有错误" in many.notice


# --------------------------------------------------------------------------- title


@pytest.mark.parametrize(
    ("name", "parent", "owner"),
    [
        ("某某县汇总", "", "某某县"),
        ("某某县（汇总）", "", "某某县"),
        ("某某县(汇总)", "", "某某县"),
        ("某某县合计", "", "某某县"),
        ("某某县汇总表", "", "某某县"),
        ("某某县 汇总", "", "某某县"),
        ("全县汇总", "某某县", "某某县"),
        ("汇总", "某某市", "某某市"),
        ("汇总", "", ""),
        ("城关镇人民政府", "", "城关镇人民政府"),
        ("汇总科", "", "汇总科"),  # 汇总 not at the end: part of the name
    ],
)
def test_the_title_names_the_unit_without_what_marks_a_summary(name: str, parent: str, owner: str) -> None:
    report = Report(Unit("", name, parent), 2024, F2021)
    assert document_title(report) == f"{owner}2024年政府信息公开工作年度报告"


def test_an_explicit_title_wins(tmp_path: Path) -> None:
    report = Report(Unit("", "全县汇总"), 2024, F2021, sample2024().values)
    title = "某某县2024年政府信息公开工作年度报告"
    assert render_markdown(report, title=title).startswith(f"# {title}\n")
    assert f"<h1>{title}</h1>" in render_html(report, title=title)
    assert _paragraphs(report, "docx", tmp_path, title=title)[0][0] == title


# --------------------------------------------------------------------------- the CLI on failing data


def test_cli_render_flags_the_document_and_exits_1(tmp_path: Path) -> None:
    src = tmp_path / "bad.json"
    src.write_text(_unbalanced().to_json(), encoding="utf-8")
    out = tmp_path / "bad.md"
    result = CliRunner().invoke(app, ["render", str(src), "--to", "md", "--out", str(out), "--title", "某县年报"])
    assert result.exit_code == 1
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# 某县年报\n\n**【数据待核】")
    assert R1_NATURAL in text
    assert "文稿中已用“【数据待核】”标出" in result.stderr


def test_cli_render_strict_writes_nothing_for_failing_data(tmp_path: Path) -> None:
    src = tmp_path / "bad.json"
    src.write_text(_unbalanced().to_json(), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["render", str(src), "--to", "docx", "--out", str(tmp_path / "r.docx"), "--strict"]
    )
    assert result.exit_code == 1
    assert not (tmp_path / "r.docx").exists()
    assert "未生成文稿（--strict）" in result.stderr
    good = tmp_path / "good.json"
    good.write_text(sample2024().to_json(), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["render", str(good), "--to", "docx", "--out", str(tmp_path / "g.docx"), "--strict"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g.docx").exists()


def test_cli_render_help_states_the_exit_codes_and_the_flag() -> None:
    result = CliRunner().invoke(app, ["render", "--help"])
    assert result.exit_code == 0
    flat = re.sub(r"[\s│]+", "", result.output)
    assert "退出码：0数据无错误；1数据有错误" in flat
    assert "【数据待核】" in flat
    assert "--title" in flat
    assert "--strict" in flat


def test_cli_render_of_a_summary_names_the_units_with_errors(tmp_path: Path) -> None:
    from xls_gongkai.batch.merge import merge
    from xls_gongkai.sample import broken
    from xls_gongkai.workbook.summary import write_summary
    from xls_gongkai.workbook.writer import write_workbook

    units = [Unit(f"00{i}", f"乡镇{i}") for i in range(3)]
    reports = [random_report(F2021, u, 2024, random.Random(i), TEXTS) for i, u in enumerate(units)]
    reports[1] = broken(reports[1], ("t3", "new", "natural"), 5)
    for r in reports:
        write_workbook(tmp_path / f"{r.unit.code}.xlsx", r)
    book = write_summary(merge([tmp_path], unit=Unit("C1", "某县汇总")), tmp_path / "out" / "汇总.xlsx")
    out = tmp_path / "county.md"
    result = CliRunner().invoke(app, ["render", str(book), "--to", "md", "--out", str(out)])
    assert result.exit_code == 1
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# 某县2024年政府信息公开工作年度报告\n")
    assert "汇总所含单位中，乡镇1的数据有错误" in text
    assert "汇总所含 1 个单位的数据有错误：乡镇1" in result.stderr


# --------------------------------------------------------------------------- 表三's numbers in the docx


def test_docx_number_columns_of_table_three_are_at_least_one_and_a_half_cm(tmp_path: Path) -> None:
    import docx

    doc = docx.Document(str(render_docx(sample2024(), tmp_path / "r.docx")))
    widths = [round(c.width.cm, 2) for c in doc.tables[1].columns]  # stored in twips: 1.5 cm is 1.4996
    assert len(widths) == 10
    assert min(widths[3:]) >= 1.49
    assert sum(widths) <= 18.0  # 1.5 cm from the paper's edge at most


@pytest.mark.soffice
@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftotext") is None, reason="需要 LibreOffice 与 pdftotext"
)
def test_six_digit_numbers_of_table_three_print_on_one_line(tmp_path: Path) -> None:
    """A city's totals: each 6-digit number of 表三 appears whole in the PDF's text (a number
    broken over two lines in its cell would appear as two pieces)."""
    from dataclasses import replace

    from tests.lo import convert
    from xls_gongkai.rules import engine

    eng = engine(F2021)
    base = sample2024()
    # 一、本年新收 in the hundred thousands in every column, its 总计 too (the widest column)
    big = {k: 100000 + 9973 * i for i, k in enumerate(k for k in eng.inputs if k[:2] == ("t3", "new"))}
    inputs = {k: v for k, v in base.values.items() if k not in eng.computed}
    report = replace(base, values=eng.with_totals({**inputs, **big}))
    numbers = {str(report.value("t3", "new", c.id)) for c in F2021.table("t3").leaf_columns}
    assert {len(n) for n in numbers} == {6}
    pdf = convert([render_docx(report, tmp_path / "big.docx")], "pdf", tmp_path / "pdf")[0]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    printed = set(re.findall(r"\d+", text))
    assert numbers <= printed
