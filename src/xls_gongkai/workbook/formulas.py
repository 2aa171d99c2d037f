"""Rules compiled to Excel formulas over a layout, with the cached results Python computes.

Only functions that Excel, WPS, LibreOffice and Gnumeric all evaluate the same way are emitted:
``SUM``, ``IF``, ``IFERROR``, ``OR``, ``MAX``, ``MIN``, ``ROUND``, ``ISNUMBER``, ``ISBLANK``,
``INT``, ``ABS``, ``COUNTIF``, ``MID`` and arithmetic; the R5 count is an array formula (as a
plain formula every engine intersects its ranges with the formula's row). Never
``SUMPRODUCT(--(LEFT(range,1)=…))``: Gnumeric intersects ``LEFT(range)`` and gives #VALUE!.

What a cell means is decided once, here and in :mod:`xls_gongkai.rules.engine` alike (the
verdict test in ``tests/test_verdict.py`` recalculates perturbed workbooks in LibreOffice and
Gnumeric and compares): a blank counts 0; text counts 0 in a relation (``SUM`` of a cell
ignores it) and breaks R5; an error value breaks R5 and makes every relation over it show
"✘ …含错误值，无法校验" (``IFERROR``), never an error that would hide the count of failures;
a value beyond ``VALUE_LIMIT`` breaks R5 and makes its relations "✘ …数值过大，无法校验".

Each formula comes with :func:`check_display` (or the total's value), the string or number the
formula evaluates to, which the writer stores as the cell's cached result: LibreOffice with
default settings and every Python reader show that cached value rather than recalculating.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from xls_gongkai.numbers import format_number
from xls_gongkai.rules import HAS_ERROR, TOO_LARGE, Check, Outcome, Term, computed_cells
from xls_gongkai.spec import VALUE_LIMIT, CellKind, RuleKind, Table
from xls_gongkai.workbook.layout import Layout, Pos, a1, sheet_ref

PASS = "✔"
FAIL = "✘"
CELLS_SHORT = "处数值不合规"


def _area(lay: Layout, term: Term, from_sheet: str) -> str:
    t, r, c = term.key
    tl = lay.tables[t]
    r0, r1 = tl.row_span(tl.table.row_nodes[r])
    c0, c1 = tl.col_span(tl.table.column_nodes[c])
    prefix = "" if tl.sheet == from_sheet else f"{sheet_ref(tl.sheet)}!"
    return f"{prefix}{a1(r0, c0)}" if (r0, c0) == (r1, c1) else f"{prefix}{a1(r0, c0)}:{a1(r1, c1)}"


def _rect(lay: Layout, term: Term, from_sheet: str) -> str:
    # SUM, not a bare reference, even for one cell: text pasted into an input cell (a paste is
    # not stopped by data validation) then counts 0, as R5 flags it, instead of turning the
    # totals and every check over it into #VALUE!.
    return f"SUM({_area(lay, term, from_sheet)})"


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
    short = check.rule.short
    areas = ",".join(_area(lay, t, sheet) for t in (*check.lhs, *check.rhs))
    large = f"OR(MAX({areas})>{VALUE_LIMIT},MIN({areas})<-{VALUE_LIMIT})"
    diff = f"ROUND(({side_formula(lay, check.lhs, sheet)})-({side_formula(lay, check.rhs, sheet)}),6)"
    verdict = f'IF({diff}=0,"{PASS}","{FAIL} {short}，差 "&{diff})'
    return f'=IFERROR(IF({large},"{unverifiable(short, TOO_LARGE)}",{verdict}),"{unverifiable(short, HAS_ERROR)}")'


def unverifiable(short: str, reason: str) -> str:
    return f"{FAIL} {short}：{reason}，无法校验"


def check_display(outcome: Outcome) -> str:
    """What :func:`check_formula` shows for these values (the cell's cached result)."""
    if outcome.passed:
        return PASS
    if outcome.check.rule.kind is RuleKind.CELLS:
        return f"{FAIL} {len(outcome.bad_cells)}{CELLS_SHORT}"
    if outcome.unknown:
        return unverifiable(outcome.check.rule.short, outcome.reason)
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
            CellKind.COUNT: f"({rng}<0)+({rng}<>INT({rng}))+({rng}>{VALUE_LIMIT})",
            CellKind.SIGNED: f"({rng}<>INT({rng}))+(ABS({rng})>{VALUE_LIMIT})",
            CellKind.AMOUNT: f"({rng}<0)+({rng}>{VALUE_LIMIT})",
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


def _count_failed(positions: list[Pos], from_sheet: str) -> str:
    terms = []
    for sheet, r0, c0, r1, c1 in _runs(positions):
        prefix = "" if sheet == from_sheet else f"{sheet_ref(sheet)}!"
        rng = prefix + a1(r0, c0) + ("" if (r0, c0) == (r1, c1) else ":" + a1(r1, c1))
        terms.append(f'COUNTIF({rng},"{FAIL}*")')
    return "+".join(terms)


def failures_formula(lay: Layout, from_sheet: str) -> str:
    """The number of check cells showing ✘, across all sheets (the CHECK_FAILURES cell)."""
    return "=" + _count_failed(list(lay.checks.values()), from_sheet)


def failable(lay: Layout) -> int:
    """How many checks a clerk's typing can fail: the relations between inputs and R5. The
    checks that define a total hold by construction while its formula is in place."""
    computes = {r.id for r in lay.format.rules if r.computes}
    return sum(1 for key in lay.checks if key[0] not in computes)


def summary_formula(lay: Layout) -> str:
    """“共 N 项校验，全部通过”, or how many fail on which sheet (表三 2 项、表四 1 项)."""
    sheet = lay.summary_cell.sheet
    ref = lay.failures_cell.ref(sheet)
    parts = "&".join(
        f'IF({count}>0,"、{name} "&{count}&" 项","")'
        for name, count in ((name, f"({_count_failed(cells, sheet)})") for name, cells in _by_sheet(lay).items())
    )
    return f'=IF({ref}=0,"共 {failable(lay)} 项校验，全部通过",{ref}&" 项校验未通过："&MID({parts},2,200))'


def summary_display(lay: Layout, failing: Mapping[str, int]) -> str:
    """What :func:`summary_formula` shows, given the failing check cells per sheet."""
    total = sum(failing.values())
    if not total:
        return f"共 {failable(lay)} 项校验，全部通过"
    parts = "、".join(f"{name} {failing[name]} 项" for name in _by_sheet(lay) if failing.get(name))
    return f"{total} 项校验未通过：{parts}"


def _by_sheet(lay: Layout) -> dict[str, list[Pos]]:
    out: dict[str, list[Pos]] = {sheet: [] for sheet in lay.data_sheets}
    for pos in lay.checks.values():
        out.setdefault(pos.sheet, []).append(pos)
    return {sheet: cells for sheet, cells in out.items() if cells}
