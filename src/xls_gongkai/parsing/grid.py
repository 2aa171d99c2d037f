"""Finding a report's tables in a grid of cells by their labels: where their rows and columns are.

A grid is rows of raw cell values: a spreadsheet sheet as python-calamine reads it (a merged
cell's text in its first cell only), or the table rows of a published document (a merged cell's
text repeated in every slot it covers; a plain-text table ragged where a row's label spreads
over more cells than the header's). One walk down the rows finds every table asked for, the way
a person reads a printed report:

* a **title** row names a table (第二十条第（一）项, 三、收到和处理政府信息公开申请情况) and makes
  it the table being read; a title-like row that names none of them is reported;
* **header** rows (no values; column labels of the table, or its corner text) give the columns:
  a group label is carried over the columns it spans when it is written once (a merged cell),
  and each column's label path is matched with :mod:`xls_gongkai.parsing.labels`;
* **data** rows are matched by their stub — the label cells before the first value, in any
  column, with the parent labels of the rows above carried down (merged cells) — to a row of
  the table being read or, failing that, to the one other table they name; a group printed as
  one row is found as the group; a row label alone on a line waits for its numbers on the next
  line (the text of a PDF);
* a row's values sit under the header's columns, shifted as a whole when its label spreads over
  more cells than the header's (ragged text), or, without a usable header, in the official
  column order.

The workbook reader uses it for anything that is not an untouched template; the document
importer for every table of a published report.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from xls_gongkai.issues import Code, Issue, issue
from xls_gongkai.parsing.labels import matcher as shared_matcher
from xls_gongkai.parsing.labels import normalise, strip_number
from xls_gongkai.spec import PATH_SEP, Node, Table

__all__ = ["SCAN_COLS", "SCAN_ROWS", "Found", "Grid", "Located", "at", "find_tables", "is_value", "locate_table"]

Grid = Sequence[Sequence[Any]]

#: How much of a grid the search looks at: the official tables fit in far less, and a large
#: sheet of something else must not take minutes.
SCAN_ROWS = 1000
SCAN_COLS = 60


def at(grid: Grid, row: int, col: int) -> Any:
    """The raw value at (row, col), None outside the grid."""
    if 0 <= row < len(grid):
        r = grid[row]
        if 0 <= col < len(r):
            return r[col]
    return None


@dataclass(frozen=True)
class Located:
    """Where one table's cells are in a grid.

    ``rows`` maps a row id (a leaf, or a group printed as one row) to its grid row, ``cols`` a
    leaf column id to the grid column under its header label (empty when the table was found
    without a header: its rows by their labels, their values in the official column order).
    :meth:`pos` is the place of one value — rows of ragged text sit shifted against the
    header, which ``cells`` records — and is what a caller should read by.
    """

    table: Table
    sheet: str
    rows: Mapping[str, int]
    cols: Mapping[str, int]
    by_label: bool
    region: tuple[int, int, int, int] = (0, 0, -1, -1)  # first/last row, first/last col
    #: (row id, leaf column id) → (grid row, grid column) of every value found by labels
    cells: Mapping[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    #: leaf columns the header lacks (rows whose values needed them)
    missing: tuple[str, ...] = ()

    def pos(self, row: str, col: str) -> tuple[int, int] | None:
        if self.cells:
            return self.cells.get((row, col))
        if row in self.rows and col in self.cols:
            return self.rows[row], self.cols[col]
        return None


@dataclass(frozen=True)
class Found:
    """What one walk over a grid found."""

    located: Mapping[str, Located]
    #: grid rows with content that no table took (a stray line, a row of a table not asked for)
    unused: tuple[int, ...] = ()
    #: rows that look like a table's title but name none of the tables: (grid row, text)
    unknown_titles: tuple[tuple[int, str], ...] = ()


# --------------------------------------------------------------------------- cells

_WS = re.compile(r"\s+")
_LEADING_NUMBER = re.compile(r"^[+-]?\d[\d,]*(\.\d+)?")
_ITEM_LABEL = re.compile(r"^\d{1,2}[.、．,，]\D")
_NONE_MARKS = frozenset({"-", "--", "—", "——", "/", "无"})


@lru_cache(maxsize=16384)
def _valueish(text: str) -> bool:
    s = _WS.sub("", unicodedata.normalize("NFKC", text))
    if not s:
        return False
    if s in _NONE_MARKS:
        return True
    return bool(_LEADING_NUMBER.match(s)) and not _ITEM_LABEL.match(s)


def is_value(raw: Any) -> bool:
    """Whether a cell holds a value rather than a label: a number, or text that starts with one
    ("22（其中修订16件）", "251000元"), or a dash for none; not an item label ("1.属于国家秘密")."""
    if raw is None or isinstance(raw, bool):
        return False
    if isinstance(raw, str):
        return _valueish(raw)
    return True


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


@dataclass(frozen=True)
class _Line:
    """One grid row as the walk sees it."""

    index: int
    texts: tuple[str, ...]  # every cell as stripped text ("" when blank)
    values: tuple[int, ...]  # columns holding a value
    labels: tuple[int, ...]  # label cells: texts before the first value
    norms: tuple[str, ...] = ()  # the distinct texts, normalised (labels are short: none over 60)

    @property
    def label_texts(self) -> list[str]:
        return [self.texts[i] for i in self.labels]


def _line(index: int, raw: Sequence[Any]) -> _Line | None:
    row = raw[:SCAN_COLS]
    texts = tuple(_text(v) for v in row)
    if not any(texts):
        return None
    values = tuple(i for i, v in enumerate(row) if texts[i] and is_value(v))
    first = values[0] if values else len(texts)
    labels = tuple(i for i in range(first) if texts[i])
    norms = tuple(dict.fromkeys(normalise(t) if len(t) <= 60 else t for t in texts if t))
    return _Line(index, texts, values, labels, norms)


_PREPARED: dict[int, tuple[Grid, int, list[_Line]]] = {}


def _lines(grid: Grid, limit: int) -> list[_Line]:
    """The non-blank rows of a grid's scanned area, worked out once per grid."""
    got = _PREPARED.get(id(grid))
    if got is not None and got[0] is grid and got[1] == limit:
        return got[2]
    lines = [line for i, raw in enumerate(grid[:limit]) if (line := _line(i, raw)) is not None]
    if len(_PREPARED) >= 16:
        _PREPARED.clear()  # the sheets of the workbook being read; older ones are done with
    _PREPARED[id(grid)] = (grid, limit, lines)
    return lines


