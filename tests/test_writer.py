"""The generated workbook, inspected with openpyxl and calamine (independent of xlsxwriter).

For each format the sample roster gives one workbook per unit, and for each workbook: every
input cell is unlocked and carries the validation of its kind, every other cell is locked, every
sheet and the structure are protected, the metadata sheet is very hidden and complete; totals
and checks are formulas whose cached results are what the Python engine computes.
"""

from __future__ import annotations

import random
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from tests.conftest import consistent_reports
from tests.lo import convert, requires_soffice
from xls_gongkai import __version__
from xls_gongkai.batch.roster import load_roster
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import check_report, engine
from xls_gongkai.sample import balanced, broken, random_report
from xls_gongkai.spec import CellKind, Format, RuleKind, get_format, load_format
from xls_gongkai.workbook import formulas as excel
from xls_gongkai.workbook.layout import GUIDE_SHEET, META_SHEET, TEXT_SHEET, Layout, a1, layout_for
from xls_gongkai.workbook.writer import (
    ISSUES_SHEET,
    META_KEYS,
    WriteOptions,
    generate_templates,
    write_workbook,
)

ROOT = Path(__file__).resolve().parents[1]
ROSTER = ROOT / "samples" / "roster.csv"
#: The two built-in formats and a local variant (an extra row in 表二, an extra column in 表三).
VARIANT = load_format(ROOT / "tests" / "data" / "local-variant.yaml")
FORMATS = [get_format(2019), get_format(2021), VARIANT]
YEAR = {"gongkai-2019": 2020, "gongkai-2021": 2024, "local-2021": 2024}
STAMP = "2025-01-05T09:00:00+00:00"

#: openpyxl's view of a validation per kind: (type, operator, formula1, formula2)
EXPECTED_VALIDATION = {
    # between 0 and VALUE_LIMIT: a figure beyond it cannot be right (and R5 says so)
    CellKind.COUNT: ("whole", "between", "0", None),
    CellKind.SIGNED: ("whole", "between", None, None),  # bounds checked separately
    CellKind.AMOUNT: ("decimal", "between", "0", None),
    CellKind.TEXT: ("textLength", "lessThanOrEqual", None, None),
}


def _ids(fmt: Format) -> str:
    return fmt.id


@pytest.fixture(scope="module")
def roster_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    roster = load_roster(ROSTER)
    out: dict[str, list[Path]] = {}
    for fmt in FORMATS:
        d = tmp_path_factory.mktemp(fmt.id)
        out[fmt.id] = generate_templates(
            roster.units,
            YEAR[fmt.id],
            d,
            fmt=fmt,
            options=WriteOptions(
                deadline="2025年2月20日", contact="县政务公开办 张三 0371-12345678", generated_at=STAMP
            ),
        )
    return out


@cache
def _inputs(fmt: Format) -> dict[tuple[str, int, int], CellKind]:
    """Every input cell of the layout (sheet, row, col) → kind; text sections included."""
    lay = layout_for(fmt)
    computed = engine(fmt).computed
    cells: dict[tuple[str, int, int], CellKind] = {}
    for t in fmt.tables:
        for r, c in t.cells():
            if (t.id, r, c) in computed:
                continue
            p = lay.pos(t.id, r, c)
            cells[(p.sheet, p.row, p.col)] = t.cell_kind(r, c)
    for tl in lay.texts.values():
        for c in tl.cells:  # a long section has several cells, every one of them open
            cells[(TEXT_SHEET, c.row, c.col)] = CellKind.TEXT
    for row in lay.explains:  # the 说明 of each warning rule
        cells[(row.cell.sheet, row.cell.row, row.cell.col)] = CellKind.TEXT
    return cells


def _validations(ws: Worksheet) -> dict[tuple[int, int], Any]:
    out: dict[tuple[int, int], Any] = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in range(rng.min_row, rng.max_row + 1):
                for col in range(rng.min_col, rng.max_col + 1):
                    assert (row - 1, col - 1) not in out, f"two validations on {ws.title}!{rng}"
                    out[(row - 1, col - 1)] = dv
    return out


