"""The format definitions against the reference text (FORMATS.md), and the loader's validation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from xls_gongkai.errors import SpecError, UsageError
from xls_gongkai.spec import CellKind, Format, RuleKind, get_format, load_format, parse_format

DATA = Path(__file__).parent / "data"
TEMPLATES = Path(__file__).parents[1] / "templates"
FORMATS_MD = (DATA / "FORMATS.md").read_text(encoding="utf-8")


def _section(title_prefix: str) -> str:
    """The text of one '## N.' section of FORMATS.md."""
    parts = re.split(r"^## ", FORMATS_MD, flags=re.M)
    return next(p for p in parts if p.startswith(title_prefix))


def _t2_blocks(version: str) -> list[tuple[str, list[str], list[str]]]:
    text = _section("2.")
    sub = text.split(f"### {version}")[1].split("###")[0]
    blocks = []
    for line in sub.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("第二十条"):
            blocks.append((cells[0], cells[1].split(" · "), cells[2].split(" · ")))
    return blocks


def _t3_rows(version: str) -> list[tuple[int, str]]:
    """(depth, label) of every row of 表三, from the code blocks of §3."""
    text = _section("3.")
    blocks = re.findall(r"```\n(.*?)```", text, flags=re.S)
    rows_2019 = next(b for b in blocks if "一、本年新收" in b)
    out = []
    for line in rows_2019.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        out.append(({0: 0, 4: 1, 10: 2}[indent], line.strip()))
    if version == "2021":
        extra = next(b for b in blocks if "申请人无正当理由" in b)
        subrows = [(2, line.strip()) for line in extra.splitlines() if line.startswith(" " * 10)]
        at = out.index((1, "（六）其他处理")) + 1
        out[at:at] = subrows
    return out


def _walk(nodes):  # type: ignore[no-untyped-def]
    for n in nodes:
        yield n
        yield from _walk(n.children)


@pytest.fixture(params=["2019", "2021"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fmt(version: str) -> Format:
    return get_format(int(version))


def test_format_is_picked_by_year() -> None:
    assert get_format(2019).id == "gongkai-2019"
    assert get_format(2020).id == "gongkai-2019"
    assert get_format(2021).id == "gongkai-2021"
    assert get_format(2025).id == "gongkai-2021"
    assert get_format("gongkai-2019").id == "gongkai-2019"
    assert get_format("2021").id == "gongkai-2021"
    with pytest.raises(UsageError, match="2018"):
        get_format(2018)
    with pytest.raises(UsageError, match="未知的格式"):
        get_format("nonsense")


def test_table_two_matches_formats_md(version: str, fmt: Format) -> None:
    expected = _t2_blocks(f"{version} {'试行' if version == '2019' else '修订'}")
    t2 = [t for t in fmt.tables if t.sheet == "表二"]
    got = [(t.title, [t.corner] + [c.label for c in t.leaf_columns], [r.label for r in t.leaf_rows]) for t in t2]
    assert got == expected


def test_table_three_rows_match_formats_md(version: str, fmt: Format) -> None:
    t3 = fmt.table("t3")
    got = [(n.depth, n.label) for n in _walk(t3.rows)]
    assert got == _t3_rows(version)
    assert t3.corner == "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def test_table_three_columns_match_formats_md(fmt: Format) -> None:
    t3 = fmt.table("t3")
    order = re.search(r"Value columns in order: (.*?)\.\n", FORMATS_MD)
    assert order is not None
    assert [c.label for c in t3.leaf_columns] == order.group(1).split(" · ")
    paths = [c.path_text for c in t3.leaf_columns]
    assert paths[0] == "申请人情况 › 自然人"
    assert paths[1] == "申请人情况 › 法人或其他组织 › 商业企业"
    assert paths[-1] == "申请人情况 › 总计"
    assert t3.column_depth == 3


def test_table_four_matches_formats_md(fmt: Format) -> None:
    text = _section("4.")
    block = re.findall(r"```\n(.*?)```", text, flags=re.S)[0]
    outcomes = block.splitlines()[-1].split("|")[0].split()
    assert outcomes == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    t4 = fmt.table("t4")
    assert [c.label for c in t4.leaf_columns] == outcomes * 3
    assert [c.path_text for c in t4.leaf_columns][::5] == [
        "行政复议 › 结果维持",
        "行政诉讼 › 未经复议直接起诉 › 结果维持",
        "行政诉讼 › 复议后起诉 › 结果维持",
    ]
    assert len(t4.leaf_rows) == 1


def test_sections_and_kinds(fmt: Format) -> None:
    labels = [s.label for s in fmt.sections]
    assert labels == [
        "一、总体情况",
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
        "五、存在的主要问题及改进情况",
        "六、其他需要报告的事项",
    ]
    assert [s.id for s in fmt.text_sections] == ["s1", "s5", "s6"]
    kinds = {fmt.table(t).cell_kind(r, c) for t, r, c in fmt.cells()}
    if fmt.id == "gongkai-2019":
        assert fmt.table("t2_5").cell_kind("licensing", "change") is CellKind.SIGNED
        assert fmt.table("t2_9").cell_kind("procurement", "amount") is CellKind.AMOUNT
        assert fmt.table("t2_9").decimals("procurement", "amount") == 4
        assert kinds == {CellKind.COUNT, CellKind.SIGNED, CellKind.AMOUNT}
    else:
        assert fmt.table("t2_8").cell_kind("fees", "fee_amount") is CellKind.AMOUNT
        assert kinds == {CellKind.COUNT, CellKind.AMOUNT}
        assert "信息处理费" in fmt.sections[-1].prompt


def test_rules_r1_to_r5_are_errors(fmt: Format) -> None:
    rules = {r.id: r for r in fmt.rules}
    for rid in ("R1", "R2", "R3", "R4", "R5"):
        assert rules[rid].severity.value == "error"
    # cross-year rules, the restated numbers of 一 (R9), plausibility (P1 元 in a 万元 cell, P2 a jump
    # from last year, P3 far from the batch), text rules (T2 五 too short, T4 一 copied) and, from
    # 2021, the 信息处理费 statement (T1) and a fee contradicting 六 (T3)
    common = {"P1", "P2", "P3", "R6", "R9", "T2", "T4"}
    warnings = common | ({"R8"} if fmt.id == "gongkai-2019" else {"R7", "T1", "T3"})
    assert {rid for rid, r in rules.items() if r.severity.value == "warning"} == warnings


def test_json_structure_lists_every_label(fmt: Format) -> None:
    data = json.loads(json.dumps(fmt.to_dict(), ensure_ascii=False))
    text = json.dumps(data, ensure_ascii=False)
    for _depth, label in _t3_rows(fmt.id[-4:]):
        assert label in text
    t3 = next(t for t in data["tables"] if t["id"] == "t3")
    withheld = t3["rows"][2]["children"][2]
    assert withheld["children"][0]["path"] == "三、本年度办理结果 › （三）不予公开 › 1.属于国家秘密"
    assert [r["id"] for r in data["rules"]][:5] == ["R1", "R2", "R3", "R4", "R5"]


def test_local_variant_is_a_yaml_edit(tmp_path: Path) -> None:
    """A county adds 其他主动公开文件 under （一） by editing a copy of the YAML — no code."""
    raw = yaml.safe_load((TEMPLATES / "gongkai-2021.yaml").read_text(encoding="utf-8"))
    raw["id"] = "gongkai-2021-local"
    raw["tables"][0]["rows"].append({"id": "other_docs", "label": "其他主动公开文件"})
    path = tmp_path / "local.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    fmt = get_format(str(path))
    assert [r.label for r in fmt.table("t2_1").leaf_rows][-1] == "其他主动公开文件"
    assert ("t2_1", "other_docs", "issued") in set(fmt.cells())


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d.pop("tables"), "tables"),
        (lambda d: d["tables"][0]["columns"][0].update(kind="money"), "tables[0].columns[0].kind"),
        (lambda d: d["tables"][0]["rows"][0].update(id="Bad Id"), "tables[0].rows[0].id"),
        (lambda d: d["rules"][0]["equations"][0]["lhs"].append("nowhere"), "rules[0].equations[0]"),
        (lambda d: d["rules"][0].update(table="t9"), "rules[0].table"),
        (lambda d: d.update(spec_version=7), "spec_version"),
        (lambda d: d["years"].update({"from": "soon"}), "years.from"),
        (lambda d: d["tables"][4]["rows"][0].update(id="carried_over"), "tables[4].rows"),
        (lambda d: d["sections"][0].update(length=-1), "sections[0].length"),
        (lambda d: d["sections"][1].update(length=800), "sections[1].length"),  # a tables section
    ],
)
def test_broken_definition_names_file_and_key(tmp_path: Path, edit, where: str) -> None:  # type: ignore[no-untyped-def]
    raw = yaml.safe_load((TEMPLATES / "gongkai-2021.yaml").read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_format(path)
    assert str(path) in str(info.value)
    assert where in str(info.value)


def test_not_yaml_is_refused() -> None:
    with pytest.raises(SpecError, match="不是合法的 YAML"):
        parse_format("a: [", "x.yaml")


def test_everything_about_text_lives_in_the_definition(fmt: Format) -> None:
    """R9's facts, the summary sentence, the fee statement, section aliases and charts are data."""
    r9 = next(r for r in fmt.rules if r.id == "R9")
    assert r9.kind is RuleKind.RESTATED
    assert r9.section == "s1"
    assert {f.name for f in r9.facts} >= {"收到申请", "办结申请", "行政复议", "行政诉讼"}
    review = next(f for f in r9.facts if f.name == "行政复议")
    assert next(c.cells for c in review.clause) == (("t4", "cases", "review_upheld"),)
    assert "{t3.new.total}" in r9.summary
    assert "\n" not in r9.summary
    fee = [r for r in fmt.rules if r.kind is RuleKind.TEXT and r.test == "mentions"]
    assert [r.mentions for r in fee] == ([("信息处理费",)] if fmt.id == "gongkai-2021" else [])
    assert "整改" in fmt.section_map["s5"].aliases
    assert [(c.kind, c.table, c.row, c.column) for c in fmt.charts] == [
        ("bar", "t3", "new", "total"),
        ("pie", "t3", "results", "total"),
    ]


