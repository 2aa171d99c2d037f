"""The real-spreadsheet proof: LibreOffice computes the same ✔/✘ as the Python rule engine.

Two batches, each converted by ONE headless LibreOffice call whose profile recalculates every
formula on load (``tests/lo.py``, ``recalc=True``):

* templates filled with openpyxl (which stores formulas without cached results): consistent
  data; for every rule its first, a middle and its last check broken in turn (an input shifted,
  a bad number, or a total typed over); text pasted into number cells; the blank templates.
  Every check cell's ✔/✘ (and its whole text) and CHECK_FAILURES must equal the Python engine's.
* workbooks written by the writer itself (blank, consistent, broken, partly filled, annotated
  with comments and a 问题清单, a summary with an extra sheet): every stored formula result —
  what pandas, calamine and an unrecalculated LibreOffice show — must equal LibreOffice's own
  recalculation.
"""

from __future__ import annotations

import random
import shutil
import zipfile
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from tests.lo import convert, requires_soffice
from xls_gongkai.report import CellKey, Report, Unit, Value
from xls_gongkai.rules import Check, check_report, engine
from xls_gongkai.sample import broken, random_report
from xls_gongkai.spec import CellKind, Format, RuleKind, get_format, load_format
from xls_gongkai.workbook import formulas as excel
from xls_gongkai.workbook.layout import ISSUES_SHEET, layout_for
from xls_gongkai.workbook.writer import WriteOptions, check_text, write_workbook

pytestmark = [pytest.mark.soffice, requires_soffice]

#: The built-in formats and a local variant (an extra row in 表二, an extra column in 表三).
VARIANT = load_format(Path(__file__).parent / "data" / "local-variant.yaml")
FORMATS = [get_format(2019), get_format(2021), VARIANT]
TAG = {"gongkai-2019": "2019", "gongkai-2021": "2021", "local-2021": "v2021"}


@dataclass(frozen=True)
class Case:
    name: str
    fmt: Format
    values: dict[CellKey, Value]  # every cell as the sheet will hold it (totals included)
    overwritten: frozenset[CellKey]  # totals typed over: written as numbers, not formulas
    expected_failing: frozenset[tuple[str, str, str, int]]
    target: tuple[str, str, str, int] | None = None  # the check the data was made to break


def _recompute(fmt: Format, values: dict[CellKey, Value], fixed: frozenset[CellKey]) -> dict[CellKey, Value]:
    """Totals as the sheet's formulas compute them when the cells in ``fixed`` hold numbers."""
    out = dict(values)
    eng = engine(fmt)
    for _ in range(len(eng.computed)):
        changed = False
        for key, check in eng.computed.items():
            if key in fixed:
                continue
            v = eng.side(out, check.rhs)
            if out.get(key) != v:
                out[key] = v
                changed = True
        if not changed:
            break
    return out


def _failing(fmt: Format, values: dict[CellKey, Value]) -> frozenset[tuple[str, str, str, int]]:
    eng = engine(fmt)
    return frozenset(c.key for c in eng.checks if c.in_sheet and not eng.evaluate(c, values).passed)


def _breaking(fmt: Format, check: Check, base: dict[CellKey, Value]) -> tuple[dict[CellKey, Value], frozenset[CellKey]]:
    """Values that break ``check``: a total typed over, an input shifted, or a bad number."""
    computed = engine(fmt).computed
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
    # An input cell the check covers, or (the total column of R1 covers only totals) the first
    # input cell whose change shows up in it.
    inputs = [k for k in lhs if k not in computed]
    inputs += [(check.table.id, r, c) for r, c in check.table.cells() if (check.table.id, r, c) not in computed]
    for key in inputs:
        trial = dict(base)
        trial[key] = trial.get(key, 0) + 3
        trial = _recompute(fmt, trial, frozenset())
        if check.key in _failing(fmt, trial):
            return trial, frozenset()
    raise AssertionError(f"no single input change breaks {check.key}")


