"""The real-spreadsheet proof: LibreOffice computes the same ✔/✘ as the Python rule engine.

A generated template is filled with openpyxl (which stores formulas without cached results),
once with consistent data and once per rule with data that breaks it; every file is converted
by ONE headless LibreOffice call whose profile recalculates every formula on load. The
converted workbooks' cached results are then compared, check cell by check cell, and for
CHECK_FAILURES, with what the Python engine says for the same values.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.lo import convert, requires_soffice
from xls_gongkai import excel
from xls_gongkai.layout import layout_for
from xls_gongkai.report import CellKey, Report, Unit, Value
from xls_gongkai.rules import Check, computed_cells, evaluate, expand, side_value
from xls_gongkai.sample import random_report, with_totals
from xls_gongkai.spec import CellKind, Format, RuleKind, get_format
from xls_gongkai.writer import write_workbook

pytestmark = [pytest.mark.soffice, requires_soffice]

FORMATS = [get_format(2019), get_format(2021)]


@dataclass(frozen=True)
class Case:
    name: str
    fmt: Format
    values: dict[CellKey, Value]  # every cell as the sheet will hold it (totals included)
    overwritten: frozenset[CellKey]  # totals typed over: written as numbers, not formulas
    expected_failing: frozenset[tuple[str, str, str, int]]


def _recompute(fmt: Format, values: dict[CellKey, Value], fixed: frozenset[CellKey]) -> dict[CellKey, Value]:
    """Totals as the sheet's formulas compute them when the cells in ``fixed`` hold numbers."""
    out = dict(values)
    computed = computed_cells(fmt)
    for _ in range(len(computed)):
        changed = False
        for key, check in computed.items():
            if key in fixed:
                continue
            report = Report(Unit("", ""), fmt.year_from, fmt.id, out)
            v = side_value(report, check.rhs)
            if out.get(key) != v:
                out[key] = v
                changed = True
        if not changed:
            break
    return out


def _failing(fmt: Format, values: dict[CellKey, Value]) -> frozenset[tuple[str, str, str, int]]:
    report = Report(Unit("", ""), fmt.year_from, fmt.id, values)
    return frozenset(c.key for c in expand(fmt) if c.in_sheet and not evaluate(c, report).passed)


def _breaking(fmt: Format, check: Check, base: dict[CellKey, Value]) -> tuple[dict[CellKey, Value], frozenset[CellKey]]:
    """Values that break ``check``: a total typed over, an input shifted, or a bad number."""
    computed = computed_cells(fmt)
    values = dict(base)
    if check.rule.kind is RuleKind.CELLS:
        inputs = [(check.table.id, r, c) for r, c in check.table.cells() if (check.table.id, r, c) not in computed]
        key = inputs[0]
        kind = check.table.cell_kind(key[1], key[2])
        values[key] = Decimal("2.5") if kind is CellKind.SIGNED else -1
        return _recompute(fmt, values, frozenset()), frozenset()
    lhs = check.leaf_keys(check.lhs)
    if check.rule.computes:
        key = lhs[0]
        values[key] = values.get(key, 0) + 3
        fixed = frozenset({key})
        return _recompute(fmt, values, fixed), fixed
    key = next(k for k in lhs if k not in computed)
    values[key] = values.get(key, 0) + 3
    return _recompute(fmt, values, frozenset()), frozenset()


def _cases() -> list[Case]:
    cases: list[Case] = []
    for fmt in FORMATS:
        rnd = random.Random(fmt.year_from)
        good = random_report(fmt, Unit("1", "x"), fmt.year_from, rnd)
        base = with_totals(fmt, good.values)
        cases.append(Case(f"{fmt.year_from}_ok", fmt, base, frozenset(), _failing(fmt, base)))
        seen: set[str] = set()
        for check in expand(fmt):
            if not check.in_sheet or check.rule.id in seen:
                continue
            seen.add(check.rule.id)
            values, fixed = _breaking(fmt, check, base)
            cases.append(Case(f"{fmt.year_from}_{check.rule.id}", fmt, values, fixed, _failing(fmt, values)))
    return cases


