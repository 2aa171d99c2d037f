"""Reports published as one line of text, their numbers run together (issue 14, item 2).

The real reports of tests/data are flattened here the way such sites do — tabs and line breaks
removed; stray spaces, labels broken by spaces, a table split over two pages (its header and
group labels printed again), amounts in 元 — and must import to the values of the report as
published. A row that the rules cannot decide (表二 has no relation: "1011" is 1|0|11 or 10|1|1)
is reported with its candidates, the true one among them, and nothing is guessed.
"""

from __future__ import annotations

import itertools
import random
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.reports import (
    HUAIAN,
    HUAIAN_T2,
    HUAIAN_T3,
    HUAIAN_T4,
    POTOUZHEN,
    SHANGHAI,
    SHANGHAI_T2,
    SHANGHAI_T3,
    SHANGHAI_T4,
    T3_COLUMNS,
    T4_COLUMNS,
    expected_values,
)
from xls_gongkai.cli import app
from xls_gongkai.documents.flat import is_flat
from xls_gongkai.documents.importer import import_document, import_text, text_items
from xls_gongkai.documents.render import render_html, value_text
from xls_gongkai.issues import Code, Issue, Result
from xls_gongkai.parsing.runs import Why, read_row, split_table
from xls_gongkai.report import CellKey, Report, Unit, Value
from xls_gongkai.rules import engine
from xls_gongkai.sample import balanced, random_report, random_values
from xls_gongkai.spec import CellKind, Format, RuleKind, builtin_formats, get_format

COUNT = (CellKind.COUNT, "")
#: R2 as the engine gives it for a row of 表三: 总计 (column 6) minus its six parts is 0.
R2 = ((1, 6), *((-1, c) for c in range(6)))

HUAIAN_TEXT = HUAIAN.read_text(encoding="utf-8")
POTOUZHEN_TEXT = POTOUZHEN.read_text(encoding="utf-8")
SHANGHAI_TEXT = SHANGHAI.read_text(encoding="utf-8")


def flatten(text: str) -> str:
    """The report as such a site prints it: one line, nothing between the cells."""
    return text.replace("\t", "").replace("\n", "")


def tables_part(text: str) -> tuple[str, str, str]:
    """A flattened report cut before 二 and after the tables (the prose around is left alone)."""
    start, end = text.index("二、主动公开政府信息情况"), text.index("五、")
    return text[:start], text[start:end], text[end:]


def stray_spaces(text: str, rnd: random.Random, rate: float = 0.1) -> str:
    before, tables, after = tables_part(text)
    return before + "".join(c + (" " if rnd.random() < rate else "") for c in tables) + after


def ambiguous(result: Result) -> dict[tuple[str, str], list[str]]:
    """(table, row) → the candidate readings an ambiguity issue lists."""
    return {(i.table, i.row): i.expected.split("；") for i in result.issues if i.code == Code.DIGITS_AMBIGUOUS}


def without_rows(values: dict[CellKey, Value], rows: object) -> dict[CellKey, Value]:
    return {k: v for k, v in values.items() if (k[0], k[1]) not in rows}  # type: ignore[operator]


def reading_of(report: Report, table: str, row: str) -> str:
    """A row's values as a reading prints them (amounts without trailing zeros)."""
    return "|".join(value_text(report, (table, row, c.id)) for c in report.format.table(table).leaf_columns)


HUAIAN_VALUES = expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)
#: 表二第二十条第（一）项 has three columns and no relation: its runs "1011" and "82666" are ambiguous.
HUAIAN_UNDECIDED = {("t2_1", "regulations"), ("t2_1", "normative_docs")}


# --------------------------------------------------------------------------- one row, one table


def test_a_row_is_read_by_its_total() -> None:
    assert [r.text for r in read_row("801000081", [COUNT] * 7, [R2]).readings] == ["80|1|0|0|0|0|81"]
    # A "0" is one digit: 1|0|0|0|0|0|1 is the only reading of seven digits.
    assert [r.text for r in read_row("1000001", [COUNT] * 7, [R2]).readings] == ["1|0|0|0|0|0|1"]