def _meta(wb: openpyxl.Workbook) -> dict[str, str]:
    ws = wb[META_SHEET]
    assert ws.cell(1, 1).value == "xls_gongkai_meta"
    assert str(ws.cell(1, 2).value) == "1"
    keys = [ws.cell(r, 1).value for r in range(2, 2 + len(META_KEYS))]
    assert tuple(keys) == META_KEYS
    return {k: ws.cell(i + 2, 2).value for i, k in enumerate(META_KEYS)}


@pytest.mark.parametrize("fmt", FORMATS, ids=_ids)
def test_one_workbook_per_roster_unit_with_metadata(roster_templates: dict[str, list[Path]], fmt: Format) -> None:
    units = load_roster(ROSTER).units
    paths = roster_templates[fmt.id]
    year = YEAR[fmt.id]
    assert [p.name for p in paths] == [f"{u.code}_{u.name}_{year}.xlsx" for u in units]
    lay = layout_for(fmt)
    for unit, path in zip(units, paths, strict=True):
        wb = openpyxl.load_workbook(path)
        meta = _meta(wb)
        assert wb[META_SHEET].sheet_state == "veryHidden"
        assert meta == {
            "format": fmt.id,
            "spec_version": "1",
            "fingerprint": lay.fingerprint,
            "unit_code": unit.code,
            "unit_name": unit.name,
            "unit_parent": unit.parent,
            "year": str(year),
            "tool_version": __version__,
            "generated_at": STAMP,
            "kind": "template",
            "units": "1",
            "deadline": "2025年2月20日",
            "contact": "县政务公开办 张三 0371-12345678",
        }
        # every value is text (a code like 0012 must not turn into a number)
        assert all(isinstance(v, str) for v in meta.values())
        visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
        assert visible == list(lay.sheets)
        guide = wb[GUIDE_SHEET]
        for key, want in (("name", unit.name), ("code", unit.code)):
            p = lay.guide_unit_cells[key]
            assert guide.cell(p.row + 1, p.col + 1).value == want
        p = lay.guide_unit_cells["year"]
        assert str(guide.cell(p.row + 1, p.col + 1).value) == str(year)
        # the unit's own strings everywhere they are printed, and no other unit's
        others = {u.name for u in units} - {unit.name}
        for sheet in lay.sheets:
            ws = wb[sheet]
            footer = "".join(part.text or "" for part in (ws.oddFooter.left, ws.oddFooter.center, ws.oddFooter.right))
            assert unit.name in footer, sheet
            texts = [str(c.value) for row in ws.iter_rows(max_row=3) for c in row if c.value is not None]
            if sheet in lay.data_sheets:
                assert any(unit.name in t and unit.code in t for t in texts), sheet
            assert not any(o in t for t in texts for o in others if o not in unit.name), sheet


@pytest.mark.parametrize("fmt", FORMATS, ids=_ids)
def test_locks_validations_and_protection(roster_templates: dict[str, list[Path]], fmt: Format) -> None:
    path = roster_templates[fmt.id][0]
    wb = openpyxl.load_workbook(path)
    assert wb.security is not None
    assert wb.security.lockStructure
    inputs = _inputs(fmt)
    seen_inputs = 0
    for ws in wb.worksheets:
        assert ws.protection.sheet, f"{ws.title} is not protected"
        if ws.title != META_SHEET:
            # only unlocked cells can be selected
            assert ws.protection.selectLockedCells, ws.title
            assert not ws.protection.selectUnlockedCells, ws.title
        validations = _validations(ws)
        max_row = max(ws.max_row, 1 + max((r for s, r, _c in inputs if s == ws.title), default=0))
        for row in ws.iter_rows(min_row=1, max_row=max_row + 3, max_col=ws.max_column + 3):
            for cell in row:
                where = (ws.title, cell.row - 1, cell.column - 1)
                kind = inputs.get(where)
                if kind is None:
                    assert cell.protection.locked, f"{ws.title}!{cell.coordinate} should be locked"
                    assert (cell.row - 1, cell.column - 1) not in validations, f"{ws.title}!{cell.coordinate}"
                    continue
                seen_inputs += 1
                assert not cell.protection.locked, f"{ws.title}!{cell.coordinate} should be unlocked"
                assert cell.value is None, "a blank template leaves input cells blank (not 0)"
                fill = cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type else "FFFFFFFF"
                assert str(fill).upper().endswith("FFFFFF"), f"{ws.title}!{cell.coordinate} is not white"
                dv = validations.get((cell.row - 1, cell.column - 1))
                assert dv is not None, f"{ws.title}!{cell.coordinate} has no validation"
                vtype, op, f1, _f2 = EXPECTED_VALIDATION[kind]
                assert (dv.type, dv.operator or "between") == (vtype, op), f"{ws.title}!{cell.coordinate}"
                if f1 is not None:
                    assert dv.formula1 == f1
                if kind is CellKind.SIGNED:
                    assert int(dv.formula1) < 0 < int(dv.formula2)
                assert dv.errorStyle in (None, "stop")
                assert dv.showErrorMessage
                assert dv.showInputMessage
                assert dv.promptTitle
                assert dv.prompt
                assert dv.errorTitle
                assert dv.error
                assert any("\u4e00" <= ch <= "\u9fff" for ch in dv.prompt)  # a Chinese instruction
    assert seen_inputs == len(inputs)


