"""Benchmark: generating unit templates, against a bare xlsxwriter workbook with the same cells.

Ways of writing N workbooks (default 1,000), run side by side in one invocation, in one
process each, in alternating blocks so that a busy shared machine slows all alike:

* **xls-gongkai** — ``write_workbook`` for a blank template: merged, shaded, locked labels;
  validated input cells; totals, checks and CHECK_FAILURES as formulas with cached results;
  conditional formats; protection; print setup; the hidden ``_meta`` sheet. (Blank templates
  come from a per-format skeleton that xlsxwriter wrote once, with the unit's strings put in.)
* **xls-gongkai (xlsxwriter per unit)** — the same workbook written by xlsxwriter for every
  unit (the skeleton switched off; blank templates only), i.e. the path filled workbooks take;
* **bare xlsxwriter** (the floor) — a workbook holding the same non-empty cells (every label,
  the cached result of every formula as a plain value, the guide text, the metadata) on the same
  sheets, with no formatting, merges, validation, conditional formats or formulas.

The floor's cells are taken from one generated template (read back with calamine), so both
sides write the same content. Printed: seconds, templates per second, size, cell records per
file, and the ratio to the floor (the issue's target: within 2×), also per cell record (the
template must write a styled record for every blank input cell and every cell of a merged label,
which the floor does not). Best of ``--repeat`` runs. ``--filled`` writes filled workbooks
(random consistent data) against a floor holding the same values.

Run::

    .venv/bin/python bench/bench_generate.py --n 1000
    .venv/bin/python bench/bench_generate.py --n 200 --year 2020
    .venv/bin/python bench/bench_generate.py --n 1000 --filled   # filled workbooks vs the same values
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import xlsxwriter
from python_calamine import CalamineWorkbook

from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import evaluate, expand
from xls_gongkai.sample import random_report, with_totals
from xls_gongkai.spec import format_for_year
from xls_gongkai.workbook import writer
from xls_gongkai.workbook.formulas import check_display
from xls_gongkai.workbook.layout import layout_for
from xls_gongkai.workbook.writer import WriteOptions, write_workbook

BLOCK = 50
OURS = "xls-gongkai"
DIRECT = "xls-gongkai (xlsxwriter per unit)"
FLOOR = "bare xlsxwriter"


def floor_cells(template: Path) -> list[tuple[str, list[tuple[int, int, Any]]]]:
    """Every non-empty cell of ``template`` by sheet (hidden sheets too), as plain values."""
    wb = CalamineWorkbook.from_path(str(template))
    out: list[tuple[str, list[tuple[int, int, Any]]]] = []
    for name in wb.sheet_names:
        grid = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        cells = [(r, c, v) for r, row in enumerate(grid) for c, v in enumerate(row) if v not in ("", None)]
        out.append((name, cells))
    return out


def write_floor(path: Path, sheets: list[tuple[str, list[tuple[int, int, Any]]]], unit: Unit) -> None:
    # The same xlsxwriter options as the writer (in_memory: no temporary file per part).
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    for name, cells in sheets:
        ws = wb.add_worksheet(name)
        for r, c, v in cells:
            if isinstance(v, str):
                ws.write_string(r, c, v)
            else:
                ws.write_number(r, c, v)
        ws.write_string(0, 0, unit.name)  # differs per unit, as the real unit line does
    wb.close()


def cell_records(path: Path) -> int:
    """How many ``<c>`` cell records the workbook's sheets hold (styled blanks included)."""
    with zipfile.ZipFile(path) as z:
        return sum(
            len(re.findall(rb"<c ", z.read(name))) for name in z.namelist() if name.startswith("xl/worksheets/sheet")
        )


def filled_cells(
    blank: list[tuple[str, list[tuple[int, int, Any]]]], report: Report
) -> list[tuple[str, list[tuple[int, int, Any]]]]:
    """The blank template's cells with this report's values and check results in place."""
    fmt = report.format
    lay = layout_for(fmt)
    full = Report(report.unit, report.year, report.format_id, with_totals(fmt, report.values))
    extra: dict[str, dict[tuple[int, int], Any]] = {}
    for key, v in full.values.items():
        p = lay.pos(*key)
        extra.setdefault(p.sheet, {})[(p.row, p.col)] = float(v)
    for check in expand(fmt):
        if check.in_sheet:
            p = lay.checks[check.key]
            extra.setdefault(p.sheet, {})[(p.row, p.col)] = check_display(evaluate(check, full))
    out = []
    for sheet, cells in blank:
        mine = extra.get(sheet, {})
        kept = [(r, c, v) for r, c, v in cells if (r, c) not in mine]
        out.append((sheet, kept + [(r, c, v) for (r, c), v in mine.items()]))
    return out