def test_a_row_without_a_relation_is_ambiguous() -> None:
    got = {r.text for r in read_row("6233440", [COUNT] * 3).readings}
    assert {"623|3|440", "6|233|440", "62|334|40", "6233|4|40"} <= got
    assert all(len(t.split("|")) == 3 and not re.search(r"(^|\|)0\d", t) for t in got)  # no leading zeros


def test_amounts_signed_cells_and_limits() -> None:
    amount = (CellKind.AMOUNT, "万元")
    [one] = read_row("394432.52元", [amount]).readings
    assert one.values == (Decimal("39.443252"),)
    assert {r.text for r in read_row("6251000元", [COUNT, amount]).readings} == {
        "6|251000元",
        "62|51000元",
        "625|1000元",
        "625100|0元",
    }
    assert [r.text for r in read_row("10-85", [COUNT, (CellKind.SIGNED, ""), COUNT]).readings] == ["10|-8|5"]
    # No count has ten digits (VALUE_LIMIT), so twelve digits cannot be one cell.
    assert read_row("123456789012", [COUNT]).why is Why.NONE
    # A run far too long for its columns is given up at once, not searched.
    assert read_row("9" * 10_000, [COUNT] * 7, [R2]).why is Why.NONE


def test_the_column_relations_decide_what_a_row_cannot() -> None:
    """ "110000011" is 11|0|…|11 or 1|10|…|11 by R2 alone; R1 (一+二 = （七）+四) decides."""
    fmt = get_format(2021)
    t3 = fmt.table("t3")
    runs = {r.id: "0000000" for r in t3.leaf_rows}
    runs.update(new="110000011", carried_over="2000002", disclosed="130000013", results_total="130000013")
    assert len(read_row(runs["new"], [COUNT] * 7, [R2]).readings) == 2
    split = split_table(t3, runs, engine(fmt))
    assert not split.ambiguous
    assert not split.failed
    assert split.by_columns
    assert split.decided["new"].text == "11|0|0|0|0|0|11"
    # Without （七）总计's row no relation across rows can be checked, and nothing is guessed.
    runs.pop("results_total")
    split = split_table(t3, runs, engine(fmt))
    assert {r.text for r in split.ambiguous["new"]} == {"11|0|0|0|0|0|11", "1|10|0|0|0|0|11"}
    assert "new" not in split.decided


# --------------------------------------------------------------------------- the real reports, flattened


def test_huaian_2024_flattened() -> None:
    flat = flatten(HUAIAN_TEXT)
    assert "\n" not in flat
    assert "…30000035." not in flat
    result = import_text(flat)
    report = result.report
    assert report is not None
    assert (report.year, report.format_id, report.unit.name) == (2024, "gongkai-2021", "淮安市人民政府")
    assert dict(report.values) == without_rows(HUAIAN_VALUES, HUAIAN_UNDECIDED)
    cands = ambiguous(result)
    assert set(cands) == HUAIAN_UNDECIDED
    assert cands[("t2_1", "regulations")] == ["1|0|11", "10|1|1"]
    assert "8|26|66" in cands[("t2_1", "normative_docs")]
    assert [i.code for i in result.issues] == [Code.DIGITS_AMBIGUOUS] * 2
    assert "全文排成一行" in result.notes["format_detected"]
    # The prose comes back word for word (its line breaks are gone with the rest).
    assert (
        report.texts["s6"]
        == "2024 年，市政府严格落实《政府信息公开信息处理费管理办法》，全年收取政府信息公开信息处理费 3940 元。"
    )
    assert report.texts["s1"].startswith("2024 年，我市坚持")
    assert report.texts["s1"].endswith("工作能力和水平。")