def _split_paths(cells: Iterable[str]) -> list[str]:
    """Cells with a label path ("三、… › （三）… › 1.…", as Markdown prints them) split up."""
    sep = PATH_SEP.strip()
    return [p.strip() for c in cells for p in c.split(sep) if p.strip()]


def _dedupe(cells: Iterable[str]) -> list[str]:
    """Consecutive repeats removed (a merged cell expanded into several grid slots)."""
    out: list[str] = []
    for c in cells:
        if c and (not out or normalise(out[-1]) != normalise(c)):
            out.append(c)
    return out


# --------------------------------------------------------------------------- what a table knows


@dataclass(frozen=True, eq=False)
class _Known:
    """What the walk needs of one table, worked out once per table."""

    table: Table
    title: str  # normalised, without its item number
    corner: str  # normalised
    column_anchor: re.Pattern[str]  # finds a column label inside a text
    column_joined: str  # every column label, to find a text inside one of them
    row_labels: frozenset[str]  # normalised row labels
    row_anchor: re.Pattern[str]
    row_joined: str
    unlabelled: bool  # one row of numbers without a label (表四)


def _anchor(labels: Iterable[str]) -> tuple[re.Pattern[str], str]:
    words = sorted({w for w in labels if len(w) >= 2}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words) or "(?!)"), "\x00".join(words)


@cache
def _known(table: Table) -> _Known:
    col_pattern, col_joined = _anchor(strip_number(n.label) for n in table.column_nodes.values())
    row_pattern, row_joined = _anchor(strip_number(n.label) for n in table.row_nodes.values())
    return _Known(
        table,
        strip_number(table.title),
        normalise(table.corner),
        col_pattern,
        col_joined,
        frozenset(normalise(n.label) for n in table.row_nodes.values() if n.label),
        row_pattern,
        row_joined,
        len(table.leaf_rows) == 1 and not table.leaf_rows[0].label,
    )


def _mentions(text: str, pattern: re.Pattern[str], joined: str) -> bool:
    """Whether a normalised text holds one of the labels, or is a piece of one (cheap test)."""
    return bool(pattern.search(text)) or (len(text) >= 2 and text in joined)