@pytest.mark.parametrize("fmt", FORMATS, ids=_ids)
def test_validation_texts_within_excel_limits(roster_templates: dict[str, list[Path]], fmt: Format) -> None:
    wb = openpyxl.load_workbook(roster_templates[fmt.id][0])
    n = 0
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            n += 1
            assert len(dv.promptTitle) <= 32
            assert len(dv.errorTitle) <= 32
            assert len(dv.prompt) <= 255
            assert len(dv.error) <= 225
    assert n > 0


def test_text_sections_and_fee_prompt() -> None:
    fmt = get_format(2024)
    lay = layout_for(fmt)
    assert "s6" in lay.texts
    assert lay.texts["s6"].section.prompt


@pytest.mark.parametrize("fmt", FORMATS, ids=_ids)
def test_labels_totals_checks_and_names(tmp_path: Path, fmt: Format) -> None:
    lay = layout_for(fmt)
    path = write_workbook(tmp_path / "t.xlsx", Report(Unit("410102001", "城关镇"), YEAR[fmt.id], fmt))
    wb = openpyxl.load_workbook(path)
    # every label of the layout is where the layout says, merged when it spans cells
    for tl in lay.tables.values():
        ws = wb[tl.sheet]
        merged = {str(m) for m in ws.merged_cells.ranges}
        for lb in tl.labels:
            # a long group label breaks after its item number ("三、\n本年度办理结果"), read without it
            shown = ws.cell(lb.first_row + 1, lb.first_col + 1).value or ""
            assert shown.replace("\n", "") == lb.text
            if "\n" in shown:
                assert shown.split("\n")[0] in ("三、", "（三）", "（四）", "（五）", "（六）")
            if (lb.first_row, lb.first_col) != (lb.last_row, lb.last_col):
                ref = f"{a1(lb.first_row, lb.first_col)}:{a1(lb.last_row, lb.last_col)}"
                assert ref in merged
    # totals and checks are formulas
    for key, check in engine(fmt).computed.items():
        p = lay.pos(*key)
        cell = wb[p.sheet].cell(p.row + 1, p.col + 1)
        assert cell.value == excel.total_formula(check, lay)
    for check in engine(fmt).checks:
        if not check.in_sheet:
            continue
        p = lay.checks[check.key]
        value = wb[p.sheet].cell(p.row + 1, p.col + 1).value
        text = value.text if hasattr(value, "text") else value  # R5 is an array formula
        assert "=" + str(text).lstrip("=") == excel.check_formula(check, lay)
    # the defined name and the summary
    dn = wb.defined_names["CHECK_FAILURES"]
    assert dn.attr_text == lay.failures_cell.ref()
    fc = lay.failures_cell
    assert wb[fc.sheet].cell(fc.row + 1, fc.col + 1).value == excel.failures_formula(lay, fc.sheet)
    sc = lay.summary_cell
    assert wb[sc.sheet].cell(sc.row + 1, sc.col + 1).value == excel.summary_formula(lay)


def _cached(path: Path) -> dict[str, list[list[Any]]]:
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}