def test_the_next_labels_number_is_given_back() -> None:
    """ "…50000054.保护第三方合法权益…": 5|0|0|0|0|0|5, then "4.保护…"; "1、申请人…" likewise."""
    flat = flatten(HUAIAN_TEXT)
    assert "50000054.保护第三方合法权益" in flat
    assert "3、其他108" in flat
    report = import_text(flat).report
    assert report is not None
    assert reading_of(report, "t3", "withheld_safety") == "5|0|0|0|0|0|5"
    assert reading_of(report, "t3", "oh_no_fee") == "6|0|0|0|0|0|6"


def test_t4_is_decided_by_the_numbers_the_text_restates() -> None:
    """表四's fifteen numbers are one run; R4 alone leaves 12|1|1|6|20, 1|2|11|6|20 and 1|2|1|16|20
    for 复议后起诉. 一、总体情况 says 行政诉讼 结果维持 25 件 (R9): 13 + 12."""
    flat = flatten(HUAIAN_TEXT)
    assert "72641783735113481261211620" in flat
    report = import_text(flat).report
    assert report is not None
    assert tuple(report.values[("t4", "cases", c)] for c in T4_COLUMNS) == HUAIAN_T4
    # Without that sentence nothing tells them apart: reported, with the true one among them.
    text = HUAIAN_TEXT.replace("其中结果维持 25件，结果纠正 5 件，其他结果 9 件，尚未审结 7 件。", "")
    result = import_text(flatten(text))
    assert result.report is not None
    assert not any(k[0] == "t4" for k in result.report.values)
    [t4] = [i for i in result.issues if i.table == "t4"]
    assert t4.code == Code.DIGITS_AMBIGUOUS
    assert t4.found == "72641783735113481261211620"
    assert "|".join(map(str, HUAIAN_T4)) in t4.expected.split("；")
    assert len(t4.expected.split("；")) == 3
    assert "表四" in t4.message
    assert "3 种拆分" in t4.message
    assert not result.errors  # R4 of an unread row is not checked against blanks


@pytest.mark.parametrize("seed", range(8))
def test_huaian_with_stray_spaces_and_broken_labels(seed: int) -> None:
    text = (
        flatten(HUAIAN_TEXT)
        .replace("本年度办理结果", "本年度办 理结果")
        .replace("信访举报投诉类申请", "信访 举报投诉类 申请")
    )
    result = import_text(stray_spaces(text, random.Random(seed)))
    assert result.report is not None
    assert dict(result.report.values) == without_rows(HUAIAN_VALUES, HUAIAN_UNDECIDED)
    assert [i.code for i in result.issues] == [Code.DIGITS_AMBIGUOUS] * 2


def test_a_table_split_over_two_pages() -> None:
    """The second page repeats 表三's header and the group labels of the rows that go on, and
    one row's label is printed twice."""
    header = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）申请人情况自然人法人或其他组织商业企业科研机构社会公益组织法律服务机构其他总计"
    flat = flatten(HUAIAN_TEXT)
    page = "（四）无法提供1.本机关不掌握相关政府信息"
    assert flat.count(page) == 1
    flat = flat.replace(page, header + "三、本年度办理结果" + page)
    flat = flat.replace("5.属于三类内部事务信息", "5.属于三类内部事务信息5.属于三类内部事务信息")
    result = import_text(flat)
    assert result.report is not None
    assert dict(result.report.values) == without_rows(HUAIAN_VALUES, HUAIAN_UNDECIDED)
    assert [i.code for i in result.issues] == [Code.DIGITS_AMBIGUOUS] * 2


