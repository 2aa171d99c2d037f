"""A report document split into its sections, by headings the format names.

A paragraph is a section heading when it is numbered like one (三、… or 第三部分 …) and its
words name a section of the format — its label or one of its ``aliases`` (a report renumbers
or rewords headings: 存在的主要问题及整改措施). A heading opens its section only moving forward
and where its number fits (the official place, or next after the last section: a report that
dropped or merged one), or when it reads almost like the official heading (renumbered around a
section the unit inserted); so "三、主动公开政府信息工作的体会" inside 一 stays text of 一.

The text sections' paragraphs become the report's texts; everything of the table sections —
table rows, a row label on a line of its own, block titles, the headings themselves — becomes
one grid for :func:`xls_gongkai.parsing.grid.find_tables`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from xls_gongkai.documents.items import Item, Row
from xls_gongkai.parsing.labels import normalise, strip_number
from xls_gongkai.spec import Format, Section

__all__ = ["NOTE_WORDS", "Heading", "Parts", "clean", "cn_number", "heading", "split_sections"]

_CN_NUM = "一二三四五六七八九十"
_HEADING = re.compile(rf"^(?:([{_CN_NUM}]+)[、,.．，]|第([{_CN_NUM}]+)部分[、,.．，:：]?)\s*(.{{2,60}})$")
_WS = re.compile(r"\s+")
_WIDE_GAP = re.compile(r"\s{2,}|\u3000+")
#: How a note under a table begins (注：行政复议、行政诉讼数量含上年度结转数量。).
NOTE_WORDS = ("注", "备注", "说明")
#: A heading reworded this much like the official one opens its section wherever it is numbered.
_LIKE_OFFICIAL = 0.72


def clean(text: str) -> str:
    """A paragraph without Markdown decoration (#, **, >) and surrounding space."""
    t = text.strip()
    t = re.sub(r"^#{1,6}\s*", "", t)
    t = re.sub(r"^>\s*", "", t)
    t = t.replace("**", "").replace("__", "")
    return t.strip()


@dataclass(frozen=True)
class Heading:
    """A paragraph that names a section: which, its place in the format, its printed number."""

    section: Section
    order: int  # 1-based place of the section in the format
    number: int  # as printed (三 → 3)
    likeness: float  # similarity of its words to the section's label


def cn_number(text: str) -> int:
    """A heading's number written in Chinese (三 → 3, 十二 → 12)."""
    digits = {c: i + 1 for i, c in enumerate(_CN_NUM)}
    if text.startswith("十"):
        return 10 + (digits.get(text[1:], 0) if len(text) > 1 else 0)
    if len(text) == 2 and text[1] == "十":
        return digits.get(text[0], 0) * 10
    return digits.get(text[0], 0)


@lru_cache(maxsize=8192)
def heading(text: str, fmt: Format) -> Heading | None:
    """The section a paragraph may be the heading of (its words name the section)."""
    flat = _WS.sub("", unicodedata.normalize("NFKC", clean(text)))
    m = _HEADING.match(flat)
    if not m or flat.endswith(("。", ".")) or "。" in flat:
        return None
    body = normalise(m.group(3))
    for order, section in enumerate(fmt.sections, 1):
        official = strip_number(section.label)
        words = [w for w in (official, *(normalise(a) for a in section.aliases)) if w]
        if any(w in body for w in words):
            likeness = SequenceMatcher(None, body, official, autojunk=False).ratio()
            return Heading(section, order, cn_number(m.group(1) or m.group(2)), likeness)
    return None


@dataclass
class Parts:
    """A document split up: preamble, texts by section, and the grid of its table parts."""

    preamble: list[str] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)
    #: every table row and table-section line, in document order: the grid of the tables
    rows: list[tuple[str, ...]] = field(default_factory=list)
    #: grid rows that are section headings (not content of their own)
    heading_rows: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


class _Splitter:
    def __init__(self, fmt: Format) -> None:
        self.fmt = fmt
        self.parts = Parts()
        self.section: Section | None = None
        self.order = 0
        self.number = 0

    def item(self, item: Item) -> None:
        if isinstance(item, Row):
            distinct = {normalise(c) for c in item.cells if c.strip()}
            only = next((c for c in item.cells if c.strip()), "")
            # A section heading typed into a table cell, or spanning a table's width.
            if len(distinct) == 1 and heading(only, self.fmt) is not None:
                self.para(only)
            elif distinct:
                self.parts.rows.append(tuple(c.strip() for c in item.cells))
        else:
            self.para(item.text)

    def _opens(self, h: Heading) -> bool:
        if self.section is not None and h.order <= self.order:
            return False
        return h.number == h.order or h.number == self.number + 1 or h.likeness >= _LIKE_OFFICIAL

    def para(self, text: str) -> None:
        line = clean(text)
        if not line:
            return
        h = heading(line, self.fmt)
        parts = self.parts
        if h is not None and self._opens(h):
            self.section, self.order, self.number = h.section, h.order, h.number
            if h.section.kind == "text":
                parts.texts.setdefault(h.section.id, [])
            else:
                parts.heading_rows.add(len(parts.rows))
                parts.rows.append((line,))
        elif self.section is None:
            parts.preamble.append(line)
        elif self.section.kind == "text":
            parts.texts[self.section.id].append(line)
        elif line.startswith(NOTE_WORDS):
            parts.notes.append(line)
        else:
            # A row label on a line of its own, a block title, a stray sentence: the grid decides.
            parts.rows.append(tuple(c for c in _WIDE_GAP.split(line) if c))


def split_sections(items: Sequence[Item], fmt: Format) -> Parts:
    """The document's preamble, section texts and table grid (see the module docstring)."""
    splitter = _Splitter(fmt)
    for item in items:
        splitter.item(item)
    return splitter.parts
