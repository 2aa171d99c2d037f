"""Fuzz: damaged workbooks and documents give a result or one of our errors, nothing else.

The mutations are those of ``scripts/fuzz.py`` (byte flips, truncations, XML and zip-structure
mutations of a real filled workbook; line, number and structure mutations of three real
published reports as .txt, .html and .docx); here a small run of them, in its bounded pool of
worker processes, and a batch that must survive crafted and damaged files.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import tempfile
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.safety_files import changed, part, template_bytes
from xls_gongkai.errors import TemplateMismatchError, UnreadableWorkbookError, WorkbookError

ROOT = Path(__file__).resolve().parents[1]


def fuzz_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz", ROOT / "scripts" / "fuzz.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz"] = module
    spec.loader.exec_module(module)
    return module


def test_a_small_fuzz_run_has_no_failures(capsys: pytest.CaptureFixture[str]) -> None:
    # 300 cases, both worker modes (an ordinary process, and a confined batch worker), every
    # family of mutation; the big run (10,000) is `scripts/fuzz.py --n 10000`.
    fuzz = fuzz_script()
    code = fuzz.main(["--n", "300", "--jobs", "2", "--timeout", "30", "--seed", "20240131"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "没有失败的用例" in out
    assert "result" in out  # some mutations are harmless: the file still reads


def test_every_case_can_be_made_again() -> None:
    fuzz = fuzz_script()
    seeds = {"xlsx": template_bytes()}
    docs = fuzz.document_seeds()
    for number in range(12):
        first = fuzz.make_case(number, 7, seeds, docs)
        assert fuzz.make_case(number, 7, seeds, docs) == first
    assert {fuzz.make_case(n, 7, seeds, docs)[0].family for n in range(12)} == set(fuzz.FAMILIES)


def test_documented_errors_are_workbook_errors() -> None:
    # Both must be what the CLI maps to exit code 2.
    assert issubclass(UnreadableWorkbookError, WorkbookError)
    assert issubclass(TemplateMismatchError, WorkbookError)
    assert UnreadableWorkbookError("x").exit_code == TemplateMismatchError("x").exit_code == 2


# --------------------------------------------------------------------------- a batch survives


def read_many() -> object:
    from xls_gongkai.batch.read import read_many as batch_read_many

    return batch_read_many


def _crafted(path: Path, cells: str) -> Path:
    import re

    sheet = part("xl/worksheets/sheet3.xml")
    sheet = re.sub(rb"<sheetData>.*</sheetData>", f"<sheetData>{cells}</sheetData>".encode(), sheet, flags=re.S)
    sheet = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', sheet)
    return changed(path, {"xl/worksheets/sheet3.xml": sheet})


def test_a_batch_survives_a_crafted_far_cell_in_a_confined_worker(tmp_path: Path) -> None:
    # In a batch the workers are confined and do not scan references: the crafted file makes
    # python-calamine abort its worker (bounded memory: at once, not after filling the
    # machine), that file is reported and the others are read, also with jobs=1.
    from xls_gongkai.issues import Code

    read = read_many()
    crafted = _crafted(
        tmp_path / "crafted.xlsx", '<row r="1"><c r="ZZ1"><v>1</v></c></row><row r="900000"><c><v>2</v></c></row>'
    )
    good = [tmp_path / f"good{i}.xlsx" for i in range(3)]
    for g in good:
        g.write_bytes(template_bytes())
    for jobs in (1, 2):
        results = read([good[0], crafted, *good[1:]], jobs=jobs)  # type: ignore[operator]
        assert [r.source for r in results] == [str(p) for p in (good[0], crafted, *good[1:])]
        assert [i.code for i in results[1].issues] == [Code.FILE_UNREADABLE]
        assert "crafted.xlsx" in results[1].issues[0].message
        assert all(r.report is not None for i, r in enumerate(results) if i != 1)


def test_read_many_never_raises_for_damaged_files(tmp_path: Path) -> None:
    from xls_gongkai.issues import Code

    read = read_many()
    fuzz = fuzz_script()
    rnd = random.Random(5)
    paths = []
    for i in range(6):
        p = tmp_path / f"f{i}.xlsx"
        p.write_bytes(fuzz.mutate_bytes(template_bytes(), rnd))
        paths.append(p)
    good = tmp_path / "good.xlsx"
    good.write_bytes(template_bytes())
    results = read([*paths, good], jobs=1)  # type: ignore[operator]
    assert [r.source for r in results] == [str(p) for p in (*paths, good)]
    assert results[-1].report is not None
    for r in results:
        if r.report is None:
            assert [i.code for i in r.issues] == [Code.FILE_UNREADABLE]


# --------------------------------------------------------------------------- edited structure


def outcome(path: Path) -> str:
    """Read ``path`` with the reader; what happened, failing on anything undocumented."""
    from xls_gongkai.reading.reader import read_workbook

    try:
        result = read_workbook(path)
    except (UnreadableWorkbookError, TemplateMismatchError) as exc:
        message = str(exc)
        assert path.name in message
        assert "\n" not in message
        return type(exc).__name__
    assert result.report is not None
    return "result"


@cache
def grids_of_template(format_id: str) -> dict[str, list[list[object]]]:
    from python_calamine import CalamineWorkbook

    from xls_gongkai.report import Unit
    from xls_gongkai.sample import random_report
    from xls_gongkai.spec import get_format
    from xls_gongkai.workbook import writer

    fmt = get_format(format_id)
    report = random_report(fmt, Unit("001", "城关镇"), fmt.year_from + 1, random.Random(3), {"s1": "总体情况"})
    with tempfile.TemporaryDirectory() as tmp:
        path = writer.write_workbook(Path(tmp) / "t.xlsx", report)
        wb = CalamineWorkbook.from_path(str(path))
        return {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in wb.sheet_names}


JUNK = (
    "abc",
    "１２",
    "3.5",
    "-4",
    "22（其中修订16件）",
    "251000元",
    "总计",
    "（七）总计",
    "3.其他",
    "规章",
    "第二十条第（一）项",
    "三、本年度办理结果",
    1e300,
    True,
)


edit = st.tuples(
    st.sampled_from(["insert row", "delete row", "insert column", "delete column", "swap rows", "set"]),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.sampled_from(JUNK),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    format_id=st.sampled_from(["gongkai-2019", "gongkai-2021"]),
    drop_meta=st.booleans(),
    edits=st.lists(edit, min_size=1, max_size=6),
)
def test_edited_structure_gives_a_result_or_a_documented_error(
    tmp_path_factory: pytest.TempPathFactory,
    format_id: str,
    drop_meta: bool,
    edits: list[tuple[str, int, int, object]],
) -> None:
    """Rows and columns inserted, deleted, swapped and junk typed anywhere: the label paths cope."""
    import xlsxwriter

    grids = {n: [list(r) for r in g] for n, g in grids_of_template(format_id).items()}
    if drop_meta:
        grids.pop("_meta", None)
    sheets = sorted(n for n in grids if n != "_meta")
    for op, a, b, junk in edits:
        grid = grids[sheets[a % len(sheets)]]
        if not grid:
            continue
        r = b % len(grid)
        col = a % 12
        if op == "insert row":
            grid.insert(r, [])
        elif op == "delete row":
            del grid[r]
        elif op == "insert column":
            for row in grid:
                row.insert(min(col, len(row)), None)
        elif op == "delete column":
            for row in grid:
                if col < len(row):
                    del row[col]
        elif op == "swap rows":
            r2 = a % len(grid)
            grid[r], grid[r2] = grid[r2], grid[r]
        else:
            row = grid[r]
            row.extend([None] * (col + 1 - len(row)))
            row[col] = junk
    path = tmp_path_factory.mktemp("edited") / "edited.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    for name, grid in grids.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                if v is not None and v != "":
                    ws.write(r, c, v)
        if name == "_meta":
            ws.very_hidden()
    wb.close()
    outcome(path)
