"""Import a published annual report (plain text, Markdown, HTML, Word or PDF) into a Report.

Published reports copy the official tables, but not exactly: labels have typos and variant
brackets, cells are left blank, amounts carry units, rows are split or merged, sections are
renumbered (FORMATS.md §6). The importer therefore never relies on positions in the document:

1. the source is turned into a flat sequence of *paragraphs* and *table rows* (a plain-text
   line with tabs, a Markdown pipe row, an HTML or Word table row with its merged cells
   expanded into a grid, a PDF's line as ``pdftotext -layout`` sets it out with spaces);
2. paragraphs that are section headings (一…六, recognised by their words; a heading opens its
   section only moving forward and where its number fits, so sub-headings stay text) split
   the text into sections; the texts of 一、五、六 become ``Report.texts`` s1, s5, s6;
3. table rows are matched to rows and columns by their labels with :mod:`xls_gongkai.parsing.labels`
   (the same matcher the workbook reader uses), values are parsed with
   :func:`xls_gongkai.parsing.values.parse_cell`;
4. all rules are checked, plus R9: numbers restated in 一、总体情况 against the tables.

Blank cells stay missing in the Report. For the checks a blank *total* is taken as the sum of
its parts (a report that prints no total claims nothing that could be wrong), so the rules
flag only numbers that the document actually contradicts.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from xls_gongkai.batch.parallel import crashed, map_files
from xls_gongkai.errors import UnreadableWorkbookError, UsageError, XlsGongkaiError
from xls_gongkai.issues import Code, Issue, Result
from xls_gongkai.parsing.labels import matcher, normalise, strip_number
from xls_gongkai.parsing.values import parse_cell
from xls_gongkai.report import CellKey, Report, Unit, Value
from xls_gongkai.rules import check_report, computed_cells, format_number, side_value
from xls_gongkai.spec import (
    PATH_SEP,
    CellKind,
    Format,
    Node,
    Severity,
    Table,
    builtin_formats,
    format_for_year,
    get_format,
)

__all__ = [
    "PARALLEL_FROM",
    "R9",
    "SUFFIXES",
    "Para",
    "Restated",
    "Row",
    "UnreadableDocumentError",
    "detect_format",
    "document_items",
    "import_document",
    "import_many",
    "import_text",
    "restated_numbers",
    "totals_filled",
]

R9 = "R9"
SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf")
# Placeholders the renderer inserts for missing texts; they are not the unit's text.
_PLACEHOLDER_MARK = "【待补充】"
_MAX_BYTES = 50 * 1024 * 1024
#: import_many starts worker processes from this many documents on: a document takes a few
#: milliseconds, and starting the workers about a second (measured on a shared 2-core machine).
PARALLEL_FROM = 256


class UnreadableDocumentError(UnreadableWorkbookError):
    """A report document that cannot be read at all (not text, corrupt .docx, no report in it)."""


# --------------------------------------------------------------------------- document items


@dataclass(frozen=True)
class Para:
    """A paragraph of running text (a heading, a title, a sentence block)."""

    text: str


@dataclass(frozen=True)
class Row:
    """One table row: its cells left to right (merged cells repeated, as in a grid)."""

    cells: tuple[str, ...]
    table: int = 0  # which source table it came from (HTML/DOCX); 0 for text


Item = Para | Row

_MD_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")


# Page numbers a PDF's text carries: "—3—", "- 3 -", "第3页", "第 3 页 共 10 页", "3/10".
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－]+\s*\d{1,4}\s*[-—–－]+|第\s*\d{1,4}\s*页(?:\s*[，,]?\s*共\s*\d{1,4}\s*页)?|\d{1,4}\s*/\s*\d{1,4})$"
)
_SENTENCE_END = tuple("。！？；：.!?;:”」）)")


_NUM_TOKEN = r"[-+]?\d[\d,]*(?:\.\d+)?"
_NUMBERS_ONLY = re.compile(rf"^{_NUM_TOKEN}(?:\s+{_NUM_TOKEN})+$")
_LABEL_NUMBERS = re.compile(rf"^(\D.*?)\s+({_NUM_TOKEN}(?:\s+{_NUM_TOKEN})+)$")


def _space_row(line: str) -> tuple[str, ...] | None:
    """A table row of text copied out of a PDF (``pdftotext -layout``): cells apart by spaces.

    Only unmistakable shapes: a row of numbers ("72 64 178 …"), a label followed by two or
    more numbers ("规章 1 0 11"), or cells set apart by runs of two or more spaces. Blank
    cells cannot be seen in such text; a row that loses one is caught by the rules.
    """
    if _NUMBERS_ONLY.match(line):
        return tuple(line.split())
    if re.search(r"[。；]", line):
        return None
    wide = [c.strip() for c in re.split(r"\s{2,}|\u3000+", line) if c.strip()]
    layout = re.search(r"\S\s{3,}\S", line) is not None  # a wide gap: set out as columns, not prose
    if len(wide) >= 3 or (len(wide) == 2 and len(line) <= 80 and (layout or not re.search(r"[，,]", line))):
        # Two numbers only one space apart are still two cells ("136 146").
        return tuple(part for c in wide for part in (c.split() if _NUMBERS_ONLY.match(c) else [c]))
    m = _LABEL_NUMBERS.match(line)
    if m and not re.search(r"[，,]", m.group(1)) and len(m.group(1)) <= 60:
        return (m.group(1).strip(), *m.group(2).split())
    return None


def _text_items(text: str, *, wrapped: bool = False) -> list[Item]:
    """Plain text (tables as tab-separated rows) or Markdown (pipe tables).

    ``wrapped``: the text was copied out of a PDF, whose lines break inside sentences; a long
    line that does not end a sentence is joined with the next.
    """
    items: list[Item] = []
    for raw in text.splitlines():
        line = raw.rstrip("\r\n").replace("\f", "")
        stripped = line.strip()
        if not stripped or (wrapped and _PAGE_NUMBER.match(stripped)):
            continue
        if stripped.startswith("|") and stripped.count("|") >= 2:
            if _MD_SEPARATOR.match(stripped):
                continue
            body = stripped[1:-1] if stripped.endswith("|") and not stripped.endswith("\\|") else stripped[1:]
            cells = [c.replace("\\|", "|").strip() for c in re.split(r"(?<!\\)\|", body)]
            items.append(Row(tuple(cells)))
        elif "\t" in line:
            items.append(Row(tuple(c.strip() for c in line.split("\t"))))
        elif wrapped and (spaced := _space_row(stripped)) is not None:
            items.append(Row(spaced))
        elif (
            wrapped
            and items
            and isinstance(items[-1], Para)
            and len(items[-1].text) >= 20
            and not items[-1].text.endswith(_SENTENCE_END)
            and _heading_section(items[-1].text) is None
            and _heading_section(stripped) is None
        ):
            items[-1] = Para(items[-1].text + stripped)
        else:
            items.append(Para(stripped))
    return items


@dataclass
class _Frame:
    """A <table> being read: its rows so far, the open cell, and whether it is only layout."""

    rows: list[list[tuple[str, int, int]]] = field(default_factory=list)
    cell: list[str] | None = None
    span: tuple[int, int] = (1, 1)
    layout: bool = False


class _HtmlItems(HTMLParser):
    """Paragraphs and table rows of an HTML page, spans expanded into a grid.

    Government pages often wrap the whole article in a layout table (one big cell holding
    paragraphs and the real tables). A table that contains another table, or has one cell
    only, is treated as layout: its cells' text becomes paragraphs, in document order.
    Unclosed <td>/<tr> (common in hand-edited pages) are closed by the next one.
    """

    _BLOCKS = frozenset(
        {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "section", "article", "center", "blockquote", "ul"}
    )
    _SKIP = frozenset({"script", "style", "head", "title", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[Item] = []
        self._text: list[str] = []
        self._skip = 0
        self._frames: list[_Frame] = []
        self._tables = 0

    def _paras(self, text: str) -> None:
        for line in text.split("\n"):
            line = " ".join(line.split())
            if line:
                self.items.append(Para(line))

    def _flush(self) -> None:
        self._paras("".join(self._text))
        self._text = []

    def _close_cell(self) -> None:
        frame = self._frames[-1]
        if frame.cell is None:
            return
        text = "".join(frame.cell)
        if frame.layout:
            self._paras(text)
        else:
            if not frame.rows:
                frame.rows.append([])
            frame.rows[-1].append((text, *frame.span))
        frame.cell = None

    def _to_layout(self, frame: _Frame) -> None:
        """The table turned out to be layout: what it held so far is running text."""
        if frame.layout:
            return
        frame.layout = True
        for row in frame.rows:
            for text, _rs, _cs in row:
                self._paras(text)
        frame.rows = []
        if frame.cell is not None:
            self._paras("".join(frame.cell))
            frame.cell = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
            return
        frame = self._frames[-1] if self._frames else None
        if tag == "table":
            if frame is None:
                self._flush()
            else:
                self._to_layout(frame)
            self._frames.append(_Frame())
        elif frame is not None and tag == "tr":
            self._close_cell()
            if not frame.layout:
                frame.rows.append([])
        elif frame is not None and tag in ("td", "th"):
            self._close_cell()
            a = dict(attrs)
            frame.cell = []
            frame.span = (_int(a.get("rowspan")), _int(a.get("colspan")))
        elif frame is not None and frame.cell is not None and tag in self._BLOCKS:
            frame.cell.append("\n")
        elif frame is None and tag in self._BLOCKS:
            if tag == "br":
                self._text.append("\n")
            else:
                self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
            return
        frame = self._frames[-1] if self._frames else None
        if frame is not None and tag in ("td", "th", "tr"):
            self._close_cell()
        elif frame is not None and tag == "table":
            self._close_cell()
            self._frames.pop()
            if frame.layout:
                return
            if sum(len(r) for r in frame.rows) <= 1:
                for row in frame.rows:  # a one-cell box around the text
                    for text, _rs, _cs in row:
                        self._paras(text)
                return
            self._tables += 1
            for cells in _expand_spans([r for r in frame.rows if r]):
                self.items.append(Row(tuple(" ".join(c.split()) for c in cells), self._tables))
        elif frame is not None and frame.cell is not None and tag in self._BLOCKS:
            frame.cell.append("\n")
        elif frame is None and tag in self._BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        frame = self._frames[-1] if self._frames else None
        if frame is None:
            self._text.append(data.replace("\n", " "))
        elif frame.cell is not None:
            frame.cell.append(data.replace("\n", " "))

    def close(self) -> None:
        super().close()
        while self._frames:
            self.handle_endtag("table")
        self._flush()


def _int(text: str | None) -> int:
    try:
        return max(1, min(int(text or "1"), 200))
    except ValueError:
        return 1


def _expand_spans(rows: list[list[tuple[str, int, int]]]) -> list[list[str]]:
    """Rows of (text, rowspan, colspan) as a full grid, a merged cell's text in every slot."""
    grid: dict[tuple[int, int], str] = {}
    width = 0
    for r, cells in enumerate(rows):
        c = 0
        for text, rowspan, colspan in cells:
            while (r, c) in grid:
                c += 1
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(r + dr, c + dc)] = text
            c += colspan
            width = max(width, c)
    height = max((r for r, _ in grid), default=-1) + 1
    return [[grid.get((r, c), "") for c in range(width)] for r in range(height)]


