"""Reports published as one line of text: headings, labels and numbers run together.

Some sites publish the annual report as one line, with no separators and no line breaks: a
row's numbers become one run of digits ("801000081" for 80|1|0|0|0|0|81), the number of the
next label sticks to it ("…30000035.属于三类内部事务信息" is 3|0|0|0|0|0|3, then "5.属于…"),
stray spaces fall anywhere and a label may be printed twice where the table was split over two
pages. :func:`unroll` turns such a text back into the paragraphs and table rows that every other
document gives the importer:

1. the text is searched in the folded form labels are compared in (no spaces, half-width,
   :func:`~xls_gongkai.parsing.labels.fold`); the format's section headings, in order, cut it
   into sections, whose prose is cut out of the original text (spaces kept);
2. in a table section, a run of digits that follows a row label of one of the section's tables
   is that row's run; other runs are part of the text around (a header's 保留4位小数). A run that
   ends in a number and a full stop (or 、) gives the number back to the label that follows when
   that label is numbered so;
3. each table's runs are read by :func:`~xls_gongkai.parsing.runs.split_table` under the format's
   relations and the numbers 一、总体情况 restates (R9); a row with several readings, or none, is
   printed blank with an issue that names the row and its candidates — nothing is guessed;
4. each table becomes its header and its rows labelled with the official label path: what the
   shared table finder reads in any document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from xls_gongkai.documents.items import Item, Para, Row
from xls_gongkai.documents.sections import NOTE_WORDS, cn_number
from xls_gongkai.issues import Code, Issue, issue
from xls_gongkai.parsing.labels import fold, matcher, normalise, strip_number
from xls_gongkai.parsing.runs import Reading, TableRuns, Why, split_table
from xls_gongkai.rules import Restated, engine, restated_numbers
from xls_gongkai.spec import PATH_SEP, CellKey, Format, Node, RuleKind, Section, Table

__all__ = ["Unrolled", "flat_labels", "is_flat", "unroll"]

_CN = "一二三四五六七八九十"
_HEADING = re.compile(rf"([{_CN}]+)[,.]|第([{_CN}]+)部分[,.:]?")
#: A run of one row's numbers: digits, decimal points, minus signs of signed cells, 元/万元.
_RUN = re.compile(r"-?\d(?:[\d.]|-(?=\d)|万?元(?=-?\d))*(?:万?元)?")
_ORDINAL = re.compile(r"^(\d{1,2})\.")
#: An item number as printed before a row label: （六） / 一、 / 3. or 3、 (folded).
_MARK = rf"\(([{_CN}]+)\)|([{_CN}]+)[,.]|(\d{{1,2}})[.,]"
_MARK_END = re.compile(f"(?:{_MARK})$")
_MARK_ANY = re.compile(_MARK)
_NOTE = re.compile("|".join(f"{w}:" for w in NOTE_WORDS))
#: How far after its number a heading's words may begin ("五、政府信息公开工作存在的主要问题…").
_HEADING_REACH = 12
#: Row labels, each followed by a digit, that make a paragraph a report printed as one line
#: (prose restates a few: "规章13件，行政规范性文件60件"; 表三 alone has over twenty).
_FLAT_HITS = 8
#: The longest row label the shared matcher is asked about (the official ones have under 50 characters).
_LABEL_CHARS = 60
#: Candidate readings an issue lists; more are counted.
_SHOWN = 6


@dataclass(frozen=True)
class Unrolled:
    """A one-line report as paragraphs and table rows, the issues of its runs, and the cells
    left blank because their run could not be read (not blank in the report)."""

    items: tuple[Item, ...]
    issues: tuple[Issue, ...] = ()
    undecided: frozenset[CellKey] = frozenset()


# --------------------------------------------------------------------------- is it one line?


@cache
def _row_words(fmt: Format) -> re.Pattern[str]:
    """Any leaf row label of the format (without its number) followed by a digit."""
    words = sorted({w for t in fmt.tables for n in t.leaf_rows if len(w := strip_number(n.label)) >= 2}, key=len)
    return re.compile("(" + "|".join(re.escape(w) for w in reversed(words)) + r")(?=-?\d)")


def _document_text(items: Sequence[Item]) -> str:
    return "\n".join(i.text if isinstance(i, Para) else "\t".join(i.cells) for i in items)


def is_flat(items: Sequence[Item], formats: Sequence[Format]) -> bool:
    """Whether a document is a report printed as one line (or as lines that keep no cells
    apart): it has no table rows with figures, and its text has row labels of one of
    ``formats`` each followed by a number."""
    if sum(1 for i in items if isinstance(i, Row) and any(any(ch.isdigit() for ch in c) for c in i.cells)) >= 3:
        return False
    text = normalise("\n".join(i.text for i in items if isinstance(i, Para)))
    return any(len(set(_row_words(f).findall(text))) >= _FLAT_HITS for f in formats)


def flat_labels(items: Sequence[Item], formats: Sequence[Format]) -> frozenset[str]:
    """The labels of ``formats`` a one-line report holds, normalised as table cells are (what
    tells the formats apart when the document has no table rows); empty for other documents."""
    if not is_flat(items, formats):
        return frozenset()
    folded = normalise(_document_text(items))
    out: set[str] = set()  # the whole text: 2019's 政府集中采购 may stand far from the rest
    for fmt in formats:
        for label in fmt.leaf_labels:
            if len(strip_number(label)) >= 2 and strip_number(label) in folded:
                out.update((normalise(label), strip_number(label)))
    return frozenset(out)


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class _Heading:
    section: Section
    start: int  # in the folded text
    end: int


def _heading_at(folded: str, start: int, words: Sequence[str], numbers: set[int]) -> tuple[int, int, int] | None:
    """(start, end, number) of the first heading after ``start`` numbered one of ``numbers``
    whose words follow its number closely, with no figure or sentence between."""
    reach = _HEADING_REACH + max(len(w) for w in words)
    for m in _HEADING.finditer(folded, start):
        number = cn_number(m.group(1) or m.group(2))
        if number not in numbers:
            continue
        window = folded[m.end() : m.end() + reach]
        for w in words:
            i = window.find(w)
            if 0 <= i <= _HEADING_REACH and not re.search(r"[\d.]", window[:i]):
                return m.start(), m.end() + i + len(w), number
    return None


def _headings(folded: str, fmt: Format) -> list[_Heading]:
    """The format's section headings in the text, in order (a section not found is skipped);
    numbered as in the format, or next after the one before (a report that dropped one)."""
    out: list[_Heading] = []
    pos = number = 0
    for order, section in enumerate(fmt.sections, 1):
        words = [strip_number(section.label), *(w for a in section.aliases if len(w := normalise(a)) >= 4)]
        found = _heading_at(folded, pos, [w for w in words if w], {order, number + 1})
        if found is not None:
            out.append(_Heading(section, found[0], found[1]))
            pos, number = found[1], found[2]
    return out


# --------------------------------------------------------------------------- runs of a table section


@dataclass(frozen=True)
class _Label:
    word: str  # folded, without its number
    table: Table
    node: Node
    number: str  # its printed item number ("5" of 5.属于三类内部事务信息), "" if none


@cache
def _labels(tables: tuple[Table, ...]) -> tuple[_Label, ...]:
    """Every row label of the tables, longest first."""
    out = []
    for t in tables:
        for node in t.row_nodes.values():
            if node.label and (word := strip_number(node.label)):
                m = _ORDINAL.match(normalise(node.label))
                out.append(_Label(word, t, node, m.group(1) if m else ""))
    return tuple(sorted(out, key=lambda x: -len(x.word)))


@cache
def _header_words(tables: tuple[Table, ...]) -> tuple[str, ...]:
    """What a table's header holds: its title, corner and column labels (folded)."""
    words = {strip_number(t.title) for t in tables} | {normalise(t.corner) for t in tables}
    words |= {strip_number(n.label) for t in tables for n in t.column_nodes.values()}
    return tuple(w for w in words if len(w) >= 2)