def test_a_format_is_one_object_per_definition(tmp_path: Path) -> None:
    """The same definition is the same object (also after a trip to a worker process); a
    variant that keeps the built-in's id is another object."""
    import pickle

    builtin = get_format(2024)
    assert pickle.loads(pickle.dumps(builtin)) is builtin
    raw = yaml.safe_load((TEMPLATES / "gongkai-2021.yaml").read_text(encoding="utf-8"))
    raw["tables"][0]["rows"].append({"id": "other_docs", "label": "其他主动公开文件"})
    path = tmp_path / "same-id.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    variant = load_format(path)
    assert variant.id == builtin.id
    assert variant is not builtin
    assert not variant.builtin
    assert load_format(path) is variant
    assert pickle.loads(pickle.dumps(variant)) is variant
    assert ("t2_1", "other_docs", "issued") in variant.cell_keys
    assert ("t2_1", "other_docs", "issued") not in builtin.cell_keys


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda r: r.update(section="s9"), "section"),
        (lambda r: r["facts"][0].update(cells=["t3.nowhere.total"]), "facts[0].cells[0]"),
        (lambda r: r["facts"][1].update(pattern="(unclosed"), "facts[1].patterns"),
        (lambda r: r["facts"][1].update(pattern="no group"), "facts[1].patterns"),
        (lambda r: r.update(summary="共{t3.new.nowhere}件"), "summary"),
    ],
)
def test_broken_restated_rule_names_the_key(tmp_path: Path, edit, where: str) -> None:  # type: ignore[no-untyped-def]
    raw = yaml.safe_load((TEMPLATES / "gongkai-2021.yaml").read_text(encoding="utf-8"))
    r9 = next(r for r in raw["rules"] if r["id"] == "R9")
    edit(r9)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_format(path)
    assert where in str(info.value)