@settings(max_examples=40, deadline=None)
@given(
    brackets=st.booleans(),
    comma=st.booleans(),
    numbering=st.sampled_from([".", "、", "．"]),
    typo_seed=st.integers(0, 10**6),
)
@pytest.mark.parametrize("which", ["huaian", "potouzhen"])
def test_label_variants_flattened(which: str, brackets: bool, comma: bool, numbering: str, typo_seed: int) -> None:
    """Labels retyped the ways tests/data/FORMATS.md §6 lists (half-width brackets, "，" for "、",
    "1、" for "1.", a character lost) read the same once flattened as in the report's table rows."""
    text = {"huaian": HUAIAN_TEXT, "potouzhen": POTOUZHEN_TEXT}[which]
    rnd = random.Random(typo_seed)
    lines = []
    for line in text.splitlines():
        cells = line.split("\t")
        for i, cell in enumerate(cells):
            if "\t" not in line or not cell or re.fullmatch(r"[\d.]+", cell):
                continue
            cell = cell.replace("（", "(").replace("）", ")") if brackets else cell
            cell = cell.replace("、", "，") if comma else cell
            cell = re.sub(r"^(\d)[.、]", lambda m: m.group(1) + numbering, cell)
            if len(cell) > 12 and rnd.random() < 0.3:  # one character lost, rarely
                k = rnd.randrange(4, len(cell) - 1)
                cell = cell[:k] + cell[k + 1 :]
            cells[i] = cell
        lines.append("\t".join(cells))
    varied = "\n".join(lines)
    plain = import_text(varied)
    result = import_text(flatten(varied))
    assert plain.report is not None
    assert result.report is not None
    undecided = set(ambiguous(result))
    assert all(t.startswith("t2") for t, _r in undecided)
    assert dict(result.report.values) == without_rows(dict(plain.report.values), undecided)
    # The same issues, but for header fragments: the header is read back as the format's.
    assert [i for i in result.issues if i.code != Code.DIGITS_AMBIGUOUS] == [
        i for i in plain.issues if i.code not in (Code.FRAGMENT, Code.NOT_IMPORTED)
    ]


def test_rows_on_lines_of_their_own_without_cell_separators() -> None:
    """Tabs lost but line breaks kept: every row a line "规章1011"."""
    result = import_text(HUAIAN_TEXT.replace("\t", ""))
    assert result.report is not None
    assert dict(result.report.values) == without_rows(HUAIAN_VALUES, HUAIAN_UNDECIDED)
    assert [i.code for i in result.issues] == [Code.DIGITS_AMBIGUOUS] * 2


def test_amounts_in_yuan() -> None:
    """96171.6 万元 printed as 961716000元, or another amount as 394432.52元 (= 39.443252 万元)."""
    result = import_text(flatten(HUAIAN_TEXT.replace("行政事业性收费\t96171.6", "行政事业性收费\t961716000元")))
    assert result.report is not None
    assert dict(result.report.values) == without_rows(HUAIAN_VALUES, HUAIAN_UNDECIDED)
    [converted] = [i for i in result.issues if i.code == Code.UNIT_CONVERTED]
    assert (converted.table, converted.found) == ("t2_8", "961716000元")
    result = import_text(flatten(HUAIAN_TEXT.replace("行政事业性收费\t96171.6", "行政事业性收费\t394432.52元")))
    assert result.report is not None
    assert result.report.values[("t2_8", "fees", "fee_amount")] == Decimal("39.443252")


def test_potouzhen_2020_flattened() -> None:
    fixture = Report.from_json((HUAIAN.parent / "potouzhen_2020.json").read_text(encoding="utf-8"))
    flat = flatten(POTOUZHEN_TEXT)
    assert "保留4位小数" in flat  # a figure in a header is no row's
    result = import_text(flat)
    report = result.report
    assert report is not None
    assert (report.year, report.format_id, report.unit.name) == (2020, "gongkai-2019", "坡头镇人民政府")
    undecided = {("t2_1", "normative_docs"), ("t2_9", "procurement")}
    assert dict(report.values) == without_rows(dict(fixture.values), undecided)
    cands = ambiguous(result)
    assert set(cands) == undecided
    assert "17|17|17" in cands[("t2_1", "normative_docs")]
    assert cands[("t2_9", "procurement")] == ["1|1313.7951", "11|313.7951", "113|13.7951", "1131|3.7951"]
    assert [i.code for i in result.issues] == [Code.DIGITS_AMBIGUOUS] * 2
    published = import_document(POTOUZHEN).report
    assert published is not None
    assert report.texts == {k: v.replace("\n", "") for k, v in published.texts.items()}