@dataclass
class _Runs:
    """What one table section holds: each table's rows' runs in order, and what did not fit."""

    runs: dict[str, dict[str, str]] = field(default_factory=dict)  # table id → row id → run
    strays: list[tuple[int, int]] = field(default_factory=list)  # folded spans of unplaced figures
    note: int | None = None  # where a note under the tables begins (folded)
    issues: list[Issue] = field(default_factory=list)


class _SectionReader:
    """The runs of one table section (see the module docstring, step 2)."""

    def __init__(self, folded: str, tables: tuple[Table, ...]) -> None:
        self.folded = folded
        self.tables = tables
        self.labels = _labels(tables)
        self.header = _header_words(tables)
        self.out = _Runs()

    def _label_after(self, pos: int) -> _Label | None:
        return next((x for x in self.labels if self.folded.startswith(x.word, pos)), None)

    def _give_back(self, run: str, end: int, limit: int) -> str:
        """The run without the item number of the label that follows it: "35." before
        属于三类… is 3 and the label's 5; "63、其他" is 6 and 3、其他. A run followed by a full stop
        (or 、) and no digit ends in an item number; its digits are the label's own when the
        label is known, else one (the official tables number items 1 to 8)."""
        folded = self.folded
        if run.endswith(".") and (end >= limit or not folded[end].isdigit()):
            digits, after = run[:-1], end
        elif end < limit - 1 and folded[end] == "," and not folded[end + 1].isdigit():
            digits, after = run, end + 1
        else:
            return run
        label = self._label_after(after)
        if label is not None and label.number and digits.endswith(label.number):
            return digits[: -len(label.number)]
        return digits[:-1] if digits[-1:].isdigit() else digits

    def _row(self, stub: str, current: Table | None) -> tuple[Table, Node, int] | None:
        """The row whose label ends ``stub`` and where its label begins: the longest label
        (the current table's first among equals) whose own item number agrees with the one
        printed before it, else the label from the last item number on as the shared matcher
        reads it ("（六）其他" is （六）其他处理), else the one row of an unlabelled table not yet
        read (表四's fifteen numbers)."""
        hits = [x for x in self.labels if stub.endswith(x.word) and _agrees(stub[: -len(x.word)], x.node)]
        if hits:
            best = [x for x in hits if len(x.word) == len(hits[0].word)]
            chosen = next((x for x in best if x.table is current), best[0])
            return chosen.table, chosen.node, len(stub) - len(chosen.word)
        marks = list(_MARK_ANY.finditer(stub))
        if marks and len(stub) - marks[-1].start() <= _LABEL_CHARS:
            tail = stub[marks[-1].start() :]
            for t in sorted(self.tables, key=lambda t: t is not current):
                node = matcher(t).row([tail])
                if node is not None:
                    return t, node, marks[-1].start()
        for t in self.tables:
            if len(t.leaf_rows) == 1 and not t.leaf_rows[0].label and t.id not in self.out.runs:
                return t, t.leaf_rows[0], len(stub)
        return None

    def _record(self, table: Table, node: Node, data: str) -> None:
        """A row's run ("" for a row printed without numbers, unless it has a run elsewhere)."""
        rows = self.out.runs.setdefault(table.id, {})
        if not rows.get(node.id):
            rows[node.id] = data
        elif data and rows[node.id] != data:
            note = f"{table.name}“{node.path_text}”行出现两次，第二次的数字“{data}”未导入"
            self.out.issues.append(issue(Code.NOT_IMPORTED, note=note, found=data, table=table.id, row=node.id))

    def _blank_rows(self, text: str) -> None:
        """Rows labelled in ``text`` without numbers after them: printed blank. Only once a
        table's rows have begun, and a label that is also a column label (其他, 总计) only with
        its item number before it: a header printed again is no row."""
        if not self.out.runs or not self.labels:
            return
        for m in _label_pattern(self.labels).finditer(text):
            label = self.labels[_label_index(self.labels)[m.group()]]
            before = text[: m.start()]
            if not label.node.is_leaf or not _agrees(before, label.node):
                continue
            if label.word in self.header and not _MARK_END.search(before):
                continue
            self._record(label.table, label.node, "")

    def read(self, start: int, limit: int) -> _Runs:
        folded, out = self.folded, self.out
        stub, current = start, None
        for m in _RUN.finditer(folded, start, limit):
            data = self._give_back(m.group(), m.end(), limit)
            text = folded[stub : m.start()]
            titled = [t for t in self.tables if strip_number(t.title) in text]
            current = titled[-1] if titled else current
            if not data:
                continue  # only the number of the label that follows
            found = self._row(text, current)
            if found is None:
                if not any(w in text for w in self.header):
                    out.strays.append((stub, m.end()))
                    stub = m.end()
                continue
            table, node, begins = found
            self._blank_rows(text[:begins])
            self._record(table, node, data)
            stub = m.start() + len(data)
            current = table
        under = _NOTE.search(folded, stub, limit)
        self._blank_rows(folded[stub : under.start() if under else limit])
        out.note = under.start() if under else None
        return out


