"""The compiled Excel formulas compute what the Python engine computes, on the same values.

The formula strings are evaluated by the `formulas` package (an independent Excel formula
engine), fed with the values at the cells the layout names. The real-spreadsheet proof, in
LibreOffice, is in test_soffice_checks.py.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

formulas = pytest.importorskip("formulas")

from tests.conftest import consistent_reports  # noqa: E402
from xls_gongkai.report import Report  # noqa: E402
from xls_gongkai.rules import Check, engine  # noqa: E402
from xls_gongkai.sample import broken  # noqa: E402
from xls_gongkai.spec import CellKey, Format, get_format, load_format  # noqa: E402
from xls_gongkai.workbook import formulas as excel  # noqa: E402
from xls_gongkai.workbook.layout import Layout, layout_for, parse_a1  # noqa: E402

VARIANT = load_format(Path(__file__).parent / "data" / "local-variant.yaml")
FORMATS = [get_format(2019), get_format(2021), VARIANT]
IDS = [f.id for f in FORMATS]


@cache
def _key_at(lay: Layout) -> dict[tuple[str, int, int], CellKey]:
    return {(sheet, *parse_a1(ref)): key for key, (sheet, ref) in lay.cell_refs.items()}


@cache
def _compiled(formula: str) -> Any:
    return formulas.Parser().ast(formula)[1].compile()


def _cell(report: Report, lay: Layout, sheet: str, row: int, col: int) -> Any:
    key = _key_at(lay).get((sheet, row, col))
    if key is None or key not in report.values:
        return formulas.functions.EMPTY
    v = report.values[key]
    return float(v)


def _run(formula: str, report: Report, lay: Layout, sheet: str) -> Any:
    func = _compiled(formula)
    args = []
    for name in func.inputs:
        ref = name.split("!")[-1]
        if ":" in ref:
            (r0, c0), (r1, c1) = (parse_a1(x) for x in ref.split(":"))
            grid = [[_cell(report, lay, sheet, r, c) for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]
            args.append(np.array(grid, dtype=object))
        else:
            r, c = parse_a1(ref)
            args.append(_cell(report, lay, sheet, r, c))
    out = func(*args)
    return out.item() if hasattr(out, "item") else out


def _agree(fmt: Format, report: Report, checks: list[Check]) -> None:
    lay = layout_for(fmt)
    for check in checks:
        sheet = lay.tables[check.table.id].sheet
        got = _run(excel.check_formula(check, lay), report, lay, sheet)
        want = excel.check_display(engine(fmt).evaluate(check, report.values))
        assert str(got) == want, (check.key, excel.check_formula(check, lay))


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
@given(data=st.data())
def test_check_formulas_agree_with_python(fmt: Format, data: st.DataObject) -> None:
    report = data.draw(consistent_reports(fmt))
    if data.draw(st.booleans()):
        key = data.draw(st.sampled_from([k for k in fmt.cells() if k[0] in ("t3", "t4")]))
        report = broken(report, key, data.draw(st.integers(-30, 30).filter(bool)))
    in_sheet = [c for c in engine(fmt).checks if c.in_sheet and c.rule.id != "R5"]
    _agree(fmt, report, in_sheet)


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_cell_rule_formula_counts_bad_cells(fmt: Format) -> None:
    import random
    from decimal import Decimal

    from xls_gongkai.report import Unit
    from xls_gongkai.sample import random_report

    report = random_report(fmt, Unit("1", "镇"), fmt.year_from, random.Random(3))
    values = dict(report.values)
    values[("t2_1", "regulations", fmt.table("t2_1").leaf_columns[0].id)] = -2
    values[("t3", "new", "natural")] = Decimal("1.5")
    values[("t3", "carry_next", "other")] = -1
    bad = Report(report.unit, report.year, fmt, values)
    r5 = [c for c in engine(fmt).checks if c.rule.id == "R5"]
    _agree(fmt, bad, r5)
    t3 = next(c for c in r5 if c.table.id == "t3")
    assert excel.check_display(engine(fmt).evaluate(t3, bad.values)).startswith("✘ 2")


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
@given(data=st.data())
def test_total_formulas_compute_the_totals(fmt: Format, data: st.DataObject) -> None:
    report = data.draw(consistent_reports(fmt))
    lay = layout_for(fmt)
    for key, check in engine(fmt).computed.items():
        # the total's own cell is not an input of its formula, so the report's value stands in
        got = _run(excel.total_formula(check, lay), report, lay, lay.tables[key[0]].sheet)
        assert got == float(report.values[key]), key
