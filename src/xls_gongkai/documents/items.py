"""A report document as a flat sequence of paragraphs and table rows.

Whatever the source — plain text (tables as tab-separated rows), Markdown (pipe tables), HTML
or Word (tables with merged cells expanded into a grid, a merged cell's text in every slot it
covers), or PDF (``pdftotext -layout``: cells apart by runs of spaces, lines broken inside
sentences) — the importer sees the same two kinds of item, in document order. Nothing here
knows the report's format; every parser is iterative and bounded (a document of 100,000 nested
tags or 10,000 headings is read, or refused with one clear error, never a RecursionError).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from xls_gongkai.errors import UnreadableWorkbookError, UsageError

__all__ = [
    "CONTAINERS",
    "PENDING_MARK",
    "SUFFIXES",
    "Item",
    "Para",
    "Row",
    "UnreadableDocumentError",
    "container_of",
    "document_items",
    "heading_like",
    "html_items",
    "text_items",
]

#: File suffix → the kind of container it is (``Result.container``).
CONTAINERS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
    ".pdf": "pdf",
}
SUFFIXES = tuple(CONTAINERS)
#: What render puts before everything it had to make up (placeholders, the draft summary): not
#: the unit's text, so an import skips it and render → import gives back the same Report.
PENDING_MARK = "【待补充】"
_MAX_BYTES = 50 * 1024 * 1024
#: Grid slots one HTML table may expand into (merged cells repeat their text in each slot).
_MAX_SLOTS = 1_000_000
#: Lines longer than this are running text, never a table row or a title (bounds the regexes).
_MAX_ROW_LINE = 2000


class UnreadableDocumentError(UnreadableWorkbookError):
    """A report document that cannot be read at all (not text, corrupt .docx, no report in it)."""


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


_HEADING_SHAPE = re.compile(r"^(?:[#*\s]*)(?:[一二三四五六七八九十]+[、,.．，]|第[一二三四五六七八九十]+部分)")


def heading_like(text: str) -> bool:
    """A short numbered line ("三、…", "第三部分 …"): never joined with the line before or after."""
    return len(text) <= 60 and "。" not in text and bool(_HEADING_SHAPE.match(text))


def text_items(text: str, *, wrapped: bool = False) -> list[Item]:
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
        elif wrapped and len(stripped) <= _MAX_ROW_LINE and (spaced := _space_row(stripped)) is not None:
            items.append(Row(spaced))
        elif (
            wrapped
            and items
            and isinstance(items[-1], Para)
            and len(items[-1].text) >= 20
            and not items[-1].text.endswith(_SENTENCE_END)
            and not heading_like(items[-1].text)
            and not heading_like(stripped)
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

    def __init__(self, name: str = "") -> None:
        super().__init__(convert_charrefs=True)
        self.name = name
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
            for cells in _expand_spans([r for r in frame.rows if r], self.name):
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


def _expand_spans(rows: list[list[tuple[str, int, int]]], name: str = "") -> list[list[str]]:
    """Rows of (text, rowspan, colspan) as a full grid, a merged cell's text in every slot."""
    slots = sum(rs * cs for cells in rows for _t, rs, cs in cells)
    if slots > _MAX_SLOTS:
        raise UnreadableDocumentError(
            f"文件 {name or '（网页）'} 中的表格过大（展开合并单元格后超过 {_MAX_SLOTS:,} 格），不像一份年度报告。"
        )
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


def html_items(text: str, name: str = "") -> list[Item]:
    parser = _HtmlItems(name)
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


def container_of(path: str | Path) -> str:
    """The kind of document a file is by its suffix (txt, md, html, docx, pdf), "" if none."""
    return CONTAINERS.get(Path(path).suffix.lower(), "")


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
        return text_items(_pdf_text(p), wrapped=True)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise UnreadableDocumentError(f"无法读取文件 {p}：{exc.strerror or exc}。请检查路径和权限。") from exc
    if b"\x00" in data[:4096]:
        raise UnreadableDocumentError(f"文件 {p} 是二进制文件，不是文本。请确认文件类型。")
    text = _decode(data, p)
    if suffix in (".html", ".htm"):
        return html_items(text, p.name)
    return text_items(text, wrapped=suffix in (".txt", ".text"))