def _shanghai_without_blanks() -> tuple[str, dict[CellKey, Value]]:
    """Shanghai's report as a site that prints 0 in blank cells and fills in blank totals."""
    fmt = get_format(2019)
    printed = expected_values(SHANGHAI_T2, SHANGHAI_T3, SHANGHAI_T4)
    zeros = {k: printed.get(k, 0) for k in fmt.cell_keys if k[0] in ("t3", "t4")}
    values = engine(fmt).with_totals({**printed, **zeros}, keep=printed.keys())
    lines = SHANGHAI_TEXT.splitlines()
    first = lines.index("三、收到和处理政府信息公开申请情况") + 3  # the section heading, a blank line, the header
    while not lines[first].startswith("一、"):
        first += 1
    for i, row in enumerate(fmt.table("t3").leaf_rows):
        cells = lines[first + i].split("\t")
        lines[first + i] = "\t".join([*cells[:-7], *(str(values[("t3", row.id, c)]) for c in T3_COLUMNS)])
    t4 = next(i for i, line in enumerate(lines) if line.startswith("5\t"))
    lines[t4] = "\t".join(str(values[("t4", "cases", c)]) for c in T4_COLUMNS)
    return "\n".join(lines), values


def test_shanghai_2019_flattened_from_a_site_that_prints_no_blanks() -> None:
    text, values = _shanghai_without_blanks()
    plain = import_text(text)
    assert plain.report is not None
    assert dict(plain.report.values) == values
    result = import_text(flatten(text))
    report = result.report
    assert report is not None
    undecided = {("t2_1", "regulations"), ("t2_1", "normative_docs"), ("t2_9", "procurement")}
    assert dict(report.values) == without_rows(values, undecided)
    assert set(ambiguous(result)) == undecided
    assert "13|13|524" in ambiguous(result)[("t2_1", "regulations")]
    assert "6|251000元" in ambiguous(result)[("t2_9", "procurement")]
    assert [i.code for i in result.issues if i.code != "R9"] == [Code.DIGITS_AMBIGUOUS] * 3


def test_shanghai_2019_flattened_as_published_guesses_nothing() -> None:
    """Its blank cells vanish when the line is flattened ("18 _ _ _ _ _ 18" becomes "1818"): the
    rows with blanks are reported, the rows printed blank stay blank, and no value is wrong."""
    printed = expected_values(SHANGHAI_T2, SHANGHAI_T3, SHANGHAI_T4)
    result = import_text(flatten(SHANGHAI_TEXT))
    assert result.report is not None
    got = dict(result.report.values)
    assert all(printed[k] == v for k, v in got.items())
    unsplit = {(i.table, i.row) for i in result.issues if i.code == Code.DIGITS_UNSPLIT}
    with_blanks = {
        ("t3", row) for row, cells in SHANGHAI_T3.items() if None in cells and any(v is not None for v in cells)
    }
    assert unsplit == with_blanks | {("t4", "cases")}
    assert ("t3", "withheld_law", "natural") not in got  # printed blank, read blank
    assert result.errors == []
    [blank] = [i for i in result.issues if i.code == Code.DOCUMENT_BLANKS]
    assert blank.found == str(8 * 7)  # the eight rows printed without a number


# --------------------------------------------------------------------------- what is not one line


def test_prose_that_restates_a_few_numbers_is_not_a_table() -> None:
    prose = "本年度主动公开规章13件，行政规范性文件60件，行政许可447228件，行政处罚3985758件，行政强制88283件。"
    assert not is_flat(text_items(prose), builtin_formats())
    assert not is_flat(text_items(HUAIAN_TEXT), builtin_formats())
    assert is_flat(text_items(flatten(HUAIAN_TEXT)), builtin_formats())


def test_cli_imports_a_flattened_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "淮安.txt"
    path.write_text(flatten(HUAIAN_TEXT), encoding="utf-8")
    out = CliRunner().invoke(app, ["import", str(path)])
    assert out.exit_code == 0, out.output
    assert "1|0|11；10|1|1" in out.output
    assert import_document(path).report is not None