def _picks(checks: list[Check]) -> list[Check]:
    """The first, a middle and the last check of a rule: rows/columns at both ends and inside."""
    idx = sorted({0, len(checks) // 2, len(checks) - 1})
    return [checks[i] for i in idx]


def _cases() -> list[Case]:
    cases: list[Case] = []
    for fmt in FORMATS:
        rnd = random.Random(fmt.year_from)
        good = random_report(fmt, Unit("1", "x"), fmt.year_from, rnd)
        base = engine(fmt).with_totals(good.values)
        cases.append(Case(f"{TAG[fmt.id]}_ok", fmt, base, frozenset(), _failing(fmt, base)))
        by_rule: dict[str, list[Check]] = {}
        for check in engine(fmt).checks:
            if check.in_sheet:
                by_rule.setdefault(check.rule.id, []).append(check)
        for rule_id, checks in by_rule.items():
            for n, check in enumerate(_picks(checks)):
                values, fixed = _breaking(fmt, check, base)
                name = f"{TAG[fmt.id]}_{rule_id}_{n}"
                cases.append(Case(name, fmt, values, fixed, _failing(fmt, values), check.key))
    return cases


def _fill(template: Path, target: Path, case: Case) -> None:
    lay = layout_for(case.fmt)
    computed = engine(case.fmt).computed
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
            root / f"template_{fmt.id}.xlsx", Report(Unit("1", "测试镇"), fmt.year_from, fmt)
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
        p = filled / f"{TAG[fmt.id]}_blank.xlsx"
        shutil.copy(templates[fmt.id], p)
        paths.append(p)
        blank_cases.append(Case(f"{TAG[fmt.id]}_blank", fmt, {}, frozenset(), frozenset()))
    # Text pasted into number cells (a paste is not stopped by data validation): only R5 fails,
    # nothing turns into #VALUE!.
    for fmt in FORMATS:
        p = filled / f"{TAG[fmt.id]}_text.xlsx"
        lay = layout_for(fmt)
        wb = openpyxl.load_workbook(templates[fmt.id])
        for key, text in ((("t3", "new", "natural")), "22（其中修订16件）"), ((("t3", "new", "commercial")), "5"):
            pos = lay.pos(*key)
            wb[pos.sheet].cell(pos.row + 1, pos.col + 1).value = text
        wb.save(p)
        paths.append(p)
        r5 = next(c.key for c in engine(fmt).checks if c.rule.kind is RuleKind.CELLS and c.table.id == "t3")
        blank_cases.append(Case(f"{TAG[fmt.id]}_text", fmt, {}, frozenset(), frozenset({r5}), r5))
    out = convert(paths, "xlsx", root / "out", recalc=True)
    return {c.name: (c, o) for c, o in zip([*cases, *blank_cases], out, strict=True)}


def _read(case: Case, path: Path) -> tuple[dict[tuple[str, str, str, int], str], object]:
    lay = layout_for(case.fmt)
    wb = openpyxl.load_workbook(path, data_only=True)
    shown = {key: wb[pos.sheet].cell(pos.row + 1, pos.col + 1).value for key, pos in lay.checks.items()}
    fc = lay.failures_cell
    return shown, wb[fc.sheet].cell(fc.row + 1, fc.col + 1).value


CASE_NAMES = [c.name for c in _cases()] + [f"{TAG[f.id]}_{k}" for k in ("blank", "text") for f in FORMATS]


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
        # The data really breaks the check it was made for (a test of the test data).
        assert case.target in case.expected_failing


@pytest.mark.parametrize("name", [n for n in CASE_NAMES if not n.endswith(("_ok", "_blank", "_text"))])
def test_libreoffice_shows_what_python_displays(recalculated: dict[str, tuple[Case, Path]], name: str) -> None:
    """The ✘ text itself ("✘ 一+二≠（七）+四，差 3") is what the writer stores as cached result."""
    case, path = recalculated[name]
    shown, _failures = _read(case, path)
    report = Report(Unit("", ""), case.fmt.year_from, case.fmt, case.values)
    checks = {c.key: c for c in engine(case.fmt).checks}
    for key, text in shown.items():
        assert text == check_text(checks[key], report), key


# --------------------------------------------------------------------------- cached results


#: Workbooks written by the writer itself, with the cached results it computes.
def _written_reports() -> dict[str, Report]:
    out: dict[str, Report] = {}
    for fmt in FORMATS:
        unit = Unit("410102001", "城关镇")
        good = random_report(fmt, unit, fmt.year_from, random.Random(7))
        tag = TAG[fmt.id]
        out[f"w{tag}_blank"] = Report(unit, fmt.year_from, fmt)
        out[f"w{tag}_ok"] = good
        computed = engine(fmt).computed
        first_input = next(k for k in fmt.cells() if k not in computed and k[0] == "t3")
        out[f"w{tag}_shifted"] = broken(good, first_input, 3)
        out[f"w{tag}_negative"] = broken(good, first_input, -(int(good.value(*first_input)) + 5))
        out[f"w{tag}_shifted_annotated"] = broken(good, first_input, 7)
        out[f"w{tag}_summary"] = replace(good, units=12)
        # A partly filled workbook: blanks among numbers.
        half = {k: v for i, (k, v) in enumerate(good.values.items()) if i % 2 == 0}
        out[f"w{tag}_partial"] = Report(unit, fmt.year_from, fmt, half)
    return out


def _extra_sheet(wb: xlsxwriter.Workbook) -> None:
    ws = wb.add_worksheet("明细")
    ws.write_row(0, 0, ["单位", "一、本年新收"])
    ws.write_row(1, 0, ["城关镇", 12])


def _formula_cells(fmt: Format) -> list[tuple[str, int, int]]:
    lay = layout_for(fmt)
    cells = [(p.sheet, p.row, p.col) for key in engine(fmt).computed for p in [lay.pos(*key)]]
    cells += [(p.sheet, p.row, p.col) for p in lay.checks.values()]
    cells.append((lay.failures_cell.sheet, lay.failures_cell.row, lay.failures_cell.col))
    cells.append((lay.summary_cell.sheet, lay.summary_cell.row, lay.summary_cell.col))
    return cells


def _values_at(path: Path, cells: list[tuple[str, int, int]]) -> dict[tuple[str, int, int], object]:
    wb = openpyxl.load_workbook(path, data_only=True)
    return {(s, r, c): wb[s].cell(r + 1, c + 1).value for s, r, c in cells}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Report, Path, Path]]:
    root = tmp_path_factory.mktemp("soffice_cached")
    reports = _written_reports()
    paths = []
    for name, report in reports.items():
        # The annotated copies carry comments and a 问题清单 sheet with links; the summaries
        # an extra sheet: neither may disturb the formulas.
        locate = layout_for(report.format).locate
        issues = check_report(report, locate=locate) if name.endswith("_annotated") else ()
        options = WriteOptions(kind="annotated" if issues else "summary" if name.endswith("_summary") else "template")
        extra = _extra_sheet if name.endswith("_summary") else None
        paths.append(write_workbook(root / f"{name}.xlsx", report, options, issues=issues, extra=extra))
    out = convert(paths, "xlsx", root / "out", recalc=True)
    return {name: (reports[name], p, o) for name, p, o in zip(reports, paths, out, strict=True)}