def _is_corner(known: _Known, t: str) -> bool:
    """Whether a normalised text is the table's corner note (or a piece of it, wrapped)."""
    if not known.corner or not t:
        return False
    return t == known.corner or (len(t) >= 6 and (t in known.corner or known.corner in t))


def _header_hits(known: _Known, line: _Line) -> tuple[int, bool]:
    """How many of the table's column labels a row without values names, and whether it holds
    the table's corner text."""
    m = shared_matcher(known.table)
    hits: set[str] = set()
    corner = False
    for norm in line.norms:
        if _is_corner(known, norm):
            corner = True
            continue
        if len(norm) > 60 or not _mentions(norm, known.column_anchor, known.column_joined):
            continue
        text = norm
        # Ambiguous is fine here ("结果维持" under three groups): it is still a header.
        hits.update(n.id for n in m.columns_named(text))
    return len(hits), corner


def _title_prefixes(tables: Sequence[Table]) -> tuple[str, ...]:
    """What the titles of tables sharing a sheet begin with (第二十条第( for 表二's blocks)."""
    out: list[str] = []
    by_sheet: dict[str, list[str]] = {}
    for t in tables:
        by_sheet.setdefault(t.sheet, []).append(_known(t).title)
    for titles in by_sheet.values():
        if len(titles) < 2:
            continue
        prefix = titles[0]
        for title in titles[1:]:
            while not title.startswith(prefix):
                prefix = prefix[:-1]
        if len(prefix) >= 3:
            out.append(prefix)
    return tuple(out)


@cache
def _row_paths(table: Table) -> Mapping[str, Node]:
    """Every row's label path joined and normalised (三、本年度办理结果（三）不予公开1.属于国家秘密)."""
    return {"".join(normalise(p) for p in n.path if p): n for n in table.row_nodes.values() if n.label}


def _alignment(texts: Sequence[str], label_end: int, positions: Sequence[int]) -> int:
    """How far a row's values sit from the header's column positions.

    Plain-text tables are ragged: a row whose label spreads over one more stub cell than the
    header's has its values one cell to the right. The shift is the smallest one that puts
    every value cell of the row under a column and none inside the label cells.
    """
    if not positions:
        return 0
    filled = [i for i in range(label_end, len(texts)) if texts[i]]
    if not filled:
        return 0
    lo, hi = positions[0], positions[-1]
    pos = set(positions)
    candidates = sorted(range(filled[-1] - hi, filled[0] - lo + 1), key=abs)
    for s in candidates:
        if lo + s >= label_end and all((i - s) in pos for i in filled):
            return s
    for s in candidates:
        if lo + s >= label_end:
            return s
    return max(0, label_end - lo)


def _carried(table: Table, texts: Sequence[str], width: int) -> list[str]:
    """A header row with each group label carried over the columns it spans when it is written
    once (a merged cell, a plain-text table): as many columns as the group has leaves, or up to
    the next label."""
    m = shared_matcher(table)
    out = [texts[c] if c < len(texts) else "" for c in range(width)]
    for c, text in enumerate(texts[:width]):
        if not text:
            continue
        node = m.column(text)
        if node is None or node.is_leaf:
            continue
        for j in range(c + 1, min(c + len(node.leaves()), width)):
            if out[j]:
                break
            out[j] = text
    return out


@dataclass
class _Found:
    """What the walk found of one table so far."""

    known: _Known
    rows: dict[str, int] = field(default_factory=dict)
    cells: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    cols: dict[str, int] | None = None  # the header's columns its first row was read under
    header: tuple[int, ...] = ()  # the header block its rows were read under
    top: int | None = None
    missing: set[str] = field(default_factory=set)

    @property
    def table(self) -> Table:
        return self.known.table