# --------------------------------------------------------------------------- random reports


class _TextOnly(HTMLParser):
    """A web page's text as such sites copy it: every text node, nothing between them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._skip += tag in ("style", "script", "head")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script", "head")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data.replace("\n", ""))


def flat_page(report: Report) -> str:
    parser = _TextOnly()
    parser.feed(render_html(report))
    parser.close()
    return "".join(parser.parts)


def really_ambiguous(report: Report, result: Result, issues: list[Issue]) -> None:
    """Every candidate listed takes part in some combination of the table's ambiguous rows that
    satisfies every relation of the format, and each row has two or more."""
    fmt = report.format
    eng = engine(fmt)
    got = dict(result.report.values) if result.report else {}
    for table in {i.table for i in issues}:
        rows = [(i.row, i.expected.split("；")) for i in issues if i.table == table]
        assert all(len(c) >= 2 for _r, c in rows)
        columns = [c.id for c in fmt.table(table).leaf_columns]
        checks = [c for c in eng.checks if c.table.id == table and c.rule.kind is RuleKind.EQUATION]
        used: set[tuple[str, str]] = set()
        combos = list(itertools.islice(itertools.product(*(c for _r, c in rows)), 20_000))
        for combo in combos:
            values = {k: v for k, v in got.items() if k[0] == table}
            for (row, _c), reading in zip(rows, combo, strict=True):
                for col, text in zip(columns, reading.split("|"), strict=True):
                    values[(table, row, col)] = Decimal(text.rstrip("元")) if "." in text else int(text)
            if all(eng.evaluate(c, values).passed for c in checks):
                used.update((row, r) for (row, _c), r in zip(rows, combo, strict=True))
        for row, cands in rows:
            assert {(row, c) for c in cands} <= used, (table, row, cands)


_TEXTS = {
    "s1": "本年度工作情况。",
    "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
    "s6": "本年度未收取信息处理费。",
}


@pytest.mark.parametrize("fmt", builtin_formats(), ids=lambda f: f.id)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), scale=st.sampled_from([5, 50, 500, 5000]))
def test_random_reports_flattened_import_back(fmt: Format, seed: int, scale: int) -> None:
    """A consistent random report rendered as a web page and flattened to its text imports back
    equal, except rows the rules cannot decide: reported, the true reading among the
    candidates, and every candidate really possible."""
    rnd = random.Random(seed)
    values = balanced(fmt, random_values(fmt, rnd, scale=scale))
    report = Report(Unit("甲镇", "甲镇人民政府"), fmt.year_from, fmt, values, dict(_TEXTS))
    result = import_text(flat_page(report))
    assert result.report is not None
    assert result.report.unit.name == "甲镇人民政府"
    assert result.report.format is fmt
    issues = [i for i in result.issues if i.code == Code.DIGITS_AMBIGUOUS]
    # The text rules read the words, not the figures (T3: a random fee beside "未收取").
    assert [i for i in result.issues if i not in issues and not i.code.startswith("T")] == []
    rows = {(i.table, i.row) for i in issues}
    assert dict(result.report.values) == without_rows(dict(report.values), rows)
    for i in issues:
        assert reading_of(report, i.table, i.row) in i.expected.split("；")
    really_ambiguous(report, result, issues)


def test_a_random_report_of_both_formats_imports_exactly_when_rows_are_distinct() -> None:
    """Rows of 表三 and 表四 that R2/R4 and the column relations pin down are never reported."""
    fmt = get_format(2021)
    report = random_report(fmt, Unit("乙镇", "乙镇人民政府"), 2022, random.Random(3), texts=dict(_TEXTS))
    result = import_text(flat_page(report))
    assert result.report is not None
    undecided = set(ambiguous(result))
    assert all(t.startswith(("t2", "t3", "t4")) for t, _r in undecided)
    assert dict(result.report.values) == without_rows(dict(report.values), undecided)