@pytest.mark.parametrize("name", list(_written_reports()))
def test_cached_results_are_what_libreoffice_computes(written: dict[str, tuple[Report, Path, Path]], name: str) -> None:
    """Every formula cell's stored result (what pandas, calamine and LibreOffice show without
    recalculating) equals LibreOffice's own recalculation of that formula."""
    report, path, recalculated = written[name]
    cells = _formula_cells(report.format)
    cached = _values_at(path, cells)
    computed = _values_at(recalculated, cells)
    assert all(v is not None for v in cached.values())
    for cell in cells:
        a, b = cached[cell], computed[cell]
        if isinstance(a, int | float) and isinstance(b, int | float):
            assert a == pytest.approx(b), cell
        else:
            assert a == b, cell
    lay = layout_for(report.format)
    failures = cached[(lay.failures_cell.sheet, lay.failures_cell.row, lay.failures_cell.col)]
    shown = [cached[(p.sheet, p.row, p.col)] for p in lay.checks.values()]
    assert failures == sum(1 for t in shown if str(t).startswith(excel.FAIL))
    if name.endswith(("_blank", "_ok", "_summary")):
        assert failures == 0
    elif name.endswith(("_shifted", "_negative", "_annotated")):
        assert failures > 0


def test_check_failures_is_a_defined_name(written: dict[str, tuple[Report, Path, Path]]) -> None:
    report, _path, recalculated = written["w2021_shifted"]
    wb = openpyxl.load_workbook(recalculated, data_only=True)
    dn = wb.defined_names["CHECK_FAILURES"]
    (sheet, ref), *_ = list(dn.destinations)
    lay = layout_for(report.format)
    assert sheet == lay.failures_cell.sheet
    assert ref.replace("$", "") == lay.failures_cell.a1
    assert wb[sheet][ref.replace("$", "")].value > 0


def test_annotated_copy_keeps_comments_and_links_through_libreoffice(
    written: dict[str, tuple[Report, Path, Path]],
) -> None:
    report, _path, recalculated = written["w2021_shifted_annotated"]
    wb = openpyxl.load_workbook(recalculated)
    listing = wb[ISSUES_SHEET]
    issues = check_report(report, locate=layout_for(report.format).locate)
    links = [c.hyperlink for row in listing.iter_rows(min_row=3) for c in row if c.hyperlink is not None]
    assert len(links) == len(issues)
    first = issues[0]
    assert links[0].location.replace("'", "") == f"{first.sheet}!{first.cell}"
    commented = wb[first.sheet][first.cell]
    assert commented.comment is not None
    assert first.message in commented.comment.text


def test_formulas_use_no_newer_excel_functions(written: dict[str, tuple[Report, Path, Path]]) -> None:
    """Functions newer than Excel 2007 are written with an ``_xlfn.`` prefix; WPS and old
    Excel show #NAME? for them. None may appear."""
    _report, path, _out = written["w2021_ok"]
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"_xlfn." not in z.read(name), name