class _Walk:
    """One walk down a grid's rows (see the module docstring)."""

    def __init__(self, lines: Sequence[_Line], tables: Sequence[Table]) -> None:
        self.by_index = {line.index: line for line in lines}
        self.found = {t.id: _Found(_known(t)) for t in tables}
        self.prefixes = _title_prefixes(tables)
        self.current: _Found | None = None
        self.header: list[int] = []  # rows of the header block being read
        self.context: dict[int, str] = {}  # row labels above, by column (merged parent cells)
        self.pending: _Line | None = None  # a row label waiting for its numbers
        self.used: set[int] = set()
        self.unknown_titles: list[tuple[int, str]] = []
        self._last = -1  # the previous non-blank row

    def feed(self, line: _Line) -> None:
        rest = self._title(line)
        if rest is not None and not (not rest.values and self._header(rest)):
            self._data(rest)
        self._last = line.index

    # ----------------------------------------------------------------- titles and headers

    def _switch(self, to: _Found | None) -> None:
        self._flush()
        if to is not self.current:
            self.current, self.header, self.context = to, [], {}

    def _title(self, line: _Line) -> _Line | None:
        """The row without a title cell naming a table (None: nothing else in it)."""
        first = next(i for i, t in enumerate(line.texts) if t)
        text = line.texts[first]
        key = strip_number(text) if len(text) <= 60 else ""
        named = next((f for f in self.found.values() if key and f.known.title == key), None)
        distinct = line.norms
        if named is None:
            if len(distinct) == 1 and not line.values and len(text) < 40 and key.startswith(self.prefixes or ("\x00",)):
                self._switch(None)
                self.unknown_titles.append((line.index, text))
                self.used.add(line.index)
                return None
            return line
        self._switch(named)
        if len(distinct) == 1:
            self.used.add(line.index)
            return None
        # The title in a column of its own, merged down the block's rows: read the rest.
        title = normalise(text)
        texts = tuple("" if t and normalise(t) == title else t for t in line.texts)
        values = tuple(i for i in line.values if texts[i])
        first_value = values[0] if values else len(texts)
        norms = tuple(n for n in line.norms if n != title)
        return _Line(line.index, texts, values, tuple(i for i in range(first_value) if texts[i]), norms)

    def _header(self, line: _Line) -> bool:
        """Whether a row without values is a header row; it then starts or continues a block."""
        first = next(t for t in line.texts if t)
        if strip_number(first) != normalise(first):
            return False  # a numbered row label ("（六）其他处理") is never a header
        single = len(line.norms) == 1
        order = [f for f in self.found.values() if f is not self.current]
        if self.current is not None:
            order.insert(0, self.current)
        continuing = bool(self.header) and self.header[-1] == self._last
        matched: list[_Found] = []
        for f in order:
            hits, corner = _header_hits(f.known, line)
            if hits >= 2 or (corner and (hits >= 1 or single)) or (hits >= 1 and continuing and f is self.current):
                matched.append(f)
        if not matched:
            return False
        chosen = matched[0] if matched[0] is self.current else next((f for f in matched if not f.rows), matched[0])
        self._switch(chosen)
        if not (self.header and self.header[-1] == self._last):
            self.header = []
        self.header.append(line.index)
        self.context = {}
        self.used.add(line.index)
        return True

    # ----------------------------------------------------------------- data rows

    def _label_like(self, line: _Line) -> bool:
        """Whether a row's label names a row: it starts with an item number ("（三）", "2.",
        "四、") as row labels do, or is exactly a row label."""
        if not line.labels:
            return False
        parts = _split_paths([line.texts[line.labels[-1]]])
        key = normalise(parts[-1]) if parts else ""
        return bool(key) and (strip_number(key) != key or any(key in f.known.row_labels for f in self.found.values()))

    def _data(self, line: _Line) -> None:
        if not line.values:
            if self._label_like(line):
                self._flush()
                self.pending = line
            return
        pending, self.pending = self.pending, None
        if pending is not None:
            own = self.current is not None and self._label_like(line) and self._match(self.current, line)[0] is not None
            if not own:
                # PDF text: the label on a line of its own (a cell centred vertically), or
                # wrapped ("（二）部分公开（区分处理的，只计这一" / "情形，不计其他情形）  447 …").
                self._row(pending, line)
                return
            self._row(pending, pending)  # a row printed blank after all
        self._row(line, line)

    def _flush(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self._row(pending, pending)

    def _match(self, f: _Found, stub: _Line) -> tuple[Node | None, int]:
        """The row of ``f`` a stub names, and how many of its label cells that took.

        Trailing label cells that do not help (text typed into a value cell: "一件") are
        dropped until the rest matches; they are then read as values. The row labels carried
        down from above (merged parent cells) count only when the whole path is exact.
        """
        own = stub.label_texts
        if not own or f.known.unlabelled:
            return None, 0
        m = shared_matcher(f.table)
        above = [self.context[c] for c in sorted(self.context) if c < stub.labels[0]] if f is self.current else []
        paths = _row_paths(f.table)
        for end in range(len(own), 0, -1):
            labels = _dedupe(_split_paths(own[:end]))
            exact = paths.get("".join(normalise(c) for c in _dedupe(_split_paths([*above, *own[:end]]))))
            node = exact or (m.row(labels) if labels else None)
            if node is None:
                continue
            while end > 1 and exact is None:
                last = normalise(own[end - 1])
                if last in normalise(node.label) or m.row(_dedupe(_split_paths(own[: end - 1]))) is not node:
                    break
                end -= 1
            return node, end
        return None, 0

    def _other(self, stub: _Line, line: _Line) -> tuple[_Found, Node, int] | None:
        """The one other table a row belongs to (a 表二 block without its title or header, 表四's
        row of numbers without its header)."""
        others = [f for f in self.found.values() if f is not self.current]
        if not stub.labels:
            fits = [
                f for f in others if f.known.unlabelled and not f.rows and len(line.values) == len(f.table.leaf_columns)
            ]
            return (fits[0], fits[0].table.rows[0], 0) if len(fits) == 1 else None
        last = strip_number(stub.texts[stub.labels[-1]])
        found = []
        for f in others:
            # A cheap test first: a stray line must not be matched against every table.
            if _mentions(last, f.known.row_anchor, f.known.row_joined):
                node, used = self._match(f, stub)
                if node is not None:
                    found.append((f, node, used))
        return found[0] if len(found) == 1 else None

    def _row(self, stub: _Line, line: _Line) -> None:
        """A data row: ``stub`` holds its label, ``line`` its values (the same row, or the next)."""
        f = self.current
        node, used = self._match(f, stub) if f is not None else (None, 0)
        if node is None and f is not None and f.known.unlabelled and not stub.labels and not f.rows:
            node = f.table.rows[0]
        if node is None:
            other = self._other(stub, line)
            if other is None:
                return
            f, node, used = other
            self.current, self.context = f, {}  # the header above may serve it too
        assert f is not None
        self.used.update((stub.index, line.index))
        if stub.labels and used:
            for c in [c for c in self.context if c >= stub.labels[0]]:
                del self.context[c]
            self.context.update((c, stub.texts[c]) for c in stub.labels[:used])
        label_end = (stub.labels[used - 1] + 1 if used else 0) if stub is line else line.values[0]
        self._store(f, node, line, label_end)

    def _store(self, f: _Found, node: Node, line: _Line, label_end: int) -> None:
        if node.id in f.rows or (not node.is_leaf and not line.values):
            return  # printed twice (the first counts), or a group's own line above its sub-rows
        places = self._place(f, line, label_end)
        f.rows[node.id] = line.index
        f.cells.update(((node.id, cid), (line.index, c)) for cid, c in places.items())
        if f.cols is None:
            f.cols = dict(self._columns(f)[0])
            f.header = tuple(self.header)
        start = self.header[0] if self.header and f.header == tuple(self.header) else line.index
        f.top = start if f.top is None else min(f.top, start)

    def _columns(self, f: _Found) -> tuple[Mapping[str, int], frozenset[int]]:
        return _header_columns(f.table, tuple(self.by_index[i].texts for i in self.header))

    def _place(self, f: _Found, line: _Line, label_end: int) -> dict[str, int]:
        cols, spans = self._columns(f)
        places, complete = _places(f.table, cols, spans, line.texts, label_end)
        if not complete:
            f.missing.update(leaf.id for leaf in f.table.leaf_columns if leaf.id not in cols)
        return places

    # ----------------------------------------------------------------- the result

    def result(self, sheet: str, height: int) -> Found:
        self._flush()
        located: dict[str, Located] = {}
        for f in self.found.values():
            if f.known.unlabelled and not f.rows and f.header and f.header[-1] + 1 < height:
                # 表四 left all blank under its header: its one row is the next one.
                self.header = list(f.header)
                self._store(f, f.table.rows[0], _Line(f.header[-1] + 1, (), (), ()), 0)
            loc = _located(f, sheet)
            if loc is not None:
                located[f.table.id] = loc
        unused = tuple(i for i in self.by_index if i not in self.used)
        return Found(located, unused, tuple(self.unknown_titles))


@lru_cache(maxsize=512)
def _header_columns(table: Table, rows: tuple[tuple[str, ...], ...]) -> tuple[Mapping[str, int], frozenset[int]]:
    """Leaf column → grid column under a header block, and the other columns a leaf's label
    covers (a merged header repeated by a document's grid). The same header recurs in every
    report of a format: worked out once."""
    known = _known(table)
    width = max((len(r) for r in rows), default=0)
    filled = [_carried(table, r, width) if k < len(rows) - 1 else list(r) for k, r in enumerate(rows)]
    m = shared_matcher(table)
    out: dict[str, int] = {}
    spans: set[int] = set()
    for c in range(width):
        if not any(c < len(r) and r[c] for r in rows):
            continue  # no label of its own: left of the header, or under a merged group only
        path = _dedupe(
            _split_paths(x[c] for x in filled if c < len(x) and x[c] and not _is_corner(known, normalise(x[c])))
        )
        node = m.column(path) if path else None
        if node is None or not node.is_leaf:
            continue
        if node.id in out:
            spans.add(c)
        else:
            out[node.id] = c
    return out, frozenset(spans)


def _places(
    table: Table, cols: Mapping[str, int], spans: frozenset[int], texts: Sequence[str], label_end: int
) -> tuple[dict[str, int], bool]:
    """Where a row's values are (leaf column id → grid column), and whether every column had
    a place (False: the header lacks columns the row needed)."""
    leaves = table.leaf_columns
    positions = sorted(set(cols.values()) | spans)
    shift = _alignment(texts, label_end, positions)
    if len(cols) == len(leaves):
        return {cid: c + shift for cid, c in cols.items()}, True
    # No complete header (a PDF's text loses the header's layout): when the row holds one
    # value per column, they are in the official order.
    end = len(texts)
    while end > label_end and not texts[end - 1]:
        end -= 1
    fits = bool(cols) and all(i - shift in positions for i in range(label_end, end) if texts[i])
    if not fits and (end - label_end == len(leaves) or not cols):
        start = label_end if end - label_end == len(leaves) else max(label_end, end - len(leaves))
        return {leaf.id: start + i for i, leaf in enumerate(leaves)}, True
    return {cid: c + shift for cid, c in cols.items()}, False


def _located(f: _Found, sheet: str) -> Located | None:
    rows = dict(f.rows)
    for rid in list(rows):
        node = f.table.row_nodes[rid]
        if not node.is_leaf and any(leaf.id in rows for leaf in node.leaves()):
            del rows[rid]  # a subtotal line above sub-rows that were found too
    if not rows:
        return None
    cells = {k: v for k, v in f.cells.items() if k[0] in rows}
    columns = [c for _r, c in cells.values()] or [0]
    top = min(f.top if f.top is not None else min(rows.values()), min(rows.values()))
    region = (top, max(rows.values()), min(columns), max(columns))
    return Located(f.table, sheet, rows, dict(f.cols or {}), True, region, cells, tuple(sorted(f.missing)))


def find_tables(grid: Grid, sheet: str, tables: Sequence[Table], *, max_rows: int = SCAN_ROWS) -> Found:
    """Every one of ``tables`` found in a grid (several may be stacked in it, like 表二's
    blocks), with the rows no table took."""
    walk = _Walk(_lines(grid, max_rows), tables)
    for line in _lines(grid, max_rows):
        walk.feed(line)
    return walk.result(sheet, min(len(grid), max_rows))


def locate_table(grid: Grid, sheet: str, table: Table) -> Located | None:
    """Where one table is in a grid, found by its labels (None when it is not there)."""
    return find_tables(grid, sheet, (table,)).located.get(table.id)


def group_row_issue(table: Table, node: Node) -> Issue:
    """A group printed as one row (2021's （六）其他处理 as in 2019): its sub-rows are unknown."""
    parts = "、".join(leaf.label for leaf in node.leaves())
    return issue(
        Code.GROUP_AS_ONE_ROW,
        table=table.id,
        table_name=table.name,
        label=node.label,
        parts=parts,
        row=node.id,
        row_label=node.path_text,
    )
