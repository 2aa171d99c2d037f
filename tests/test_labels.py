"""Label matching (labels.py): normalisation and the variants of tests/data/FORMATS.md §6."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xls_gongkai.parsing.labels import TableMatcher, match, match_all, normalise, strip_number
from xls_gongkai.spec import builtin_formats, get_format

F19 = get_format(2019)
F21 = get_format(2021)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("（六）其他处理", "(六)其他处理"),
        ("(六) 其他处理", "(六)其他处理"),
        ("（六）其他\n处理", "(六)其他处理"),
        ("1.属于国家秘密", "1.属于国家秘密"),
        ("1、属于国家秘密", "1.属于国家秘密"),
        ("1 . 属于国家秘密", "1.属于国家秘密"),
        ("１．属于国家秘密", "1.属于国家秘密"),
        ("1，属于国家秘密", "1.属于国家秘密"),
        ("3.危及“三安全一稳定”", '3.危及"三安全一稳定"'),
        ('3.危及"三安全一稳定"', '3.危及"三安全一稳定"'),
        ("一、本年新收", "一,本年新收"),
        ("一，本年新收", "一,本年新收"),
        ("**结果维持**", "结果维持"),
        ("  总计：", "总计"),
        ("", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_strip_number() -> None:
    assert strip_number("（六）其他处理") == "其他处理"
    assert strip_number("1.属于国家秘密") == "属于国家秘密"
    assert strip_number("一、本年新收政府信息公开申请数量") == "本年新收政府信息公开申请数量"


@pytest.mark.parametrize("fmt", builtin_formats(), ids=lambda f: f.id)
def test_every_official_label_matches_itself(fmt):  # type: ignore[no-untyped-def]
    for table in fmt.tables:
        m = TableMatcher(table)
        for node in table.row_nodes.values():
            if not node.label:  # 表四's one row has no label: nothing to match
                assert m.row(list(node.path)) is None
                continue
            assert m.row(list(node.path)) is node, node.path_text
        for node in table.column_nodes.values():
            assert m.column(list(node.path)) is node, node.path_text


@pytest.mark.parametrize("fmt", builtin_formats(), ids=lambda f: f.id)
def test_labels_as_printed_with_variants(fmt):  # type: ignore[no-untyped-def]
    """Every leaf row of 表三 found from a variant spelling (ASCII brackets, spaces, 、)."""
    t3 = fmt.table("t3")
    m = TableMatcher(t3)
    for node in t3.leaf_rows:
        variant = node.label.replace("（", "(").replace("）", ") ").replace(".", "、 ")
        assert m.row(["", variant]) is node, variant


@pytest.mark.parametrize(
    ("cells", "row_id"),
    [
        (["三、本年度办理结果", "（三）不予公开", "1.属于国家秘密"], "withheld_secret"),
        (["", "", "3.危及“三安全一稳定”"], "withheld_safety"),
        (["(二) 部分公开（区分处理的，只计这一情形，", "不计其他情形）"], "partial"),  # OCR split
        (["2.其他法律行政法规禁止"], "withheld_law"),  # characters missing at the end
        (["1.本机关不掌握相关信息"], "unavailable_not_held"),  # "政府" missing inside
        (["4.保护第三方合法权"], "withheld_third_party"),
        (["", "(六) 其他"], "other_handling"),  # un-split （六） in a 2021 table: the group
        (["（六）其他处理"], "other_handling"),
        (["3.其他"], "oh_other"),
        (["(七) 总计"], "results_total"),
        (["四、结转下年度继续办理"], "carry_next"),
        (["四，结转下年度继续办理"], "carry_next"),
        (["三、本年度办理结果"], "results"),
        (["三、本年度办理结果", "(一) 予以公开"], "disclosed"),
        (["2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"], "oh_no_fee"),
    ],
)
def test_t3_rows_2021(cells: list[str], row_id: str) -> None:
    node = TableMatcher(F21.table("t3")).row(cells)
    assert node is not None
    assert node.id == row_id


def test_t3_six_in_2019_is_a_leaf() -> None:
    m = TableMatcher(F19.table("t3"))
    node = m.row("（六）其他")
    assert node is not None
    assert node.id == "other_handling"
    assert node.is_leaf


@pytest.mark.parametrize(
    ("cells", "column_id"),
    [
        (["行政复议", "结果维持"], "review_upheld"),
        (["行政诉讼", "未经复议直接起诉", "总计"], "direct_total"),
        (["复议后起诉", "尚未审结"], "after_pending"),
        (["未经复议直接起诉", "结果纠正"], "direct_corrected"),
    ],
)
def test_t4_columns_need_their_group(cells: list[str], column_id: str) -> None:
    node = TableMatcher(F21.table("t4")).column(cells)
    assert node is not None
    assert node.id == column_id


def test_ambiguous_label_gives_none() -> None:
    """Three columns of 表四 are called 结果维持: without a group it is not guessed."""
    m = TableMatcher(F21.table("t4"))
    assert m.column("结果维持") is None
    assert len(match_all("结果维持", list(F21.table("t4").column_nodes.values()))) == 3


def test_columns_of_t2_and_t3() -> None:
    assert TableMatcher(F21.table("t2_1")).row("规范性文件").id == "normative_docs"  # type: ignore[union-attr]
    assert TableMatcher(F21.table("t2_1")).column("本年制发件数").id == "issued"  # type: ignore[union-attr]
    t29 = TableMatcher(F19.table("t2_9"))
    assert t29.column("采购总金额（单位：万元，保留4位小数）").id == "amount"  # type: ignore[union-attr]
    t3 = TableMatcher(F21.table("t3"))
    assert [
        t3.column(c).id for c in ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    ] == [  # type: ignore[union-attr]
        "natural",
        "commercial",
        "research",
        "public_interest",
        "legal_service",
        "other",
        "total",
    ]


def test_unrelated_text_matches_nothing() -> None:
    rows = list(F21.table("t3").row_nodes.values())
    assert match("注：行政复议、行政诉讼数量含上年度结转数量。", rows) is None
    assert match("", rows) is None
    assert match("12", rows) is None
    assert TableMatcher(F21.table("t3")).row(["", "5", "0"]) is None


_LEAF_LABELS = [(n.label, n.id) for n in F21.table("t3").leaf_rows]


@given(st.sampled_from(_LEAF_LABELS), st.data())
def test_one_missing_character_still_matches(item: tuple[str, str], data: st.DataObject) -> None:
    label, row_id = item
    body = strip_number(label)
    if len(body) < 6:  # short labels ("3.其他", "重复申请") lose too much with one character gone
        return
    i = data.draw(st.integers(0, len(label) - 1))
    typo = label[:i] + label[i + 1 :]
    node = TableMatcher(F21.table("t3")).row(typo)
    assert node is not None
    assert node.id == row_id
