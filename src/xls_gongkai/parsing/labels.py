"""Label matching: find the row or column of a format that a printed label means.

The one implementation shared by the workbook reader (when a clerk moved rows about, cells are
located by their labels) and the document importer (published reports copy the official tables
with typos, variant brackets and labels split over several cells). See tests/data/FORMATS.md §6.

Matching runs in tiers, strongest first, and stops at the first tier that gives one answer:

1. exact match after :func:`normalise` (of the label, or of the label joined with its parents);
2. prefix or containment (“（六）其他” for “（六）其他处理”, “规范性文件” for “行政规范性文件”);
3. a similarity ratio (:class:`difflib.SequenceMatcher`) of at least ``min_ratio``, for a
   missing or wrong character.

A tie inside a tier is ambiguous and gives ``None`` — a wrong cell is worse than a missing one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from xls_gongkai.spec import Node, Table

__all__ = ["TableMatcher", "fold", "match", "match_all", "matcher", "normalise", "strip_number"]

_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "「": '"',
        "」": '"',
        "『": '"',
        "』": '"',
        "〔": "(",
        "〕": ")",
        "【": "(",
        "】": ")",
        "、": ",",
        "，": ",",
        "；": ";",
        "．": ".",
        "。": ".",
    }
)
# "1." / "1、" / "1 ." / "1，" at the start of a label (after NFKC and removing spaces).
_ITEM_NUMBER = re.compile(r"^(\d{1,2})[.,](?=\D)")
# Markdown emphasis and stray decoration that published pages leave around labels.
_DECOR = re.compile(r"[*_#|]+")
_EDGE = ":;,."
_NUMBER_PREFIX = re.compile(r"^(?:\([一二三四五六七八九十]+\)|[一二三四五六七八九十]+,|\d{1,2}\.)")


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """The comparable form of a label.

    Full-width characters become half-width (NFKC), white space and line breaks disappear,
    curly quotes become straight, “、”/“，” become “,”, and an item number written "1、",
    "1 ." or "1，" becomes "1.". Leading and trailing colons and commas are dropped.

    >>> normalise("（六） 其他\\n处理")
    '(六)其他处理'
    >>> normalise("1、危及“三安全一稳定”")
    '1.危及"三安全一稳定"'
    """
    s = unicodedata.normalize("NFKC", text)
    s = s.translate(_QUOTES)
    s = _DECOR.sub("", s)
    s = _SPACE.sub("", s)
    s = _ITEM_NUMBER.sub(r"\1.", s)
    return s.strip(_EDGE)


def fold(text: str) -> tuple[str, tuple[int, ...]]:
    """A whole text in the form :func:`normalise` gives a label, character by character, and
    where each of its characters came from in ``text`` (a report printed as one line is
    searched for labels in this form, and its prose cut out of the original).

    >>> fold("本年度办 理结果（一）")
    ('本年度办理结果(一)', (0, 1, 2, 3, 5, 6, 7, 8, 9, 10))
    """
    chars: list[str] = []
    places: list[int] = []
    for i, ch in enumerate(text):
        for c in _folded(ch):
            chars.append(c)
            places.append(i)
    return "".join(chars), tuple(places)


@lru_cache(maxsize=8192)
def _folded(ch: str) -> str:
    return _SPACE.sub("", _DECOR.sub("", unicodedata.normalize("NFKC", ch).translate(_QUOTES)))


def strip_number(text: str) -> str:
    """A normalised label without its leading item number (“(六)”, “一,”, “1.”)."""
    return _NUMBER_PREFIX.sub("", normalise(text))


@dataclass(frozen=True)
class _Candidate:
    node: Node
    keys: tuple[str, ...]  # normalised label, then label joined with 1, 2… parents


def _candidate(node: Node) -> _Candidate:
    parts = [normalise(p) for p in node.path if p]
    keys = tuple("".join(parts[i:]) for i in range(len(parts) - 1, -1, -1))
    return _Candidate(node, keys or ("",))


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _best(scored: Iterable[tuple[float, Node]]) -> list[Node]:
    """The nodes sharing the highest score (several: ambiguous)."""
    best: list[Node] = []
    top = float("-inf")
    for score, node in scored:
        if score > top + 1e-9:
            top, best = score, [node]
        elif abs(score - top) <= 1e-9 and all(n.id != node.id for n in best):
            best.append(node)
    return best


def _tiers(text: str, cands: Sequence[_Candidate], min_ratio: float) -> list[Node]:
    """The nodes of the first tier that matches anything (possibly several)."""
    key = normalise(text)
    if not key:
        return []
    exact = [(1.0, c.node) for c in cands if key in c.keys]
    if exact:
        return _best(exact)
    # Containment: one of the two holds the other. Score by how much of the longer one is
    # covered, so "部分公开" finds the long （二）label but a two-character stray does not win
    # against a closer label. Too short a fragment (one character) never counts.
    contained: list[tuple[float, Node]] = []
    for c in cands:
        label = c.keys[0]
        if not label:
            continue
        short, long_ = (key, label) if len(key) <= len(label) else (label, key)
        if len(short) >= 2 and short in long_:
            bonus = 0.5 if long_.startswith(short) or long_.endswith(short) else 0.0
            contained.append((bonus + len(short) / len(long_), c.node))
    if contained:
        return _best(contained)
    # Numbering stripped on both sides, then compared: "（六）其他" → "其他" vs "其他处理".
    bare = strip_number(text)
    fuzzy: list[tuple[float, Node]] = []
    for c in cands:
        label = c.keys[0]
        if not label:
            continue
        r = max(_ratio(key, label), _ratio(bare, _NUMBER_PREFIX.sub("", label)) if bare else 0.0)
        if r >= min_ratio:
            fuzzy.append((r, c.node))
    return _best(fuzzy)


def match_all(text: str, candidates: Sequence[Node], *, min_ratio: float = 0.8) -> list[Node]:
    """Every node tied for the best match of ``text`` (empty: none; several: ambiguous)."""
    return _tiers(text, [_candidate(n) for n in candidates], min_ratio)


def match(text: str, candidates: Sequence[Node], *, min_ratio: float = 0.8) -> Node | None:
    """The node whose label ``text`` means, or ``None`` when none (or several) fit.

    >>> from xls_gongkai.spec import get_format
    >>> rows = list(get_format(2021).table("t3").row_nodes.values())
    >>> match("(六) 其他", rows).id
    'other_handling'
    """
    found = match_all(text, candidates, min_ratio=min_ratio)
    return found[0] if len(found) == 1 else None


def _is_label(cell: str) -> bool:
    """A stub cell worth matching: not blank, not a bare number."""
    s = normalise(cell)
    return bool(s) and not re.fullmatch(r"[-+]?[\d,.]+", s)


@dataclass(frozen=True, eq=False)
class TableMatcher:
    """Matches printed row and column labels of one table.

    ``row`` and ``column`` take one label or the stub cells of a printed row (or the header
    cells above a column), e.g. ``["三、本年度办理结果", "（三）不予公开", "1.属于国家秘密"]``.
    The last cell is the most specific; earlier cells break ties (the three “结果维持” of 表四)
    and a label split over two cells is joined again. Groups are candidates too: a 2021 table
    that prints （六）其他处理 as one row gives the group node ``other_handling``.
    """

    table: Table
    min_ratio: float = 0.8
    _rows: tuple[_Candidate, ...] = field(init=False, repr=False)
    _columns: tuple[_Candidate, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rows", tuple(_candidate(n) for n in self.table.row_nodes.values()))
        object.__setattr__(self, "_columns", tuple(_candidate(n) for n in self.table.column_nodes.values()))

    def row(self, text_or_cells: str | Sequence[str]) -> Node | None:
        return self._resolve(text_or_cells, self._rows)

    def columns_named(self, text: str) -> list[Node]:
        """Every column tied for the best match of one label (several: "结果维持" of 表四)."""
        return _tiers(text, self._columns, self.min_ratio)

    def column(self, text_or_cells: str | Sequence[str]) -> Node | None:
        return self._resolve(text_or_cells, self._columns)

    def _resolve(self, text_or_cells: str | Sequence[str], cands: Sequence[_Candidate]) -> Node | None:
        cells = [text_or_cells] if isinstance(text_or_cells, str) else list(text_or_cells)
        cells = [c for c in cells if _is_label(c)]
        if not cells:
            return None
        # The whole stub as one string matches a label joined with its parents exactly.
        joined = "".join(normalise(c) for c in cells)
        exact = [c.node for c in cands if joined in c.keys]
        if len(exact) == 1:
            return exact[0]
        attempts = [cells[-1]]
        if len(cells) >= 2:
            attempts.append(cells[-2] + cells[-1])  # a label split across two cells
        for attempt in attempts:
            found = _tiers(attempt, cands, self.min_ratio)
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                narrowed = self._by_context(found, cells[:-1])
                if narrowed is not None:
                    return narrowed
        return None

    def _by_context(self, found: Sequence[Node], context: Sequence[str]) -> Node | None:
        """Of several equally good nodes, the one whose parents the earlier cells name."""
        keys = [normalise(c) for c in context]
        if not keys:
            return None
        scored: list[tuple[float, Node]] = []
        for node in found:
            parents = [normalise(p) for p in node.path[:-1] if p]
            score = 0.0
            for k in keys:
                score += max((1.0 if k == p else _ratio(k, p) for p in parents), default=0.0)
            scored.append((score, node))
        best = _best(scored)
        return best[0] if len(best) == 1 and scored and max(s for s, _ in scored) > 0.5 else None


@lru_cache(maxsize=64)
def matcher(table: Table) -> TableMatcher:
    """A shared :class:`TableMatcher` for a table (built once; the format tables live for the process)."""
    return TableMatcher(table)
