"""Finding a report's table in a grid of cells by its labels: where its rows and columns are.

A grid is what a spreadsheet sheet or a document's table rows give: rows of raw cell values
(text, numbers, blanks). The table is found by its column labels (a header of one or more rows,
group labels carried across merged cells) and its row labels (the stub left of the values),
matched with :mod:`xls_gongkai.parsing.labels`, so rows and columns may be moved, inserted,
renamed a little or laid out by hand. Used by the workbook reader for anything that is not our
untouched template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from xls_gongkai.parsing.labels import TableMatcher, match_all, normalise, strip_number
from xls_gongkai.parsing.labels import matcher as shared_matcher
from xls_gongkai.parsing.values import is_blank, parse_cell
from xls_gongkai.spec import CellKind, Table

__all__ = ["SCAN_COLS", "SCAN_ROWS", "Grid", "Located", "at", "locate_table"]

Grid = Sequence[Sequence[Any]]


def at(grid: Grid, row: int, col: int) -> Any:
    """The raw value at (row, col), None outside the grid."""
    if 0 <= row < len(grid):
        r = grid[row]
        if 0 <= col < len(r):
            return r[col]
    return None

@dataclass(frozen=True)
class Located:
    """Where one table's cells are in this workbook."""

    table: Table
    sheet: str
    rows: Mapping[str, int]  # row id (leaf, or a group printed as one row) -> sheet row
    cols: Mapping[str, int]  # leaf column id -> sheet column
    by_label: bool  # located by labels (not at the template's positions)
    region: tuple[int, int, int, int] = (0, 0, -1, -1)  # first/last row, first/last col

    def pos(self, row: str, col: str) -> tuple[int, int] | None:
        if row in self.rows and col in self.cols:
            return self.rows[row], self.cols[col]
        return None



def _is_numberish(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int | float):
        return True
    if not isinstance(v, str):
        return False
    parsed = parse_cell(v, CellKind.COUNT)
    return parsed.value is not None and not parsed.code


def _text(v: Any) -> str:
    return v.strip() if isinstance(v, str) else ""


#: How much of a sheet the label search looks at: the official tables fit in far less, and a
#: large sheet of something else must not take minutes.
SCAN_ROWS = 1000
SCAN_COLS = 60


@cache
def _anchors(table: Table) -> tuple[re.Pattern[str], str]:
    """The table's column labels (normalised, without item numbers): a pattern finding any of
    them inside a text, and all of them joined (to find a text inside one of them)."""
    labels = sorted({a for n in table.column_nodes.values() if len(a := strip_number(n.label)) >= 2}, key=len)
    return re.compile("|".join(re.escape(a) for a in reversed(labels)) or "(?!)"), "\x00".join(labels)


_PREPARED: dict[int, tuple[Grid, list[tuple[bool, list[tuple[str, str]]]]]] = {}


def _prepared(grid: Grid) -> list[tuple[bool, list[tuple[str, str]]]]:
    """Per row of the scanned area: whether it holds a number, and its texts (raw, normalised).

    Worked out once per sheet, however many tables and formats are then looked for in it.
    """
    got = _PREPARED.get(id(grid))
    if got is not None and got[0] is grid:
        return got[1]
    rows: list[tuple[bool, list[tuple[str, str]]]] = []
    for full in grid[:SCAN_ROWS]:
        row = full[:SCAN_COLS]
        has_number = any(_is_numberish(v) for v in row)
        texts = [] if has_number else [(t, normalise(t)) for t in (_text(v) for v in row) if t and len(t) <= 60]
        rows.append((has_number, texts))
    if len(_PREPARED) >= 16:
        _PREPARED.clear()  # the sheets of the workbook being read; older ones are done with
    _PREPARED[id(grid)] = (grid, rows)
    return rows