def run(n: int, year: int, repeat: int, filled: bool = False) -> None:
    fmt = format_for_year(year)
    units = [Unit(f"4101{i:05d}", f"第{i}镇", "河洛县") for i in range(n)]
    options = WriteOptions(deadline="2025年2月20日", contact="县政务公开办 0371-12345678")
    if filled:
        reports = [random_report(fmt, u, year, random.Random(i)) for i, u in enumerate(units)]
    else:
        reports = [Report(u, year, fmt.id) for u in units]
    work = Path(tempfile.mkdtemp(prefix="bench_generate_"))
    try:
        sample = write_workbook(work / "sample.xlsx", Report(units[0], year, fmt.id), options)
        blank_cells = floor_cells(sample)
        # Prepared before timing: the floor only writes, like the writer after its per-format cache.
        cells = [filled_cells(blank_cells, r) for r in reports] if filled else [blank_cells] * n

        def ours(i: int, folder: Path) -> None:
            write_workbook(folder / f"{i}.xlsx", reports[i], options)

        def ours_direct(i: int, folder: Path) -> None:
            # The writer serves blank templates from a per-format skeleton (the unit's strings
            # replaced in a package xlsxwriter wrote once); this side forces xlsxwriter per unit.
            saved = writer._fast_ok
            writer._fast_ok = lambda _personal: False
            try:
                write_workbook(folder / f"{i}.xlsx", reports[i], options)
            finally:
                writer._fast_ok = saved

        def floor(i: int, folder: Path) -> None:
            write_floor(folder / f"{i}.xlsx", cells[i], units[i])

        sides: dict[str, Callable[[int, Path], None]] = {OURS: ours}
        if not filled and hasattr(writer, "_fast_ok"):
            sides[DIRECT] = ours_direct
        sides[FLOOR] = floor
        for fn in sides.values():  # warm-up: caches, imports
            fn(0, work)
        best = dict.fromkeys(sides, float("inf"))
        for _ in range(repeat):
            spent = dict.fromkeys(sides, 0.0)
            for start in range(0, n, BLOCK):
                for name, fn in sides.items():
                    folder = work / str(abs(hash(name)))
                    folder.mkdir(exist_ok=True)
                    t0 = time.perf_counter()
                    for i in range(start, min(n, start + BLOCK)):
                        fn(i, folder)
                    spent[name] += time.perf_counter() - t0
            for name in sides:
                best[name] = min(best[name], spent[name])
        records = {name: cell_records(work / str(abs(hash(name))) / "0.xlsx") for name in sides}
        sizes = {
            name: sum(p.stat().st_size for p in (work / str(abs(hash(name)))).glob("*.xlsx")) / n for name in sides
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    what = "filled workbooks" if filled else "blank templates"
    print(f"generate {n} {what}, format {fmt.id} (year {year}), best of {repeat}")
    print(f"{'':32}{'seconds':>10}{'templates/s':>14}{'KB/file':>10}{'cells/file':>12}")
    for name in sides:
        print(f"{name:32}{best[name]:10.2f}{n / best[name]:14.1f}{sizes[name] / 1024:10.1f}{records[name]:12d}")
    for name in sides:
        if name == FLOOR:
            continue
        ratio = best[name] / best[FLOOR]
        verdict = "OK" if ratio <= 2 else "SLOWER THAN TARGET"
        # The template writes a styled record for every input cell (unlocked, white, validated)
        # and for every cell of a merged, bordered label; the floor writes only non-empty cells.
        per_cell = (best[name] / records[name]) / (best[FLOOR] / records[FLOOR])
        print(f"ratio {name} / floor: {ratio:.2f}x (target: within 2x) -> {verdict}; per cell record {per_cell:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of templates (default 1000)")
    parser.add_argument("--year", type=int, default=2024, help="report year (selects the format)")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the best is printed")
    parser.add_argument("--filled", action="store_true", help="write filled workbooks (random consistent data)")
    args = parser.parse_args()
    run(args.n, args.year, args.repeat, args.filled)


if __name__ == "__main__":
    main()