def _fill(template: Path, target: Path, case: Case) -> None:
    lay = layout_for(case.fmt)
    computed = computed_cells(case.fmt)
    wb = openpyxl.load_workbook(template)
    for key, v in case.values.items():
        if key in computed and key not in case.overwritten:
            continue
        pos = lay.pos(*key)
        wb[pos.sheet].cell(pos.row + 1, pos.col + 1).value = float(v) if isinstance(v, Decimal) else v
    wb.save(target)


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, Path]]:
    root = tmp_path_factory.mktemp("soffice_checks")
    filled = root / "filled"
    filled.mkdir()
    templates = {}
    for fmt in FORMATS:
        templates[fmt.id] = write_workbook(
            root / f"template_{fmt.id}.xlsx", Report(Unit("1", "测试镇"), fmt.year_from, fmt.id)
        )
    cases = _cases()
    paths = []
    for case in cases:
        p = filled / f"{case.name}.xlsx"
        _fill(templates[case.fmt.id], p, case)
        paths.append(p)
    # The blank templates themselves, recalculated: all ✔, no failures.
    blank_cases = []
    for fmt in FORMATS:
        p = filled / f"{fmt.year_from}_blank.xlsx"
        shutil.copy(templates[fmt.id], p)
        paths.append(p)
        blank_cases.append(Case(f"{fmt.year_from}_blank", fmt, {}, frozenset(), frozenset()))
    out = convert(paths, "xlsx", root / "out", recalc=True)
    return {c.name: (c, o) for c, o in zip([*cases, *blank_cases], out, strict=True)}


def _read(case: Case, path: Path) -> tuple[dict[tuple[str, str, str, int], str], object]:
    lay = layout_for(case.fmt)
    wb = openpyxl.load_workbook(path, data_only=True)
    shown = {key: wb[pos.sheet].cell(pos.row + 1, pos.col + 1).value for key, pos in lay.checks.items()}
    fc = lay.failures_cell
    return shown, wb[fc.sheet].cell(fc.row + 1, fc.col + 1).value


CASE_NAMES = [c.name for c in _cases()] + [f"{f.year_from}_blank" for f in FORMATS]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_libreoffice_agrees_with_python(recalculated: dict[str, tuple[Case, Path]], name: str) -> None:
    case, path = recalculated[name]
    shown, failures = _read(case, path)
    lay = layout_for(case.fmt)
    assert len(shown) == len(lay.checks)
    for key, text in shown.items():
        assert isinstance(text, str), (key, text)
        assert text.startswith(excel.FAIL) == (key in case.expected_failing), (key, text)
        assert text.startswith(excel.PASS) == (key not in case.expected_failing), (key, text)
    assert failures == len(case.expected_failing)
    if name.endswith(("_ok", "_blank")):
        assert failures == 0
    else:
        # Breaking a rule makes at least that rule's first check fail.
        rule_id = name.split("_", 1)[1]
        assert any(k[0] == rule_id for k in case.expected_failing)


@pytest.mark.parametrize("name", [n for n in CASE_NAMES if not n.endswith(("_ok", "_blank"))])
def test_libreoffice_shows_what_python_displays(recalculated: dict[str, tuple[Case, Path]], name: str) -> None:
    """The ✘ text itself ("✘ 一+二≠（七）+四，差 3") is what the writer stores as cached result."""
    case, path = recalculated[name]
    shown, _failures = _read(case, path)
    report = Report(Unit("", ""), case.fmt.year_from, case.fmt.id, case.values)
    checks = {c.key: c for c in expand(case.fmt)}
    for key, text in shown.items():
        assert text == excel.check_display(evaluate(checks[key], report)), key