def _header_blocks(grid: Grid, matcher: TableMatcher, table: Table) -> list[tuple[int, int, dict[str, int]]]:
    """Runs of rows holding column labels of ``table``: (first row, last row, leaf id → column)."""
    leaf_ids = {n.id for n in table.leaf_columns}
    need = min(2, len(leaf_ids))
    columns = list(table.column_nodes.values())
    anchors = _anchors(table)
    matched_rows: dict[int, set[str]] = {}
    strong: set[int] = set()
    pattern, joined = anchors
    for r, (has_number, texts) in enumerate(_prepared(grid)):
        hits: set[str] = set()
        # A header row holds no numbers; a data row's stub ("（七）总计", "3.其他") may look like
        # a column label and must not start a new header.
        if has_number:
            continue
        # The full matcher (with its similarity ratio) is slow; a header row has at least one
        # label written nearly as printed, so only rows with such an anchor are matched fully.
        # (A 3,000-row sheet of other text took 143 s without this.)
        if not any(pattern.search(norm) or (len(norm) >= 2 and norm in joined) for _t, norm in texts):
            continue
        for t, _norm in texts:
            # Ambiguous is fine here ("结果维持" under three groups): it is still a header.
            for node in match_all(t, columns):
                hits.add(node.id)
        if hits:
            matched_rows[r] = hits
            if len(hits & leaf_ids) >= need or len(hits) >= 2:
                strong.add(r)
    blocks: list[tuple[int, int, dict[str, int]]] = []
    rows = sorted(matched_rows)
    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1] == rows[j] + 1:
            j += 1
        first, last = rows[i], rows[j]
        cols = _header_columns(grid, first, last, matcher, leaf_ids)
        if len(cols) >= need and any(first <= x <= last for x in strong):
            blocks.append((first, last, cols))
        i = j + 1
    return blocks


def _header_columns(grid: Grid, first: int, last: int, matcher: TableMatcher, leaf_ids: set[str]) -> dict[str, int]:
    width = max(len(grid[r]) for r in range(first, last + 1))
    # Group headers are merged across their children; a reader sees the text only in the first
    # cell of the merge, so carry it to the right until the next text in that header row.
    filled: list[list[str]] = []
    for r in range(first, last + 1):
        carried = ""
        line: list[str] = []
        for c in range(width):
            t = _text(at(grid, r, c))
            if t:
                carried = t
            line.append(t or (carried if r < last else ""))
        filled.append(line)
    out: dict[str, int] = {}
    for c in range(width):
        path: list[str] = []
        for line in filled:
            if line[c] and (not path or path[-1] != line[c]):
                path.append(line[c])
        # The leaf is the lowest text written *in* this column (vertical merges put it higher up).
        own = [_text(at(grid, r, c)) for r in range(first, last + 1)]
        if not any(own):
            continue
        node = matcher.column(path)
        if node is not None and node.id in leaf_ids and node.id not in out:
            out[node.id] = c
    return out


def locate_table(grid: Grid, sheet: str, table: Table) -> Located | None:
    matcher = shared_matcher(table)
    blocks = _header_blocks(grid, matcher, table)
    best: Located | None = None
    best_score = 0
    single_unlabelled = len(table.leaf_rows) == 1 and not table.leaf_rows[0].label
    for n, (first, last, cols) in enumerate(blocks):
        value_left = min(cols.values())
        # The data rows follow the header closely; rows far below belong to something else.
        stop = min(
            blocks[n + 1][0] if n + 1 < len(blocks) else len(grid),
            last + 1 + 2 * len(table.row_nodes) + 20,
        )
        rows: dict[str, int] = {}
        empty_run = 0
        r = last + 1
        while r < stop:
            line = grid[r][:SCAN_COLS]
            stub = [_text(v) for v in line[:value_left] if _text(v)]
            if not stub and not any(not is_blank(v) for v in line):
                empty_run += 1
                if empty_run >= 3 and rows:
                    break
                r += 1
                continue
            empty_run = 0
            if single_unlabelled:
                if any(not is_blank(at(grid, r, c)) for c in cols.values()) or not stub:
                    rows[table.leaf_rows[0].id] = r
                    break
            elif stub:
                node = matcher.row(stub)
                if node is not None and node.id not in rows:
                    rows[node.id] = r
            r += 1
        if single_unlabelled and not rows:
            rows[table.leaf_rows[0].id] = last + 1
        score = len(rows) + len(cols)
        if rows and score > best_score:
            last_row = max(rows.values())
            best = Located(table, sheet, rows, cols, True, (first, last_row, 0, max(cols.values())))
            best_score = score
    return best


# --------------------------------------------------------------------------- the reader