def _number(mark: re.Match[str] | None) -> tuple[int, str] | None:
    """An item number as (kind, number): （六） and 六、 and 6. are three kinds."""
    if mark is None:
        return None
    kind = next(i for i in (1, 2, 3) if mark.group(i))
    return kind, mark.group(kind)


def _agrees(before: str, node: Node) -> bool:
    """Whether the item number printed right before a label (if any) is the row's own."""
    printed = _number(_MARK_END.search(before))
    own = _number(_MARK_ANY.match(normalise(node.label)))
    return printed is None or own is None or printed == own


@cache
def _label_pattern(labels: tuple[_Label, ...]) -> re.Pattern[str]:
    """Any of the labels, longest first (leftmost-longest: 其他法律… before 其他)."""
    return re.compile("|".join(re.escape(x.word) for x in labels))


@cache
def _label_index(labels: tuple[_Label, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, x in enumerate(labels):
        out.setdefault(x.word, i)
    return out


# --------------------------------------------------------------------------- back to rows


def _place(table: Table, node: Node) -> str:
    return f"{table.name}“{node.path_text}”行" if node.path_text else table.name


def _run_issues(table: Table, runs: dict[str, str], split: TableRuns, related: bool) -> list[Issue]:
    """One issue per row whose run was not read: its candidates, or why there are none."""
    out: list[Issue] = []
    n = len(table.leaf_columns)
    for row, run in runs.items():
        node = table.row_nodes[row]
        where = {"sheet": table.sheet, "table": table.id, "row": row, "row_label": node.path_text, "found": run}
        readings = split.ambiguous.get(row)
        if readings is not None:
            shown = "；".join(r.text for r in readings[:_SHOWN]) + ("等" if len(readings) > _SHOWN else "")
            if split.by_columns:
                basis = "全部校验规则"
            elif split.gave_up:
                basis = "本行的勾稽关系（各行的组合太多，未能再用其他规则区分）"
            elif related:
                basis = "本行的勾稽关系（其他规则不能区分它们）"
            else:
                basis = "格式的规则（本表没有勾稽关系）"
            expected = "；".join(r.text for r in readings)
            out.append(
                issue(
                    Code.DIGITS_AMBIGUOUS,
                    place=_place(table, node),
                    count=len(readings),
                    basis=basis,
                    candidates=shown,
                    expected=expected,
                    **where,
                )
            )
        elif row in split.failed:
            if split.failed[row] is Why.MANY:
                reason = "可能的拆分太多，无法确定"
            elif related:
                reason = f"没有一种拆分为 {n} 个数的方式符合本行的勾稽关系（报告可能留了空白单元格，或数字有误）"
            else:
                reason = f"不能拆分为 {n} 个数（报告可能留了空白单元格）"
            out.append(issue(Code.DIGITS_UNSPLIT, place=_place(table, node), reason=reason, **where))
    return out


def _table_items(table: Table, runs: dict[str, str], split: TableRuns) -> list[Item]:
    """The table as a header and rows labelled by their official label paths (what Markdown
    prints), a row not read left blank; an unlabelled row not read is left out."""
    labelled = any(n.label for n in table.row_nodes.values())
    head = tuple(c.path_text for c in table.leaf_columns)
    out: list[Item] = [Row((table.corner or "项目", *head) if labelled else head)]
    for row in runs:
        reading: Reading | None = split.decided.get(row)
        cells = reading.texts if reading is not None else ("",) * len(head)
        node = table.row_nodes[row]
        if labelled:
            out.append(Row((PATH_SEP.join(p for p in node.path if p), *cells)))
        elif reading is not None:
            out.append(Row(cells))
    return out


def _facts(fmt: Format, texts: dict[str, str]) -> list[Restated]:
    return [f for rule in fmt.rules_of(RuleKind.RESTATED) for f in restated_numbers(rule, texts.get(rule.section, ""))]


def _paras(text: str) -> list[Item]:
    return [Para(line.strip()) for line in text.split("\n") if line.strip()]


@dataclass
class _Unroller:
    """One document's text cut into sections and read back (see :func:`unroll`)."""

    fmt: Format
    text: str
    folded: str
    places: tuple[int, ...]
    items: list[Item] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    undecided: set[CellKey] = field(default_factory=set)

    def original(self, start: int, end: int) -> str:
        """The original text of a folded span (spaces and line breaks inside it kept)."""
        if start >= end:
            return ""
        stop = self.places[end] if end < len(self.places) else len(self.text)
        return self.text[self.places[start] : stop]

    def tables(self, section: Section, start: int, end: int, facts: list[Restated]) -> None:
        tables = tuple(self.fmt.table(t) for t in section.tables)
        found = _SectionReader(self.folded, tables).read(start, end)
        self.issues.extend(found.issues)
        eng = engine(self.fmt)
        for table in tables:
            runs = found.runs.get(table.id)
            if not runs:
                continue
            printed = {r: run for r, run in runs.items() if run}
            split = split_table(table, printed, eng, facts)
            related = any(c.table is table and c.rule.kind is RuleKind.EQUATION for c in eng.checks)
            self.issues.extend(_run_issues(table, printed, split, related))
            for row in printed:
                if row not in split.decided:
                    keys = {(table.id, r.id, c.id) for r in table.row_nodes[row].walk() for c in table.leaf_columns}
                    self.undecided.update(keys)
            if len(tables) > 1:
                self.items.append(Para(table.title))
            self.items.extend(_table_items(table, runs, split))
        self.items.extend(Para(self.original(a, b).strip()) for a, b in found.strays)
        if found.note is not None:
            self.items.extend(_paras(self.original(found.note, end)))


def unroll(items: Sequence[Item], fmt: Format) -> Unrolled | None:
    """A report printed as one line (:func:`is_flat`) as paragraphs and table rows of ``fmt``;
    None when none of the format's table sections is found in it."""
    text = _document_text(items)
    folded, places = fold(text)
    heads = _headings(folded, fmt)
    if not any(h.section.kind != "text" for h in heads):
        return None
    u = _Unroller(fmt, text, folded, places)
    ends = [*(h.start for h in heads[1:]), len(folded)]
    texts = {h.section.id: u.original(h.end, e) for h, e in zip(heads, ends, strict=True) if h.section.kind == "text"}
    facts = _facts(fmt, texts)
    u.items.extend(_paras(u.original(0, heads[0].start)))
    for h, end in zip(heads, ends, strict=True):
        u.items.append(Para(u.original(h.start, h.end).strip()))
        if h.section.kind == "text":
            u.items.extend(_paras(texts[h.section.id]))
        else:
            u.tables(h.section, h.end, end, facts)
    return Unrolled(tuple(u.items), tuple(u.issues), frozenset(u.undecided))
