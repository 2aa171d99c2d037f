"""Rules compiled to Excel formulas over a layout, with the cached results Python computes.

Only functions that Excel, WPS and LibreOffice all evaluate the same way are emitted: ``SUM``,
``IF``, ``ROUND``, ``ISNUMBER``, ``ISBLANK``, ``INT``, ``LEFT``, ``SUMPRODUCT`` and arithmetic.
Each formula comes with :func:`check_display` (or the total's value), the string or number the
formula evaluates to, which the writer stores as the cell's cached result: LibreOffice with
default settings and every Python reader show that cached value rather than recalculating.
"""

from __future__ import annotations

from collections.abc import Iterable

from xls_gongkai.numbers import format_number
from xls_gongkai.rules import Check, Outcome, Term, computed_cells
from xls_gongkai.spec import CellKind, RuleKind, Table
from xls_gongkai.workbook.layout import Layout, Pos, a1, sheet_ref

PASS = "✔"
FAIL = "✘"
CELLS_SHORT = "处数值不合规"


def _rect(lay: Layout, term: Term, from_sheet: str) -> str:
    t, r, c = term.key
    tl = lay.tables[t]
    r0, r1 = tl.row_span(tl.table.row_nodes[r])
    c0, c1 = tl.col_span(tl.table.column_nodes[c])
    prefix = "" if tl.sheet == from_sheet else f"{sheet_ref(tl.sheet)}!"
    if (r0, c0) == (r1, c1):
        # SUM, not a bare reference: text pasted into an input cell (a paste is not stopped by
        # data validation) is then ignored, as R5 flags it, instead of turning the totals, every
        # check and CHECK_FAILURES into #VALUE!.
        return f"SUM({prefix}{a1(r0, c0)})"
    return f"SUM({prefix}{a1(r0, c0)}:{a1(r1, c1)})"


def side_formula(lay: Layout, side: Iterable[Term], from_sheet: str) -> str:
    out = ""
    for term in side:
        sign = "-" if term.sign < 0 else "+"
        out += sign + _rect(lay, term, from_sheet)
    return out[1:] if out.startswith("+") else out


def total_formula(check: Check, lay: Layout) -> str:
    """The formula of a computed total: ``=`` the right-hand side of its defining rule."""
    sheet = lay.tables[check.table.id].sheet
    return "=" + side_formula(lay, check.rhs, sheet)


def check_formula(check: Check, lay: Layout) -> str:
    """The in-sheet check cell's formula for one check: ✔, or ✘ with what differs and by how much."""
    sheet = lay.tables[check.table.id].sheet
    if check.rule.kind is RuleKind.CELLS:
        n = cells_count_formula(check.table, lay)
        return f'=IF({n}=0,"{PASS}","{FAIL} "&{n}&"{CELLS_SHORT}")'
    diff = f"ROUND(({side_formula(lay, check.lhs, sheet)})-({side_formula(lay, check.rhs, sheet)}),6)"
    return f'=IF({diff}=0,"{PASS}","{FAIL} {check.rule.short}，差 "&{diff})'


def check_display(outcome: Outcome) -> str:
    """What :func:`check_formula` shows for these values (the cell's cached result)."""
    if outcome.passed:
        return PASS
    if outcome.check.rule.kind is RuleKind.CELLS:
        return f"{FAIL} {len(outcome.bad_cells)}{CELLS_SHORT}"
    return f"{FAIL} {outcome.check.rule.short}，差 {format_number(outcome.diff)}"