def _html_items(text: str) -> list[Item]:
    parser = _HtmlItems()
    parser.feed(text)
    parser.close()
    return parser.items


def _docx_items(path: Path) -> list[Item]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.oxml.ns import qn
    from docx.table import Table as DocxTable

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise UnreadableDocumentError(
            f"文件 {path} 不是可读取的 Word 文档（.docx）：{exc}。请用 Word 或 WPS 打开后另存为 .docx 再试。"
        ) from exc
    except Exception as exc:  # a corrupt zip or XML: python-docx raises many kinds
        raise UnreadableDocumentError(f"文件 {path} 已损坏，无法读取：{exc}。请重新导出该文档。") from exc
    items: list[Item] = []
    n = 0
    for element in document.element.body.iterchildren():
        if element.tag == qn("w:p"):
            # Line breaks and tabs typed into a paragraph (a table typed as text) are kept.
            parts = []
            for node in element.iter(qn("w:t"), qn("w:br"), qn("w:cr"), qn("w:tab")):
                parts.append(node.text or "" if node.tag == qn("w:t") else "\t" if node.tag == qn("w:tab") else "\n")
            for line in "".join(parts).split("\n"):
                if "\t" in line and line.strip():
                    items.append(Row(tuple(c.strip() for c in line.split("\t"))))
                elif line.strip():
                    items.append(Para(line.strip()))
        elif element.tag == qn("w:tbl"):
            n += 1
            table = DocxTable(element, document)
            # python-docx repeats a merged cell in every grid slot it covers, like an expanded HTML grid.
            for row in table.rows:
                items.append(Row(tuple(" ".join(c.text.split()) for c in row.cells), n))
    return items