def _at(grid: dict[str, list[list[Any]]], sheet: str, row: int, col: int) -> Any:
    rows = grid[sheet]
    if row >= len(rows) or col >= len(rows[row]):
        return ""
    return rows[row][col]


def _assert_cached_results(path: Path, report: Report, lay: Layout) -> None:
    """Every total, check cell, CHECK_FAILURES and the summary line hold what the engine computes."""
    eng = engine(report.format)
    grid = _cached(path)
    full = eng.with_totals(report.values)
    for key, value in full.items():
        p = lay.pos(*key)
        assert float(_at(grid, p.sheet, p.row, p.col)) == pytest.approx(float(value)), key
    for check in eng.checks:
        if check.in_sheet:
            p = lay.checks[check.key]
            assert _at(grid, p.sheet, p.row, p.col) == excel.check_display(eng.evaluate(check, full)), check.key
    fc = lay.failures_cell
    assert int(_at(grid, fc.sheet, fc.row, fc.col)) == eng.failing(report.values)
    failing: dict[str, int] = {}
    for o in eng.outcomes(full):
        if o.check.in_sheet and not o.passed:
            sheet = lay.checks[o.check.key].sheet
            failing[sheet] = failing.get(sheet, 0) + 1
    sc = lay.summary_cell
    line = _at(grid, sc.sheet, sc.row, sc.col)
    assert line == excel.summary_display(lay, failing)
    # the line names every sheet with a failing check, and the count
    assert all(f"{sheet} {n} 项" in line for sheet, n in failing.items())
    assert line.startswith(f"{eng.failing(report.values)} 项校验未通过") if failing else "全部通过" in line