def input_rectangles(table: Table, lay: Layout) -> list[tuple[CellKind, int, int, int, int]]:
    """The table's input (not computed) numeric cells as rectangles of one kind each.

    Returns ``(kind, first_row, first_col, last_row, last_col)``; used by the R5 formula and by
    the writer's data validation, so both cover exactly the same cells.
    """
    tl = lay.tables[table.id]
    computed = computed_cells(lay.format)
    runs: list[tuple[CellKind, int, int, int, int]] = []
    for cnode in table.leaf_columns:
        col = tl.cols[cnode.id]
        current: list[int] = []
        kind: CellKind | None = None
        for rnode in (*table.leaf_rows, None):
            k = None
            if rnode is not None and (table.id, rnode.id, cnode.id) not in computed:
                k = table.cell_kind(rnode.id, cnode.id)
            if k is not None and k == kind and current and tl.rows[rnode.id] == current[-1] + 1:  # type: ignore[union-attr]
                current.append(tl.rows[rnode.id])  # type: ignore[union-attr]
                continue
            if current and kind is not None:
                runs.append((kind, current[0], col, current[-1], col))
            current = [tl.rows[rnode.id]] if (k is not None and rnode is not None) else []
            kind = k
    # merge horizontally adjacent runs with the same kind and rows
    merged: list[tuple[CellKind, int, int, int, int]] = []
    for run in sorted(runs, key=lambda x: (x[1], x[3], x[2])):
        if merged:
            k, r0, c0, r1, c1 = merged[-1]
            if (k, r0, r1) == (run[0], run[1], run[3]) and c1 + 1 == run[2]:
                merged[-1] = (k, r0, c0, r1, run[4])
                continue
        merged.append(run)
    return merged


def cells_count_formula(table: Table, lay: Layout) -> str:
    """Count of input cells breaking their kind (R5); an array expression over the input cells."""
    terms = []
    for kind, r0, c0, r1, c1 in input_rectangles(table, lay):
        if kind is CellKind.TEXT:
            continue
        rng = a1(r0, c0) if (r0, c0) == (r1, c1) else f"{a1(r0, c0)}:{a1(r1, c1)}"
        bad = {
            CellKind.COUNT: f"({rng}<0)+({rng}<>INT({rng}))",
            CellKind.SIGNED: f"{rng}<>INT({rng})",
            CellKind.AMOUNT: f"{rng}<0",
        }[kind]
        terms.append(f"SUM(IF(ISNUMBER({rng}),IF({bad},1,0),IF(ISBLANK({rng}),0,1)))")
    return "(" + "+".join(terms) + ")" if terms else "0"


def _chains(cells: list[Pos], down: bool) -> list[list[Pos]]:
    """Cells in chains of neighbours, one below another (``down``) or side by side."""

    def place(p: Pos) -> tuple[str, int, int]:  # (sheet, line, position along the line)
        return (p.sheet, p.col, p.row) if down else (p.sheet, p.row, p.col)

    chains: list[list[Pos]] = []
    for p in sorted(cells, key=place):
        if chains:
            sheet, line, at = place(chains[-1][-1])
            if place(p) == (sheet, line, at + 1):
                chains[-1].append(p)
                continue
        chains.append([p])
    return chains


def _runs(positions: list[Pos]) -> list[tuple[str, int, int, int, int]]:
    """Group cells into vertical runs, then the cells left over into horizontal runs (fewer,
    shorter terms)."""
    runs: list[tuple[str, int, int, int, int]] = []
    singles: list[Pos] = []
    for chain in _chains(positions, down=True):
        if len(chain) > 1:
            runs.append((chain[0].sheet, chain[0].row, chain[0].col, chain[-1].row, chain[-1].col))
        else:
            singles.append(chain[0])
    for chain in _chains(singles, down=False):
        runs.append((chain[0].sheet, chain[0].row, chain[0].col, chain[-1].row, chain[-1].col))
    return runs


def failures_formula(lay: Layout, from_sheet: str) -> str:
    """The number of check cells showing ✘, across all sheets (the CHECK_FAILURES cell)."""
    terms = []
    for sheet, r0, c0, r1, c1 in _runs(list(lay.checks.values())):
        prefix = "" if sheet == from_sheet else f"{sheet_ref(sheet)}!"
        rng = prefix + a1(r0, c0) + ("" if (r0, c0) == (r1, c1) else ":" + a1(r1, c1))
        terms.append(f'SUMPRODUCT(--(LEFT({rng},1)="{FAIL}"))')
    return "=" + "+".join(terms)


def summary_formula(lay: Layout) -> str:
    ref = lay.failures_cell.ref(lay.summary_cell.sheet)
    return f'="共 {len(lay.checks)} 项校验，"&{ref}&" 项未通过"'


def summary_display(lay: Layout, failures: int) -> str:
    return f"共 {len(lay.checks)} 项校验，{failures} 项未通过"