def _pdf_text(path: Path) -> str:
    """The text of a PDF laid out as on the page (poppler's ``pdftotext -layout``)."""
    exe = shutil.which("pdftotext")
    if exe is None:
        raise UsageError(
            f"读取 PDF（{path}）需要 pdftotext（poppler-utils）。请安装后再试，或把 PDF 的文字复制出来另存为 .txt。"
        )
    try:
        proc = subprocess.run(
            [exe, "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UnreadableDocumentError(f"无法读取 PDF 文件 {path}：{exc}。") from exc
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UnreadableDocumentError(
            f"文件 {path} 不是可读取的 PDF（{detail[-1] if detail else proc.returncode}）。请确认文件完整。"
        )
    text = proc.stdout.decode("utf-8", "replace")
    if not text.strip():
        raise UnreadableDocumentError(
            f"PDF 文件 {path} 没有文字层（可能是扫描件）。请用带文字的 PDF、Word 或网页版本，或先做文字识别。"
        )
    return text


def _decode(data: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableDocumentError(f"文件 {path} 既不是 UTF-8 也不是 GBK 编码的文本。请另存为 UTF-8 文本再试。")


def document_items(path: str | Path) -> list[Item]:
    """The paragraphs and table rows of a report document, in document order.

    Raises :class:`UnreadableDocumentError` for a missing, corrupt or binary file and
    :class:`~xls_gongkai.errors.UsageError` for a file type that is not supported.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(
            f"不支持的文件类型“{p.suffix or p.name}”（{p}）。可导入：纯文本 .txt、Markdown .md、网页 .html、"
            "Word .docx、PDF .pdf（需安装 pdftotext）；.doc/.wps 请先另存为 .docx。"
        )
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise UnreadableDocumentError(f"无法读取文件 {p}：{exc.strerror or exc}。请检查路径。") from exc
    if size > _MAX_BYTES:
        raise UnreadableDocumentError(f"文件 {p} 过大（{size // 1024 // 1024} MB），不像一份年度报告。")
    if suffix == ".docx":
        return _docx_items(p)
    if suffix == ".pdf":
        return _text_items(_pdf_text(p), wrapped=True)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise UnreadableDocumentError(f"无法读取文件 {p}：{exc.strerror or exc}。请检查路径和权限。") from exc
    if b"\x00" in data[:4096]:
        raise UnreadableDocumentError(f"文件 {p} 是二进制文件，不是文本。请确认文件类型。")
    text = _decode(data, p)
    if suffix in (".html", ".htm"):
        return _html_items(text)
    return _text_items(text, wrapped=suffix in (".txt", ".text"))


# --------------------------------------------------------------------------- recognising things

_CN_NUM = "一二三四五六七八九十"
_HEADING = re.compile(rf"^(?:([{_CN_NUM}]+)[、,.．，]|第([{_CN_NUM}]+)部分[、,.．，:：]?)\s*(.{{2,60}})$")
_T2_TITLE = re.compile(rf"第二十条第[(（]\s*([{_CN_NUM}]+)\s*[)）]项")
_TITLE = re.compile(r"^(.*?)((?:19|20)\d{2})年度?(.*?)(?:政府信息公开|政务公开).*报告")
_WS = re.compile(r"\s+")
_CN_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_PERIOD = re.compile(r"((?:19|20)\d{2})年1月1日")
# Words that name a section, tried in this order (renumbered sections are found by them).
_SECTION_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("s1", ("总体情况",)),
    ("s2", ("主动公开政府信息",)),
    ("s3", ("收到和处理", "申请情况")),
    ("s4", ("行政复议", "行政诉讼")),
    ("s5", ("存在的主要问题", "主要问题", "改进情况", "整改")),
    ("s6", ("其他需要报告", "其他事项")),
)
_FORMAT_MARKERS: dict[str, tuple[str, ...]] = {
    "gongkai-2021": ("本年制发件数", "本年废止件数", "现行有效件数", "行政规范性文件", "本年收费金额", "逾期不补正"),
    "gongkai-2019": (
        "本年新制作数量",
        "本年新公开数量",
        "对外公开总数量",
        "上一年项目数量",
        "采购项目数量",
        "政府集中采购",
    ),
}
_T3_HEADER_WORDS = frozenset(
    {"申请人情况", "自然人", "法人或其他组织", "商业企业", "科研机构", "社会公益组织", "法律服务机构"}
)
_T4_HEADER_WORDS = frozenset(
    {"行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉", "结果维持", "结果纠正", "其他结果", "尚未审结"}
)


def _clean(text: str) -> str:
    """A paragraph without Markdown decoration (#, **, >) and surrounding space."""
    t = text.strip()
    t = re.sub(r"^#{1,6}\s*", "", t)
    t = re.sub(r"^>\s*", "", t)
    t = t.replace("**", "").replace("__", "")
    return t.strip()


@dataclass(frozen=True)
class _Heading:
    section: str  # s1…s6
    number: int  # as printed (一 → 1)
    likeness: float  # similarity of the words to the official heading


def _cn_number(text: str) -> int:
    digits = {c: i + 1 for i, c in enumerate(_CN_NUM)}
    if text.startswith("十"):
        return 10 + (digits.get(text[1:], 0) if len(text) > 1 else 0)
    if len(text) == 2 and text[1] == "十":
        return digits.get(text[0], 0) * 10
    return digits.get(text[0], 0)


_OFFICIAL_HEADINGS = {
    "s1": "总体情况",
    "s2": "主动公开政府信息情况",
    "s3": "收到和处理政府信息公开申请情况",
    "s4": "政府信息公开行政复议、行政诉讼情况",
    "s5": "存在的主要问题及改进情况",
    "s6": "其他需要报告的事项",
}


@lru_cache(maxsize=4096)
def _heading(text: str) -> _Heading | None:
    """The section a paragraph may be the heading of (its words name the section)."""
    flat = _WS.sub("", unicodedata.normalize("NFKC", _clean(text)))
    m = _HEADING.match(flat)
    if not m or flat.endswith(("。", ".")) or "。" in flat:
        return None
    body = m.group(3)
    for sid, words in _SECTION_WORDS:
        if any(w in body for w in words):
            official = unicodedata.normalize("NFKC", _OFFICIAL_HEADINGS[sid])
            likeness = SequenceMatcher(None, body, official, autojunk=False).ratio()
            return _Heading(sid, _cn_number(m.group(1) or m.group(2)), likeness)
    return None


def _heading_section(text: str) -> str | None:
    """The section id a paragraph is the heading of, or None."""
    h = _heading(text)
    return h.section if h else None


def _label_cells(cells: Sequence[str]) -> list[int]:
    """Indexes of the label cells: the non-number cells before the first number (the row's stub)."""
    out: list[int] = []
    for i, c in enumerate(cells):
        if c and not _is_numberish(c):
            out.append(i)
        elif c:
            break
    return out


_LEADING_NUMBER = re.compile(r"^[+-]?\d[\d,]*(\.\d+)?")
_ITEM_LABEL = re.compile(r"^\d{1,2}[.、．,，]\D")


@lru_cache(maxsize=8192)
def _is_numberish(cell: str) -> bool:
    """A cell that holds a value rather than a label (numbers, also with units or notes)."""
    s = _WS.sub("", unicodedata.normalize("NFKC", cell))
    if not s:
        return False
    if s in ("-", "--", "—", "——", "/", "无"):
        return True
    return bool(_LEADING_NUMBER.match(s)) and not _ITEM_LABEL.match(s)


def _split_paths(cells: Iterable[str]) -> list[str]:
    """Cells with a label path ("三、… › （三）… › 1.…", as Markdown prints them) split up."""
    out: list[str] = []
    for c in cells:
        out.extend(p.strip() for p in c.split(PATH_SEP.strip()) if p.strip())
    return out


def _dedupe(cells: Iterable[str]) -> list[str]:
    """Consecutive repeats removed (a merged cell expanded into several grid slots)."""
    out: list[str] = []
    for c in cells:
        if c and (not out or normalise(out[-1]) != normalise(c)):
            out.append(c)
    return out


# --------------------------------------------------------------------------- the importer


@dataclass
class _TableState:
    """What has been seen of the table being read: its header rows and column positions."""

    table: Table
    headers: list[tuple[str, ...]] = field(default_factory=list)
    columns: dict[int, Node] | None = None  # grid index → leaf column
    data_started: bool = False
    warned: bool = False  # the incomplete header has been reported
    spans: set[int] = field(default_factory=set)  # grid columns that repeat a header cell to their left


class _Importer:
    def __init__(self, items: Sequence[Item], fmt: Format, source: str) -> None:
        self.items = items
        self.fmt = fmt
        self.source = source
        self.matchers = {t.id: matcher(t) for t in fmt.tables}
        self.values: dict[CellKey, Value] = {}
        self.found_rows: dict[str, set[str]] = {t.id: set() for t in fmt.tables}
        self.issues: list[Issue] = []
        self.texts: dict[str, list[str]] = {}
        self.notes: list[str] = []
        self.preamble: list[str] = []
        self.unrecognised: list[str] = []
        self.section: str | None = None
        self.section_no = 0
        self.bad_titles: set[str] = set()
        self.pending_header: tuple[str, ...] | None = None  # a 信息内容 row before its block is known
        self.pending: tuple[str, ...] | None = None  # a label line waiting for its numbers (PDF text)
        self.state: _TableState | None = None
        self.blank: dict[str, list[CellKey]] = {}

    # ----------------------------------------------------------------- issues

    def issue(self, code: str, severity: Severity, message: str, **kw: Any) -> None:
        self.issues.append(Issue(code=code, severity=severity, message=message, file=self.source, **kw))

    def cell_issue(self, key: CellKey, code: str, severity: Severity, note: str, raw: str) -> None:
        t = self.fmt.table(key[0])
        rnode, cnode = t.row_nodes[key[1]], t.column_nodes[key[2]]
        where = _table_name(t) + (f"“{rnode.path_text}”行" if rnode.label else "") + f"“{cnode.path_text}”列"
        self.issue(
            code,
            severity,
            f"{where}：{note}。",
            sheet=t.sheet,
            table=t.id,
            row=rnode.id,
            column=cnode.id,
            row_label=rnode.path_text,
            column_label=cnode.path_text,
            found=raw,
        )

    # ----------------------------------------------------------------- walking

    def run(self) -> None:
        for item in self.items:
            if isinstance(item, Para):
                self.para(item.text)
            else:
                self.row(item.cells)
        self.flush_pending()

    def para(self, text: str) -> None:
        clean = _clean(text)
        if not clean:
            return
        h = _heading(clean)
        if h is not None or self.state is None or self.section not in ("s2", "s3", "s4"):
            self.flush_pending()
        if h is not None and self._starts_section(h):
            sid = h.section
            self.section, self.section_no = sid, h.number
            self.texts.setdefault(sid, [])
            self.state = {"s3": self._state("t3"), "s4": self._state("t4")}.get(sid)
            return
        m = _T2_TITLE.search(unicodedata.normalize("NFKC", clean)) if len(clean) < 40 else None
        if m:
            self.t2_title(clean)
            return
        if "勾稽关系" in clean and self.section in ("s2", "s3", "s4"):
            return  # 表三's corner note, set apart from its header in a PDF's text
        if self.state is not None and self.section in ("s2", "s3", "s4") and not clean.startswith("注"):
            # PDF text: a row label on a line of its own, waiting for its numbers on the next.
            cells = tuple(c for c in re.split(r"\s{2,}|\u3000+", clean) if c)
            if self._label_like(cells, _label_cells(cells)):
                self.row(cells)
                return
        if self.section is None:
            self.preamble.append(clean)
        elif self.section in ("s1", "s5", "s6"):
            self.texts[self.section].append(clean)
        elif clean.startswith(("注", "备注", "说明")):
            self.notes.append(clean)
        else:
            self.unrecognised.append(clean)

    def _starts_section(self, h: _Heading) -> bool:
        """Whether a heading-like paragraph opens a section, or is a sub-heading inside one.

        Sections only move forward, and the heading must be numbered where the official one
        is, or next after the last section (a report that dropped or merged one), or read
        almost like the official heading (renumbered around an inserted section). So
        "三、主动公开政府信息工作的体会" inside 一 stays text of 一.
        """
        if self.section is not None and h.section <= self.section:
            return False
        official = int(h.section[1:])
        return h.number == official or h.number == self.section_no + 1 or h.likeness >= 0.72

    def _state(self, table_id: str) -> _TableState | None:
        return _TableState(self.fmt.table(table_id)) if table_id in self.fmt.table_map else None

    def t2_title(self, text: str) -> None:
        self.flush_pending()  # a label waiting for numbers belongs to the block before
        key = normalise(_T2_TITLE.search(unicodedata.normalize("NFKC", text)).group(0))  # type: ignore[union-attr]
        for t in self.fmt.tables:
            if normalise(t.title) == key:
                if self.state is None or self.state.table is not t:
                    self.state = _TableState(t)
                return
        self.state = None
        if key not in self.bad_titles:
            self.bad_titles.add(key)
            self.issue(
                Code.UNRECOGNISED,
                Severity.WARNING,
                f"“{text}”不是{self.fmt.name}格式表二中的一项，其下的数据未导入。请确认报告使用的格式。",
            )

    def row(self, raw: Sequence[str]) -> None:
        cells = tuple(c.strip() for c in raw)
        nonempty = [c for c in cells if c]
        if not nonempty:
            return
        distinct = _dedupe(nonempty)
        # A caption row (a block title spanning the table, a section heading typed into a cell).
        if len(distinct) == 1 and not _is_numberish(distinct[0]):
            only = distinct[0]
            if _T2_TITLE.search(unicodedata.normalize("NFKC", only)):
                self.flush_pending()
                self.t2_title(only)
                return
            sid = _heading_section(only)
            if sid is not None:
                self.para(only)
                return
        lead = next(i for i, c in enumerate(cells) if c)
        if _T2_TITLE.search(unicodedata.normalize("NFKC", cells[lead])) and len(cells[lead]) < 40:
            # The block title in a column of its own, merged down the block's rows.
            self.flush_pending()
            self.t2_title(cells[lead])
            cells = (*cells[:lead], "", *cells[lead + 1 :])
            nonempty = [c for c in cells if c]
            if not nonempty:
                return
        first = normalise(nonempty[0])
        words = {normalise(c) for c in _split_paths(nonempty)}
        if first == "信息内容" or words & (_T3_HEADER_WORDS | _T4_HEADER_WORDS):
            self.flush_pending()
        if first == "信息内容":
            if self.state is not None and self.state.table.id.startswith("t2") and not self.state.data_started:
                self.state.headers = [cells]
                self.state.columns = None
            else:
                self.state = None
                self.pending_header = cells
            return
        if words & _T3_HEADER_WORDS or any("勾稽关系" in w for w in words):
            self.header("t3", cells)
            return
        if words & _T4_HEADER_WORDS:
            self.header("t4", cells)
            return
        self.data(cells)

    def header(self, table_id: str, cells: tuple[str, ...]) -> None:
        self.flush_pending()
        st = self.state
        if st is None or st.table.id != table_id or st.data_started:
            st = self._state(table_id)
            self.state = st
        if st is None:
            return
        st.headers.append(cells)
        st.columns = None

    # ----------------------------------------------------------------- data rows

    def data(self, cells: tuple[str, ...]) -> None:
        """A table row that is not a title or header: a row of data, or part of one.

        PDF text may print a row's label on one line and its numbers on the next (the cell
        centred vertically): a numbered label without numbers waits for the following line
        of numbers, which takes it as its label unless it has a label of its own.
        """
        label_idx = _label_cells(cells)
        if not any(_is_numberish(c) for c in cells):
            if self._label_like(cells, label_idx):
                self.flush_pending()
                self.pending = cells
            else:
                self.unrecognised.append(" | ".join(c for c in cells if c))
            return
        if self.pending is not None:
            pending, self.pending = self.pending, None
            st = self.state
            own = None
            # Its own label counts only if it looks like one ("处理", "度办理结" are pieces of
            # the labels around it, wrapped onto this line).
            if self._label_like(cells, label_idx) and st is not None and any(n.label for n in st.table.rows):
                own = self._match_row(st.table, cells, label_idx)[0]
            if own is None:
                first = next(i for i, c in enumerate(cells) if _is_numberish(c))
                self._data_row((*(c for c in pending if c), *cells[first:]))
                return
            self._data_row(pending)  # a row left blank after all
        self._data_row(cells)

    def flush_pending(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self._data_row(pending)

    def _data_row(self, cells: tuple[str, ...]) -> None:
        st = self.state
        label_idx = _label_cells(cells)
        node: Node | None = None
        used = 0
        has_numbers = any(_is_numberish(c) for c in cells)
        if not has_numbers and not self._label_like(cells, label_idx):
            # No number and nothing like a numbered label: a wrapped label's second line or a
            # fragment of a header (PDF text), not a row of data.
            self.unrecognised.append(" | ".join(c for c in cells if c))
            return
        if st is not None and any(n.label for n in st.table.rows):
            node, used = self._match_row(st.table, cells, label_idx)
        elif st is not None and not label_idx:
            node = st.table.rows[0]  # 表四: one unlabelled row of numbers
        if node is None and label_idx:
            # A row of another table without its title or header (a 表二 block printed without
            # 第二十条…, 表三 without its header rows): taken when exactly one table has it.
            found = [
                (t, *self._match_row(t, cells, label_idx))
                for t in self.fmt.tables
                if (st is None or t is not st.table) and any(n.label for n in t.rows)
            ]
            found = [f for f in found if f[1] is not None]
            if len(found) == 1:
                table, node, used = found[0]
                st = self.state = _TableState(table)
                if self.pending_header is not None and table.id.startswith("t2"):
                    st.headers = [self.pending_header]
                self.pending_header = None
        t4 = self.fmt.table_map.get("t4")
        filled = [c for c in cells if c]
        if (
            node is None
            and not label_idx
            and t4 is not None
            and not self.found_rows["t4"]
            and len(filled) == len(t4.leaf_columns)
            and (st is None or st.table is not t4)
        ):
            # 表四's row of numbers without its header rows: the official column order.
            st = self.state = _TableState(t4)
            node = t4.rows[0]
        if node is None or st is None:
            self.unrecognised.append(" | ".join(filled))
            return
        if not node.is_leaf and not has_numbers:
            return  # a group's own line ("三、本年度办理结果") above its sub-rows
        st.data_started = True
        label_end = label_idx[used - 1] + 1 if used else 0
        self.store(st, node, cells, label_end)

    def _label_like(self, cells: tuple[str, ...], label_idx: list[int]) -> bool:
        """Whether a row without numbers still names a row: its last label cell is exactly a
        row label, or starts with an item number ("（三）", "2.", "四、") as row labels do."""
        if not label_idx:
            return False
        key = normalise(_split_paths([cells[label_idx[-1]]])[-1])
        if strip_number(key) != key:
            return True
        return any(key == normalise(n.label) for t in self.fmt.tables for n in t.row_nodes.values() if n.label)

    def _match_row(self, table: Table, cells: tuple[str, ...], label_idx: list[int]) -> tuple[Node | None, int]:
        """The row the label cells name, and how many label cells that took.

        Trailing label cells that do not help (text typed into a value cell, "一件") are
        dropped until the rest matches; they are then read as values.
        """
        m = self.matchers[table.id]
        for end in range(len(label_idx), 0, -1):
            labels = _dedupe(_split_paths(cells[i] for i in label_idx[:end]))
            node = m.row(labels) if labels else None
            if node is None:
                continue
            # A last cell that adds nothing to the match and is not part of the label is a value.
            while end > 1:
                last = normalise(cells[label_idx[end - 1]])
                shorter = _dedupe(_split_paths(cells[i] for i in label_idx[: end - 1]))
                if last in normalise(node.label) or m.row(shorter) is not node:
                    break
                end -= 1
            return node, end
        return None, 0

    def columns(self, st: _TableState) -> dict[int, Node]:
        """Grid index → leaf column, from the header rows seen (possibly incomplete)."""
        if st.columns is not None:
            return st.columns
        table = st.table
        out: dict[int, Node] = {}
        if st.headers:
            filled = [_fill_groups(table, h) for h in st.headers]
            n = max(len(h) for h in filled)
            m = self.matchers[table.id]
            skip_first = table.id.startswith("t2")  # the 信息内容 corner
            for j in range(1 if skip_first else 0, n):
                path = _dedupe(_split_paths(h[j] for h in filled if j < len(h)))
                if not path:
                    continue
                col = m.column(path)
                if col is None or not col.is_leaf:
                    continue
                if all(v.id != col.id for v in out.values()):
                    out[j] = col
                else:
                    st.spans.add(j)  # a merged header cell repeated by the grid
        st.columns = out
        return out

    def row_columns(self, st: _TableState, cells: tuple[str, ...], label_end: int) -> tuple[dict[int, Node], int]:
        """Where this row's values are: (grid index → column, shift of this row against it)."""
        table = st.table
        leaves = table.leaf_columns
        cols = self.columns(st)
        if len(cols) == len(leaves):
            # A value cell spanning several grid columns repeats its value in each of them.
            return cols, _alignment(cells, label_end, sorted(set(cols) | st.spans))
        # No complete header (a PDF's text loses the header's layout): when the row holds
        # exactly one value per column, they are in the official order.
        end = len(cells)
        while end > label_end and not cells[end - 1]:
            end -= 1
        positions = sorted(set(cols) | st.spans)
        shift = _alignment(cells, label_end, positions)
        fits = bool(cols) and all(i - shift in positions for i in range(label_end, end) if cells[i])
        if not fits and (end - label_end == len(leaves) or not cols):
            start = label_end if end - label_end == len(leaves) else max(label_end, end - len(leaves))
            return {start + i: c for i, c in enumerate(leaves)}, 0
        if not st.warned:
            st.warned = True
            missing = [c for c in leaves if all(v.id != c.id for v in cols.values())]
            self.issue(
                Code.LABEL_NOT_FOUND,
                Severity.WARNING,
                f"{_table_name(table)}的表头中没有找到“{'”“'.join(c.path_text for c in missing)}”列，这些列的数据未导入。",
                table=table.id,
                sheet=table.sheet,
            )
        return cols, shift

    def store(self, st: _TableState, node: Node, cells: tuple[str, ...], label_end: int) -> None:
        table = st.table
        cols, shift = self.row_columns(st, cells, label_end)
        positions = sorted(cols)
        self.found_rows[table.id].add(node.id)
        if not node.is_leaf:
            self.issue(
                Code.STRUCTURE_CHANGED,
                Severity.WARNING,
                f"{_table_name(table)}“{node.path_text}”印成一行，没有分列其下"
                f"“{'”“'.join(c.label for c in node.children)}”，这些子项的数字未知（不是 0）；已按整行数字导入。",
                sheet=table.sheet,
                table=table.id,
                row=node.id,
                row_label=node.path_text,
            )
        for j in positions:
            col = cols[j]
            key = (table.id, node.id, col.id)
            idx = j + shift
            raw = cells[idx] if 0 <= idx < len(cells) else ""
            if key in self.values:
                continue  # a row printed twice: the first one counts
            kind = table.cell_kind(node.id, col.id) if node.is_leaf else (col.kind or CellKind.COUNT)
            unit = table.unit(node.id, col.id) if node.is_leaf else col.unit
            parsed = parse_cell(raw, kind, unit)
            if parsed.blank:
                self.blank.setdefault(table.id, []).append(key)
                continue
            if parsed.value is None:
                self.cell_issue(key, parsed.code, Severity.ERROR, parsed.note, raw)
                continue
            self.values[key] = parsed.value
            if parsed.code:
                self.cell_issue(key, parsed.code, Severity.WARNING, parsed.note, raw)


def _alignment(cells: tuple[str, ...], label_end: int, positions: list[int]) -> int:
    """How far this row's values sit from the header's column positions.

    Plain-text tables are ragged: a row whose label spreads over one more stub cell than the
    header's has its values one cell to the right. The shift is the smallest one that puts
    every value cell of the row under a column and none inside the label cells.
    """
    if not positions:
        return 0
    filled = [i for i in range(label_end, len(cells)) if cells[i]]
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


def _fill_groups(table: Table, header: tuple[str, ...]) -> list[str]:
    """A plain-text header row with each group label carried over the columns it spans.

    Text tables print a merged header once ("行政复议" then four empty cells); the group spans
    as many columns as it has leaves, or until the next label.
    """
    m = matcher(table)
    out = list(header)
    for i, cell in enumerate(header):
        if not cell:
            continue
        node = m.column(cell)
        if node is None or node.is_leaf:
            continue
        span = len(node.leaves())
        for j in range(i + 1, min(i + span, len(out))):
            if out[j]:
                break
            out[j] = cell
    return out


def _table_name(table: Table) -> str:
    return table.sheet if "、" in table.title else f"{table.sheet}{table.title}"


# --------------------------------------------------------------------------- format, title


def detect_format(items: Sequence[Item], year: int | None) -> tuple[Format, str]:
    """The format a document uses, from its table labels; also how it was decided (Chinese)."""
    # Table cells and short lines only: the running text may name things of either format
    # ("行政规范性文件60件" in a 2019 report's 总体情况).
    text = normalise(
        " ".join(
            " ".join(i.cells) if isinstance(i, Row) else i.text for i in items if isinstance(i, Row) or len(i.text) < 40
        )
    )
    scores = {fid: sum(1 for w in words if normalise(w) in text) for fid, words in _FORMAT_MARKERS.items()}
    best = max(scores.values())
    winners = [fid for fid, s in scores.items() if s == best and s > 0]
    if len(winners) == 1:
        return get_format(winners[0]), f"按表格标签判断为{get_format(winners[0]).name}格式"
    if year is not None:
        try:
            fmt = format_for_year(year)
            return fmt, f"表格标签不足以判断格式，按年度 {year} 采用{fmt.name}格式"
        except XlsGongkaiError:
            pass
    fmt = builtin_formats()[-1]
    return fmt, f"无法判断格式，采用{fmt.name}格式"


def _title(items: Sequence[Item]) -> tuple[str, int | None, str]:
    """(unit name, year, title text) from the document's title lines."""
    previous = ""
    for item in items[:30]:
        if not isinstance(item, Para):
            continue
        text = _clean(item.text)
        flat = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
        # "二〇二一年" written in Chinese numerals.
        flat = re.sub(r"[〇零一二三四五六七八九]{4}(?=年)", lambda m: m.group(0).translate(_CN_DIGITS), flat)
        m = _TITLE.match(flat)
        if m:
            # "坡头镇人民政府2020年…" or "2019年上海市人民政府办公厅…".
            unit = re.sub(r"(?:关于|的)$", "", (m.group(1) or m.group(3)).strip(" ：:"))
            if not unit and previous and len(previous) <= 40 and "。" not in previous:
                unit = previous
            return unit, int(m.group(2)), text
        if _heading_section(text):
            break
        previous = re.sub(r"\s+", "", text)
    return "", None, ""


# --------------------------------------------------------------------------- R9

# (name, pattern, cells): a number restated in 一、总体情况 and the table cells it must equal.
_T3_TOTAL = "total"
_R9_FACTS: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "收到申请",
        r"(?:受理|新收|收到)[^，。；;,\d]{0,20}?申请[^，。；;,\d]{0,6}?(\d+)\s*[件次个]"
        r"|收到(\d+)\s*[件次个][^，。；;,\d]{0,4}?申请",
        (("t3", "new", _T3_TOTAL),),
    ),
    ("办结申请", r"(?:办结|答复|办理完毕)[^，。；;,\d]{0,24}?(\d+)\s*件", (("t3", "results_total", _T3_TOTAL),)),
    ("上年结转", r"上一?年度?结转[^，。；;,\d]{0,12}?(\d+)\s*件", (("t3", "carried_over", _T3_TOTAL),)),
    (
        "结转下年度",
        r"(\d+)\s*件[^，。；;,\d]{0,16}?(?:顺延|结转)(?:到|至)?下一?年度",
        (("t3", "carry_next", _T3_TOTAL),),
    ),
    (
        "予以公开及部分公开",
        r"予以公开及部分公开[^，。；;,\d]{0,8}?(\d+)\s*件",
        (("t3", "disclosed", _T3_TOTAL), ("t3", "partial", _T3_TOTAL)),
    ),
    ("予以公开", r"(?<!不)予以公开(?!及)[^，。；;,\d]{0,8}?(\d+)\s*件", (("t3", "disclosed", _T3_TOTAL),)),
    ("部分公开", r"(?<!及)部分公开[^，。；;,\d]{0,8}?(\d+)\s*件", (("t3", "partial", _T3_TOTAL),)),
    ("不予公开", r"不予公开[^，。；;,\d]{0,8}?(\d+)\s*件", (("t3", "withheld", _T3_TOTAL),)),
    ("无法提供", r"无法提供[^，。；;,\d]{0,8}?(\d+)\s*件", (("t3", "unavailable", _T3_TOTAL),)),
    ("不予处理", r"不予处理[^，。；;,\d]{0,8}?(\d+)\s*件", (("t3", "not_processed", _T3_TOTAL),)),
    ("其他处理", r"其他处理[^，。；;,\d]{0,8}?(\d+)\s*件", (("t3", "other_handling", _T3_TOTAL),)),
    ("行政复议", r"行政复议[^，。；;,\d]{0,8}?(\d+)\s*件", (("t4", "cases", "review_total"),)),
    (
        "行政诉讼",
        r"(?:行政)?诉讼[^，。；;,\d]{0,8}?(\d+)\s*件",
        (("t4", "cases", "direct_total"), ("t4", "cases", "after_total")),
    ),
)


@dataclass(frozen=True)
class Restated:
    """A number the text of 一、总体情况 states, with the phrase it was read from."""

    name: str
    value: int
    phrase: str
    cells: tuple[tuple[str, str, str], ...]


def restated_numbers(text: str) -> list[Restated]:
    """The counts restated in a 总体情况 text (the first mention of each)."""
    flat = unicodedata.normalize("NFKC", text)
    flat = re.sub(r"[ \t\u3000]+", "", flat)
    out: list[Restated] = []
    for name, pattern, cells in _R9_FACTS:
        m = re.search(pattern, flat)
        if m:
            start = max(0, m.start() - 6)
            number = next(g for g in m.groups() if g is not None)
            out.append(Restated(name, int(number), flat[start : m.end()], cells))
            if name in _OUTCOME_PREFIX:
                out.extend(_outcomes(name, flat, m.end()))
    return out


# "行政复议351件，其中结果维持72件，结果纠正64件，其他结果178件，尚未审结37件；": the outcome
# counts that follow in the same clause, against 表四's columns of that kind.
_OUTCOME_PREFIX = {"行政复议": ("review",), "行政诉讼": ("direct", "after")}
_OUTCOMES = (("结果维持", "upheld"), ("结果纠正", "corrected"), ("其他结果", "other"), ("尚未审结", "pending"))


def _outcomes(name: str, flat: str, end: int) -> list[Restated]:
    clause = re.split(r"[；;。]", flat[end:], maxsplit=1)[0]
    out: list[Restated] = []
    for word, suffix in _OUTCOMES:
        m = re.search(rf"{word}(\d+)件", clause)
        if m:
            cells = tuple(("t4", "cases", f"{prefix}_{suffix}") for prefix in _OUTCOME_PREFIX[name])
            out.append(Restated(f"{name}{word}", int(m.group(1)), f"{name}…{m.group(0)}", cells))
    return out


def _r9(report: Report, checked: Report, source: str) -> list[Issue]:
    fmt = report.format
    issues: list[Issue] = []
    for fact in restated_numbers(report.texts.get("s1", "")):
        cells = [c for c in fact.cells if c[0] in fmt.table_map]
        if not cells:
            continue
        total: Value = 0
        for t, r, c in cells:
            table = fmt.table(t)
            if r not in table.row_nodes or c not in table.column_nodes:
                break
            total += checked.value(t, r, c)
        else:
            if total != fact.value:
                t0, r0, c0 = cells[0]
                table = fmt.table(t0)
                labels = "加".join(
                    f"“{table.row_nodes[r].label}”" if t == "t3" else f"“{table.column_nodes[c].path_text}”"
                    for t, r, c in cells
                )
                where = "表三" if t0 == "t3" else "表四"
                what = f"{labels}总计" if t0 == "t3" else labels
                issues.append(
                    Issue(
                        code=R9,
                        severity=Severity.WARNING,
                        message=(
                            f"一、总体情况写“…{fact.phrase}”（{fact.name} {fact.value} 件），"
                            f"{where}{what}为 {format_number(total)}，两者不一致。请核对正文或表格。"
                        ),
                        unit_code=report.unit.code,
                        unit_name=report.unit.name,
                        file=source,
                        sheet=table.sheet,
                        table=t0,
                        row=r0,
                        column=c0,
                        row_label=table.row_nodes[r0].path_text,
                        column_label=table.column_nodes[c0].path_text,
                        expected=format_number(total),
                        found=str(fact.value),
                    )
                )
    return issues


# --------------------------------------------------------------------------- checking


def totals_filled(report: Report) -> Report:
    """The report with every blank computed total set to the sum its rule defines.

    A published table that leaves a total blank claims nothing about it; checking a blank as 0
    would report a difference the document never printed. Stored group rows (an un-split
    （六）) count as given, as :meth:`Report.value` does.
    """
    fmt = report.format
    computed = computed_cells(fmt)
    missing = [k for k in computed if k not in report.values]
    if not missing:
        return report
    values = dict(report.values)
    # Totals can depend on other blank totals (（七）总计's 总计 column): settle in a few passes.
    for _ in range(4):
        changed = False
        current = replace(report, values=values)
        for key in missing:
            v = side_value(current, computed[key].rhs)
            if values.get(key) != v:
                values[key] = v
                changed = True
        if not changed:
            break
    return replace(report, values=values)


def _locate(fmt: Format) -> Any:
    def locate(key: CellKey) -> tuple[str, str]:
        return fmt.table(key[0]).sheet, ""

    return locate


# --------------------------------------------------------------------------- public API


def import_text(
    text: str,
    *,
    kind: str = "text",
    source: str = "",
    fmt: Format | str | None = None,
    year: int | None = None,
    unit: Unit | str | None = None,
    previous: Report | None = None,
) -> Result:
    """Import a report given as a string: ``kind`` is ``text`` (PDF-like, wrapped lines joined), ``md`` or ``html``."""
    items = _html_items(text) if kind == "html" else _text_items(text, wrapped=kind == "text")
    return _import_items(items, source=source, fmt=fmt, year=year, unit=unit, previous=previous)


def import_document(
    path: str | Path,
    *,
    fmt: Format | str | None = None,
    year: int | None = None,
    unit: Unit | str | None = None,
    previous: Report | None = None,
) -> Result:
    """Import one published report (.txt, .md, .html, .docx) into a Report with its issues.

    ``fmt``, ``year`` and ``unit`` override what the document says (format from its table
    labels, year and unit from its title). With last year's report as ``previous`` the
    cross-year warnings R6–R8 are checked too. Data problems are issues in the result; a file that
    cannot be read raises :class:`UnreadableDocumentError` (or :class:`UsageError` for an
    unsupported file type).

    >>> r = import_document("tests/data/2024_huaianshi_zhengfu.txt")  # doctest: +SKIP
    >>> r.report.value("t3", "new", "total")  # doctest: +SKIP
    3119
    """
    p = Path(path)
    return _import_items(document_items(p), source=str(p), fmt=fmt, year=year, unit=unit, previous=previous)


def _import_items(
    items: Sequence[Item],
    *,
    source: str,
    fmt: Format | str | None,
    year: int | None,
    unit: Unit | str | None,
    previous: Report | None = None,
) -> Result:
    name = Path(source).name if source else "（文本）"
    title_unit, title_year, title = _title(items)
    issues: list[Issue] = []
    report_year = year if year is not None else title_year
    if isinstance(fmt, Format):
        chosen, how = fmt, f"按指定采用{fmt.name}格式"
    elif fmt is not None:
        chosen = get_format(fmt)
        how = f"按指定采用{chosen.name}格式"
    else:
        chosen, how = detect_format(items, report_year)
    imp = _Importer(items, chosen, source)
    imp.run()
    if not imp.values and not imp.texts:
        raise UnreadableDocumentError(
            f"文件 {name} 中没有找到政府信息公开工作年度报告的表格或章节。请确认这是年度报告的正文（表格用制表符分隔，或为网页/Word 表格）。"
        )
    issues.extend(imp.issues)
    if report_year is None:
        report_year = chosen.year_from
        issues.append(
            Issue(
                Code.YEAR_MISMATCH,
                Severity.WARNING,
                f"标题中没有找到报告年度，按 {report_year} 年计。请用 --year 指定年度。",
                file=source,
            )
        )
    elif year is not None and title_year is not None and year != title_year:
        issues.append(
            Issue(
                Code.YEAR_MISMATCH,
                Severity.WARNING,
                f"标题写的是 {title_year} 年，按指定的 {year} 年导入。",
                file=source,
                found=str(title_year),
                expected=str(year),
            )
        )
    period = _PERIOD.search(unicodedata.normalize("NFKC", " ".join(imp.preamble + imp.texts.get("s1", [])[:3])))
    if period and title_year is not None and int(period.group(1)) != title_year:
        issues.append(
            Issue(
                Code.YEAR_MISMATCH,
                Severity.WARNING,
                f"标题是 {title_year} 年度报告，但统计期限写的是 {period.group(1)} 年。请核对年度。",
                file=source,
                found=period.group(1),
                expected=str(title_year),
            )
        )
    if not chosen.covers(report_year):
        issues.append(
            Issue(
                Code.OTHER_FORMAT,
                Severity.WARNING,
                f"{report_year} 年度的报告应使用{format_for_year(report_year).name}格式，本报告的表格是{chosen.name}格式。",
                file=source,
            )
        )
    if isinstance(unit, Unit):
        the_unit = unit
    else:
        unit_name = unit or title_unit
        the_unit = Unit(unit_name, unit_name)
        if not unit_name:
            issues.append(
                Issue(Code.UNIT_NAME_BLANK, Severity.WARNING, "标题中没有找到单位名称。请用 --unit 指定。", file=source)
            )
    texts: dict[str, str] = {}
    for sid in ("s1", "s5", "s6"):
        paras = [p for p in imp.texts.get(sid, []) if not p.startswith(_PLACEHOLDER_MARK)]
        if paras:
            texts[sid] = "\n".join(paras)
    report = Report(the_unit, report_year, chosen.id, dict(imp.values), texts)
    issues.extend(_structure_issues(imp, report, source))
    checked = totals_filled(report)
    issues.extend(replace(i, file=source) for i in check_report(checked, locate=_locate(chosen)))
    issues.extend(_r9(report, checked, source))
    if previous is not None:
        from xls_gongkai.batch.merge import cross_year_issues

        if previous.year != report.year - 1:
            issues.append(
                Issue(
                    Code.YEAR_MISMATCH,
                    Severity.WARNING,
                    f"作为上一年度提供的报告是 {previous.year} 年度的，本报告是 {report.year} 年度。跨年度核对可能没有意义。",
                    file=source,
                    found=str(previous.year),
                    expected=str(report.year - 1),
                )
            )
        # R6–R8 against last year's report (of either format); no cells to point at in a document.
        for i in cross_year_issues(checked, totals_filled(previous)):
            issues.append(
                replace(i, file=source, sheet=chosen.table(i.table).sheet if i.table else "", cell="", cells=())
            )
    issues = [replace(i, unit_code=the_unit.code, unit_name=the_unit.name) for i in issues]
    extra: dict[str, Any] = {
        "format_detected": how,
        "title": title,
        "notes": imp.notes,
        "preamble": imp.preamble,
        "unrecognised": imp.unrecognised,
    }
    return Result(report=report, issues=issues, source=source, extra=extra)


def _structure_issues(imp: _Importer, report: Report, source: str) -> Iterator[Issue]:
    fmt = report.format
    for table in fmt.tables:
        found = imp.found_rows[table.id]
        if not found:
            yield Issue(
                Code.LABEL_NOT_FOUND,
                Severity.WARNING,
                f"没有找到{_table_name(table)}，其数据未导入。",
                file=source,
                sheet=table.sheet,
                table=table.id,
            )
            continue
        missing = [
            r
            for r in table.leaf_rows
            if r.label and r.id not in found and not any(a.id in found for a in _ancestors(table, r))
        ]
        if missing:
            yield Issue(
                Code.LABEL_NOT_FOUND,
                Severity.WARNING,
                f"{_table_name(table)}中没有找到“{'”“'.join(r.path_text for r in missing)}”行，其数据未导入。",
                file=source,
                sheet=table.sheet,
                table=table.id,
                row=missing[0].id,
                row_label=missing[0].path_text,
            )
        blanks = imp.blank.get(table.id, [])
        if blanks:
            computed = computed_cells(fmt)
            n_totals = sum(1 for k in blanks if k in computed)
            detail = f"，其中合计 {n_totals} 个（校验时按各项之和计）" if n_totals else ""
            yield Issue(
                Code.MISSING,
                Severity.WARNING,
                f"{_table_name(table)}有 {len(blanks)} 个单元格空白{detail}；空白按未填写处理，校验时按 0 计。",
                file=source,
                sheet=table.sheet,
                table=table.id,
                cells=(),
                found=str(len(blanks)),
            )
    shown = imp.unrecognised if len(imp.unrecognised) <= 12 else imp.unrecognised[:10]
    for text in shown:
        yield Issue(
            Code.UNRECOGNISED,
            Severity.WARNING,
            f"未能识别的内容，未导入：“{text[:60]}{'…' if len(text) > 60 else ''}”。",
            file=source,
            found=text,
        )
    if len(shown) < len(imp.unrecognised):
        rest = len(imp.unrecognised) - len(shown)
        yield Issue(
            Code.UNRECOGNISED,
            Severity.WARNING,
            f"另有 {rest} 处内容未能识别、未导入（多为折行的标签或表头碎片），见结果的 extra['unrecognised']。",
            file=source,
            found=str(rest),
        )
    for section in fmt.text_sections:
        if section.id not in report.texts:
            yield Issue(
                Code.TEXT_MISSING,
                Severity.WARNING,
                f"“{section.label}”没有内容。",
                file=source,
            )
    if report.year >= 2021 and "信息处理费" not in report.texts.get("s6", ""):
        yield Issue(
            Code.TEXT_MISSING,
            Severity.WARNING,
            "“六、其他需要报告的事项”没有说明信息处理费的收取情况（2021 年起应说明，依据国办函〔2020〕109号）。",
            file=source,
        )


def _ancestors(table: Table, node: Node) -> list[Node]:
    out: list[Node] = []
    for n in table.row_nodes.values():
        if not n.is_leaf and any(leaf.id == node.id for leaf in n.leaves()):
            out.append(n)
    return out


def _import_safely(path: str, kw: dict[str, Any]) -> Result:
    try:
        return import_document(path, **kw)
    except XlsGongkaiError as exc:
        return Result(
            report=None,
            issues=[Issue(Code.FILE_UNREADABLE, Severity.ERROR, str(exc), file=path)],
            source=path,
        )


def import_many(
    paths: Iterable[str | Path],
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    **kw: Any,
) -> list[Result]:
    """Import many documents, in parallel processes, results in the order of ``paths``.

    Never raises for one bad file: it becomes ``Result(report=None, issues=[file-unreadable])``.
    ``jobs`` is the number of worker processes (default: all cores; 1 imports in this process);
    ``progress(done, total)`` is called as files finish. Other keywords go to
    :func:`import_document`.
    """
    return map_files(
        _import_safely,
        [str(p) for p in paths],
        dict(kw),
        on_crash=crashed,
        jobs=jobs,
        progress=progress,
        parallel_from=PARALLEL_FROM,
    )