@pytest.mark.parametrize("fmt", FORMATS, ids=_ids)
def test_cached_results_blank_consistent_and_broken(tmp_path: Path, fmt: Format) -> None:
    lay = layout_for(fmt)
    eng = engine(fmt)
    year = YEAR[fmt.id]
    blank = Report(Unit("1", "城关镇"), year, fmt)
    _assert_cached_results(write_workbook(tmp_path / "blank.xlsx", blank), blank, lay)
    good = random_report(fmt, Unit("1", "城关镇"), year, random.Random(7), {"s1": "总体情况……"})
    _assert_cached_results(write_workbook(tmp_path / "good.xlsx", good), good, lay)
    assert eng.failing(good.values) == 0
    # break R1 in the first column and R5 with a negative count
    t3 = fmt.table("t3")
    bad = broken(good, ("t3", t3.leaf_rows[0].id, t3.leaf_columns[0].id), 3)
    bad = broken(bad, ("t4", fmt.table("t4").leaf_rows[0].id, fmt.table("t4").leaf_columns[0].id), -100)
    assert eng.failing(bad.values) >= 2
    _assert_cached_results(write_workbook(tmp_path / "bad.xlsx", bad), bad, lay)


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_filled_values_round_trip_through_cells(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    fmt = data.draw(st.sampled_from(FORMATS))
    report = data.draw(consistent_reports(fmt))
    path = write_workbook(tmp_path_factory.mktemp("rt") / "r.xlsx", report)
    lay = layout_for(fmt)
    grid = _cached(path)
    for key, value in report.values.items():
        p = lay.pos(*key)
        assert float(_at(grid, p.sheet, p.row, p.col)) == pytest.approx(float(value))
    for sid, text in report.texts.items():
        p = lay.texts[sid].cell
        assert _at(grid, p.sheet, p.row, p.col) == text
    assert int(_at(grid, lay.failures_cell.sheet, lay.failures_cell.row, lay.failures_cell.col)) == 0


@pytest.mark.parametrize("fmt", FORMATS, ids=_ids)
def test_conditional_formats_on_check_cells(tmp_path: Path, fmt: Format) -> None:
    lay = layout_for(fmt)
    path = write_workbook(tmp_path / "t.xlsx", Report(Unit("1", "城关镇"), YEAR[fmt.id], fmt))
    wb = openpyxl.load_workbook(path)
    for sheet in lay.data_sheets:
        ws = wb[sheet]
        covered: set[tuple[int, int]] = set()
        formulas: list[str] = []
        for cf in ws.conditional_formatting:
            for rule in cf.rules:
                formulas.extend(rule.formula or [])
            for rng in cf.sqref.ranges:
                for row in range(rng.min_row, rng.max_row + 1):
                    for col in range(rng.min_col, rng.max_col + 1):
                        covered.add((row - 1, col - 1))
        checks = [p for p in lay.checks.values() if p.sheet == sheet]
        assert checks
        for p in checks:
            assert (p.row, p.col) in covered, f"{sheet}!{p.a1} has no red/green format"
        assert any(excel.FAIL in f for f in formulas)
        assert any(excel.PASS in f for f in formulas)


@pytest.mark.parametrize("fmt", FORMATS, ids=_ids)
def test_print_setup_and_panes(tmp_path: Path, fmt: Format) -> None:
    lay = layout_for(fmt)
    path = write_workbook(tmp_path / "t.xlsx", Report(Unit("1", "城关镇&东城"), YEAR[fmt.id], fmt))
    wb = openpyxl.load_workbook(path)
    for sheet in lay.sheets:
        ws = wb[sheet]
        if sheet in lay.data_sheets:
            assert ws.page_setup.orientation == "landscape", sheet
        assert str(ws.page_setup.paperSize) == "9", sheet  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, sheet
        assert ws.page_setup.fitToWidth in (1, None), sheet
        footer = ws.oddFooter.left.text or ""
        assert "城关镇" in footer, sheet
        assert "&P" in (ws.oddFooter.center.text or "") + (ws.oddFooter.right.text or "") + footer
    for sheet in lay.data_sheets:
        ws = wb[sheet]
        assert ws.freeze_panes is not None, sheet
        assert ws.print_title_rows, sheet


@pytest.mark.parametrize("fmt", FORMATS, ids=_ids)
def test_annotated_copy_highlights_comments_and_lists_issues(tmp_path: Path, fmt: Format) -> None:
    good = random_report(fmt, Unit("410102001", "城关镇"), YEAR[fmt.id], random.Random(3))
    t3 = fmt.table("t3")
    bad = broken(good, ("t3", t3.leaf_rows[0].id, t3.leaf_columns[0].id), 5)
    issues = check_report(bad, locate=layout_for(fmt).locate)
    assert issues
    path = write_workbook(tmp_path / "a.xlsx", bad, WriteOptions(kind="annotated"), issues=issues)
    wb = openpyxl.load_workbook(path)
    assert ISSUES_SHEET in wb.sheetnames
    listing = wb[ISSUES_SHEET]
    links = [c.hyperlink for row in listing.iter_rows() for c in row if c.hyperlink is not None]
    assert len(links) == len(issues)
    for issue, link in zip(issues, links, strict=True):
        assert issue.cell in (link.location or "")
        assert issue.sheet in (link.location or "")
        ws = wb[issue.sheet]
        cell = ws[issue.cell]
        assert cell.comment is not None
        assert issue.message in cell.comment.text
    assert _meta(wb)["kind"] == "annotated"


def test_extra_hook_adds_a_sheet_and_meta_stays(tmp_path: Path) -> None:
    fmt = get_format(2024)

    def extra(workbook: Any) -> None:
        ws = workbook.add_worksheet("明细")
        ws.write_string(0, 0, "附加")

    path = write_workbook(
        tmp_path / "s.xlsx",
        Report(Unit("4101", "河洛县"), 2024, fmt, units=12),
        WriteOptions(kind="summary"),
        extra=extra,
    )
    wb = openpyxl.load_workbook(path)
    assert wb["明细"]["A1"].value == "附加"
    meta = _meta(wb)
    assert (meta["kind"], meta["units"]) == ("summary", "12")


def test_password_protects_sheets_and_structure(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "p.xlsx", Report(Unit("1", "城关镇"), 2024, get_format(2024)), WriteOptions(password="secret")
    )
    wb = openpyxl.load_workbook(path)
    assert wb.security.lockStructure
    assert wb.security.workbookPassword
    assert all(ws.protection.password for ws in wb.worksheets)
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/workbook.xml").decode()
    # the schema order: workbookPr, then workbookProtection, then bookViews (Excel refuses other orders)
    assert xml.index("<workbookPr") < xml.index("<workbookProtection") < xml.index("<bookViews")


def test_every_rule_kind_has_a_check_cell() -> None:
    for fmt in FORMATS:
        lay = layout_for(fmt)
        kinds = {c.rule.kind for c in engine(fmt).checks if c.key in lay.checks}
        assert kinds == {RuleKind.EQUATION, RuleKind.CELLS}


@pytest.mark.parametrize("kind", list(CellKind))
def test_long_section_prompt_is_cut_to_excel_limit(kind: CellKind) -> None:
    from xls_gongkai.workbook.writer import validation_options

    opts = validation_options(kind, prompt="请说明" * 200)
    assert len(opts["input_message"]) <= 255
    assert len(opts["input_title"]) <= 32
    assert len(opts["error_title"]) <= 32
    assert len(opts["error_message"]) <= 225


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        (Unit("410102001", "城关镇"), "410102001_城关镇_2024.xlsx"),
        (Unit("", "县教育局"), "县教育局_2024.xlsx"),
    ],
)
def test_template_file_names(unit: Unit, expected: str) -> None:
    from xls_gongkai.workbook.writer import template_filename

    assert template_filename(unit, 2024) == expected


