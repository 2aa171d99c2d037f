"""A local variant end to end, as a county uses it: generate → fill → check → merge → render → import.

The variant (tests/data/local-variant.yaml) is a copy of the 2021 format with another id, an
extra row under 第二十条第（一）项 and an extra 表三 column. Every command takes it with
``--format FILE.yaml``; nothing is confused with the built-in format it was copied from.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import openpyxl
import pandas as pd
from typer.testing import CliRunner

from xls_gongkai.batch.roster import load_roster
from xls_gongkai.cli import app
from xls_gongkai.rules import engine
from xls_gongkai.sample import balanced, random_values
from xls_gongkai.spec import get_format, load_format
from xls_gongkai.workbook.layout import layout_for

VARIANT = Path(__file__).parent / "data" / "local-variant.yaml"
runner = CliRunner()


def _fill(template: Path, out: Path, seed: int) -> dict[tuple[str, str, str], object]:
    """Type numbers into a generated template's input cells, as a clerk does (openpyxl keeps the
    template's formulas; the reader recomputes every total)."""
    fmt = load_format(VARIANT)
    lay = layout_for(fmt)
    inputs = set(engine(fmt).inputs)
    values = {k: v for k, v in balanced(fmt, random_values(fmt, random.Random(seed))).items() if k in inputs}
    wb = openpyxl.load_workbook(template)
    for (t, r, c), v in values.items():
        pos = lay.pos(t, r, c)
        ws = wb[pos.sheet]
        ws.protection.sheet = False
        ws[pos.a1] = v
    texts = wb["文字说明"]
    for sid, tl in lay.texts.items():
        texts[tl.cell.a1] = "本年度未收取信息处理费。" if sid == "s6" else "正文。"
    wb.save(out)
    return values


def test_a_local_variant_works_end_to_end(tmp_path: Path) -> None:
    roster = tmp_path / "名册.csv"
    roster.write_text("代码,名称,上级\n001,城关镇,示范县\n002,东城街道,示范县\n", encoding="utf-8")
    fmt_arg = ["--format", str(VARIANT)]
    res = runner.invoke(app, ["generate", "-y", "2024", "-r", str(roster), "-o", str(tmp_path / "模板"), *fmt_arg])
    assert res.exit_code == 0, res.output
    templates = sorted((tmp_path / "模板").iterdir())
    assert [p.name for p in templates] == ["001_城关镇_2024.xlsx", "002_东城街道_2024.xlsx"]
    book = openpyxl.load_workbook(templates[0])
    labels = {str(c.value) for row in book["表二"].iter_rows() for c in row if c.value}
    assert "其他主动公开文件" in labels
    assert "个体工商户" in {str(c.value) for row in book["表三"].iter_rows() for c in row if c.value}

    inbox = tmp_path / "交回"
    inbox.mkdir()
    filled = [_fill(p, inbox / p.name, seed) for seed, p in enumerate(templates)]

    # without the definition the files are read by their labels, and the officer is told why
    res = runner.invoke(app, ["check", str(inbox / templates[0].name), "--warnings"])
    assert "format-unknown" in res.output
    assert "local-2021" in res.output
    assert "--format" in res.output
    # check: the workbooks' own metadata names the variant; with its definition given, all pass
    res = runner.invoke(app, ["check", str(inbox), "-r", str(roster), *fmt_arg])
    assert res.exit_code == 0, res.output
    assert "共 2 个文件：通过 2" in res.output

    # merge: the summary holds the extra row and column, the tidy export their values
    out = tmp_path / "汇总.xlsx"
    csv_out = tmp_path / "明细.csv"
    res = runner.invoke(app, ["merge", str(inbox), "-r", str(roster), "-o", str(out), "--csv", str(csv_out), *fmt_arg])
    assert res.exit_code in (0, 1), res.output
    frame = pd.read_csv(csv_out, encoding="utf-8-sig", dtype={"unit_code": str})
    assert set(frame.format) == {"local-2021"}
    extra = frame[(frame.row == "other_docs") & (frame.column == "issued")]
    expected = {u: vals.get(("t2_1", "other_docs", "issued")) for u, vals in zip(("001", "002"), filled, strict=True)}
    assert dict(zip(extra.unit_code, extra.value, strict=True)) == {
        k: float(v) for k, v in expected.items() if v is not None
    }
    summary = openpyxl.load_workbook(out, data_only=True)
    assert "其他主动公开文件" in {str(c.value) for row in summary["表二"].iter_rows() for c in row if c.value}

    # render: the document shows the extra row; import reads it back as the variant
    md = tmp_path / "年报.md"
    res = runner.invoke(app, ["render", str(out), "--to", "md", "--out", str(md), *fmt_arg])
    assert res.exit_code in (0, 1), res.output
    text = md.read_text(encoding="utf-8")
    assert "其他主动公开文件" in text
    assert "个体工商户" in text
    back = tmp_path / "back.json"
    res = runner.invoke(app, ["import", str(md), "--json", str(back), *fmt_arg])
    assert res.exit_code in (0, 1), res.output
    report = json.loads(back.read_text(encoding="utf-8"))["files"][0]["report"]
    assert report["format"] == "local-2021"
    got = {(v["table"], v["row"], v["column"]): v["value"] for v in report["values"]}
    total = sum(v.get(("t2_1", "other_docs", "issued"), 0) for v in filled)
    assert got.get(("t2_1", "other_docs", "issued"), 0) == total


def test_a_variant_that_keeps_the_builtin_id_is_not_confused_with_it(tmp_path: Path) -> None:
    """Same id as the built-in, other rows: read with the variant given, the workbook is the
    variant's; its layout, engine and cells are its own."""
    text = VARIANT.read_text(encoding="utf-8").replace("id: local-2021", "id: gongkai-2021")
    same_id = tmp_path / "same-id.yaml"
    same_id.write_text(text, encoding="utf-8")
    variant = load_format(same_id)
    builtin = get_format(2024)
    assert variant.id == builtin.id
    assert variant is not builtin
    assert layout_for(variant) is not layout_for(builtin)
    assert engine(variant).inputs != engine(builtin).inputs
    roster = tmp_path / "名册.csv"
    roster.write_text("代码,名称\n001,城关镇\n", encoding="utf-8")
    assert load_roster(roster).units[0].name == "城关镇"
    res = runner.invoke(
        app, ["generate", "-y", "2024", "-u", "城关镇", "--code", "001", "-o", str(tmp_path), "--format", str(same_id)]
    )
    assert res.exit_code == 0, res.output
    path = tmp_path / "001_城关镇_2024.xlsx"
    from xls_gongkai.reading.reader import read_workbook

    as_variant = read_workbook(path, formats=(variant,))
    assert as_variant.report is not None
    assert as_variant.report.format is variant
    assert ("t2_1", "other_docs", "issued") in as_variant.cells
    plain = read_workbook(path)  # without the definition: the built-in, by its labels
    assert plain.report is not None
    assert plain.report.format is builtin