def test_file_name_has_no_characters_windows_forbids() -> None:
    from xls_gongkai.workbook.writer import template_filename

    name = template_filename(Unit("41/01", '城关镇:东"城*街道?<>|\\'), 2024)
    assert not set('/\\:*?"<>|') & set(name)
    assert name.endswith("_2024.xlsx")


@pytest.mark.soffice
@requires_soffice
def test_libreoffice_keeps_locks_validations_and_checks(tmp_path: Path) -> None:
    """LibreOffice reads what the template relies on: it re-saves the same locks, validations,
    sheet protection, conditional formats and the CHECK_FAILURES name.

    (LibreOffice 7.4 does not carry the workbook *structure* protection through its own re-save,
    and writes the very hidden _meta sheet back as merely hidden; neither is asserted here.)
    """
    src = tmp_path / "in"
    paths = [
        write_workbook(src / f"t-{fmt.id}.xlsx", Report(Unit("1", "城关镇"), YEAR[fmt.id], fmt)) for fmt in FORMATS
    ]
    converted = convert(paths, "xlsx", tmp_path / "out")
    for fmt, before, after in zip(FORMATS, paths, converted, strict=True):
        inputs = _inputs(fmt)
        ours, theirs = openpyxl.load_workbook(before), openpyxl.load_workbook(after)
        assert theirs.sheetnames == ours.sheetnames
        assert "CHECK_FAILURES" in theirs.defined_names
        for name in layout_for(fmt).sheets:
            ws = theirs[name]
            assert ws.protection.sheet, name
            validations = _validations(ws)
            for (sheet, r, c), _kind in inputs.items():
                if sheet != name:
                    continue
                assert not ws.cell(r + 1, c + 1).protection.locked, f"{name}!{a1(r, c)}"
                assert (r, c) in validations, f"{name}!{a1(r, c)}"
            n_cf = sum(len(cf.rules) for cf in ws.conditional_formatting)
            assert n_cf == sum(len(cf.rules) for cf in ours[name].conditional_formatting), name
        for p in layout_for(fmt).checks.values():
            assert theirs[p.sheet].cell(p.row + 1, p.col + 1).protection.locked


def test_local_variant_has_its_extra_row_and_column(tmp_path: Path) -> None:
    """A county's variant (tests/data/local-variant.yaml): its extra row under 第二十条第（一）项 and
    its extra column in 表三 get labels, unlocked validated input cells, and totals and checks
    that include them — with cached results the engine computes — and the built-in 2021
    format, whose definition it was copied from, is not touched by it."""
    fmt = VARIANT
    lay = layout_for(fmt)
    base = random_report(fmt, Unit("410102001", "城关镇"), 2024, random.Random(11))
    values = dict(base.values)
    values[("t2_1", "other_docs", "issued")] = 4
    values[("t3", "new", "individual")] = 7
    report = Report(base.unit, 2024, fmt, balanced(fmt, values))
    path = write_workbook(tmp_path / "v.xlsx", report)
    wb = openpyxl.load_workbook(path)
    grid = _cached(path)
    t21, t3 = lay.tables["t2_1"], lay.tables["t3"]
    assert wb[t21.sheet].cell(t21.rows["other_docs"] + 1, 1).value == "其他主动公开文件"
    header = next(lb for lb in t3.labels if lb.node == "individual")
    assert wb[t3.sheet].cell(header.first_row + 1, header.first_col + 1).value == "个体工商户"
    legal = next(lb for lb in t3.labels if lb.node == "legal")
    assert legal.first_col <= t3.cols["individual"] <= legal.last_col  # under 法人或其他组织
    for key in (("t2_1", "other_docs", "issued"), ("t3", "new", "individual")):
        p = lay.pos(*key)
        cell = wb[p.sheet].cell(p.row + 1, p.col + 1)
        assert not cell.protection.locked
        assert (p.row, p.col) in _validations(wb[p.sheet])
        assert _at(grid, p.sheet, p.row, p.col) == report.values[key] > 0
    # 总计 of 一、本年新收 adds up the new column, in the formula and in its cached result
    total = lay.pos("t3", "new", "total")
    formula = wb[total.sheet].cell(total.row + 1, total.col + 1).value
    assert formula == excel.total_formula(engine(fmt).computed[("t3", "new", "total")], lay)
    leaves = [c.id for c in fmt.table("t3").leaf_columns if c.id != "total"]
    assert _at(grid, total.sheet, total.row, total.col) == sum(report.values[("t3", "new", c)] for c in leaves)
    _assert_cached_results(path, report, lay)
    assert _meta(wb)["format"] == "local-2021"
    builtin = get_format(2024)
    assert not builtin.has(("t3", "new", "individual"))
    assert layout_for(builtin).fingerprint != lay.fingerprint
    assert layout_for(builtin).pos("t3", "new", "total") != total


def test_text_sheet_and_guide_name_the_format_s_own_sections(tmp_path: Path) -> None:
    """The 文字说明 title and the guide's words come from the format's sections, not literals."""
    fmt = get_format(2024)
    path = write_workbook(tmp_path / "t.xlsx", Report(Unit("1", "城关镇"), 2024, fmt))
    wb = openpyxl.load_workbook(path)
    numbers = "、".join(s.label.split("、")[0] for s in fmt.text_sections)
    assert wb[TEXT_SHEET]["A1"].value == f"{TEXT_SHEET}（年度报告正文第{numbers}部分）"
    guide = "\n".join(str(c.value) for row in wb[GUIDE_SHEET].iter_rows() for c in row if c.value is not None)
    assert f"正文第{numbers}部分" in guide
    tables = "、".join(s.label.split("、")[0] for s in fmt.sections if s.kind == "tables")
    assert f"正文第{tables}部分" in guide
    for rule in fmt.rules:
        assert f"{rule.id}　{rule.title}" in guide
    signed = [c.label for t in get_format(2020).tables for c in t.leaf_columns if c.kind is CellKind.SIGNED]
    old = write_workbook(tmp_path / "o.xlsx", Report(Unit("1", "城关镇"), 2020, get_format(2020)))
    old_guide = "\n".join(
        str(c.value) for row in openpyxl.load_workbook(old)[GUIDE_SHEET].iter_rows() for c in row if c.value
    )
    assert signed
    assert all(f"“{label}”" in old_guide for label in signed)
    assert not any(f"“{label}”" in guide for label in signed)  # 2021 has no signed column


def test_provisional_summary_says_so_in_red(tmp_path: Path) -> None:
    fmt = get_format(2024)
    note = "临时汇总：含尚未审核通过的单位，仅供参考"
    path = write_workbook(
        tmp_path / "s.xlsx",
        Report(Unit("4101", "河洛县"), 2024, fmt, units=3),
        WriteOptions(kind="summary", provisional=note),
    )
    wb = openpyxl.load_workbook(path)
    guide = wb[GUIDE_SHEET]
    assert note in str(guide["A2"].value)
    assert str(guide["A2"].font.color.rgb).endswith("C00000")
    for sheet in layout_for(fmt).data_sheets:
        assert note in str(wb[sheet]["A2"].value)
