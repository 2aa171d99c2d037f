"""Render a Report as the annual report document: Markdown, HTML or Word (.docx).

The document has the official structure: the title "<单位><年>年政府信息公开工作年度报告", the
format's sections in order with the unit's texts, and the tables in the official layout —
multi-level merged headers, row labels nested as printed. Every layout is derived from the
format's label trees (:func:`table_grid`), so a local variant of a format renders without code
changes.

* HTML and DOCX carry real merged cells (rowspan/colspan; python-docx's cell merges). The DOCX
  sets 宋体/黑体 as East Asian fonts and zh-CN, so Word, WPS and LibreOffice show the Chinese
  text with Chinese fonts; a table's header rows repeat on every page.
* Markdown pipe tables cannot merge: a row is labelled by its label path
  ("三、本年度办理结果 › （三）不予公开 › 1.属于国家秘密") and a column likewise.
* A text rule of the format (T1: from 2021 六 states the 信息处理费) whose words the section
  lacks gets the rule's placeholder sentence, flagged ``【待补充】``; :func:`missing_statements`
  names it so the command line can warn.
* An empty text section gets a flagged placeholder; an empty first section also gets a flagged
  draft paragraph with the tables' key counts — the restated rule's ``summary``
  (:func:`xls_gongkai.rules.summary_text`), so the draft agrees with R9 by construction.

A cell left blank in the data stays blank in the document; totals are printed as stored (the
rules decide whether they are right, not the renderer). Everything flagged starts with
``【待补充】``, which the importer skips, so render → import gives back the same Report.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from xls_gongkai.documents.items import PENDING_MARK
from xls_gongkai.errors import UsageError, xml_text
from xls_gongkai.output import atomic_path
from xls_gongkai.report import CellKey, Report, Value
from xls_gongkai.rules import engine, missing_mentions, summary_text
from xls_gongkai.spec import PATH_SEP, Format, Node, Section, Table

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

__all__ = [
    "SUMMARY_MARK",
    "TEXT_PLACEHOLDER",
    "Grid",
    "GridCell",
    "document_title",
    "missing_statements",
    "placeholder",
    "render",
    "render_docx",
    "render_html",
    "render_markdown",
    "section_grid",
    "section_text",
    "summary",
    "table_grid",
    "value_text",
]

Target = Literal["md", "html", "docx"]

#: Starts the draft paragraph of key counts offered for an empty first section.
SUMMARY_MARK = f"{PENDING_MARK}（数据摘要，核对后可采用）"
#: Stands in for a text section the report has no text for.
TEXT_PLACEHOLDER = f"{PENDING_MARK}本部分内容尚未填写。"
_FONT = "宋体"
_HEADING_FONT = "黑体"


def document_title(report: Report) -> str:
    return f"{report.unit.name}{report.year}年政府信息公开工作年度报告"


def placeholder(text: str) -> str:
    """A sentence render had to make up, flagged (the importer skips it)."""
    return f"{PENDING_MARK}{text}"


def summary(report: Report) -> str:
    """The tables' key counts as the restated rule words them, totals a table left blank taken
    as the sum of their parts ("" when the format has no such rule or the report no such cells)."""
    values = report.values
    if not values:
        return ""
    full = engine(report.format).with_totals(values, keep=values.keys())
    return summary_text(replace(report, values=full))


def section_text(report: Report, section: Section) -> tuple[str, list[str]]:
    """The text printed under a text section, and the placeholders it had to insert.

    An empty first section gets the placeholder and a paragraph with the tables' key counts
    (:func:`summary`) that the unit may keep.
    """
    text = (report.texts.get(section.id) or "").strip()
    flagged: list[str] = []
    if not text:
        text = TEXT_PLACEHOLDER
        flagged.append(f"{section.label}：{TEXT_PLACEHOLDER}")
        counts = summary(report) if section is report.format.text_sections[0] else ""
        if counts:
            # flagged too: the unit adopts it by deleting the mark (and an import ignores it)
            text = f"{text}\n{SUMMARY_MARK}{counts}"
    for rule in missing_mentions(report):
        if rule.section == section.id and rule.placeholder:
            sentence = placeholder(rule.placeholder)
            text = sentence if text == TEXT_PLACEHOLDER else f"{text}\n{sentence}"
            flagged.append(f"{section.label}：缺少{rule.title}，已插入待补充语句")
    return text, flagged


def missing_statements(report: Report) -> list[str]:
    """What the rendered document had to fill with 【待补充】 placeholders (for a warning)."""
    out: list[str] = []
    for s in report.format.text_sections:
        out.extend(section_text(report, s)[1])
    return out


def value_text(report: Report, key: CellKey) -> str:
    """A stored value as printed: blank when missing, amounts without trailing zeros."""
    v: Value | None = report.values.get(key)
    if v is None:
        return ""
    if isinstance(v, Decimal):
        d = v.normalize()
        return format(d, "f") if d != d.to_integral_value() else str(int(d))
    return str(v)


# --------------------------------------------------------------------------- the table grid


@dataclass(frozen=True)
class GridCell:
    """One printed cell (the anchor of a merge); ``key`` is set on value cells."""

    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1
    header: bool = False
    key: CellKey | None = None
    block: bool = False  # a block title row of 表二 ("第二十条第（一）项"), printed bold


@dataclass(frozen=True)
class Grid:
    """A table laid out as printed: anchors of merged cells on a rows × cols grid."""

    rows: int
    cols: int
    header_rows: int
    cells: tuple[GridCell, ...]

    def at(self) -> dict[tuple[int, int], GridCell]:
        return {(c.row, c.col): c for c in self.cells}


def _row_nodes(table: Table, report: Report | None) -> list[tuple[Node, bool]]:
    """The printed rows as (node, as_leaf), outermost first in document order.

    A group row with stored values (a 2021 table printing （六）其他处理 as one row) is printed
    as one row without its sub-rows, so that rendering and importing keep the Report's shape.
    """
    stored = {r for (t, r, _c) in (report.values if report else {}) if t == table.id}
    out: list[tuple[Node, bool]] = []

    def walk(node: Node) -> None:
        as_leaf = node.is_leaf or node.id in stored
        out.append((node, as_leaf))
        if not as_leaf:
            for child in node.children:
                walk(child)

    for top in table.rows:
        walk(top)
    return out


def _leaf_count(node: Node, as_leaf: dict[str, bool]) -> int:
    if as_leaf.get(node.id, node.is_leaf):
        return 1
    return sum(_leaf_count(c, as_leaf) for c in node.children)


def _stub_width(table: Table) -> int:
    if not any(n.label for top in table.rows for n in top.walk()):
        return 0  # 表四: one row of numbers, no row label
    return table.row_depth


def table_grid(table: Table, report: Report | None = None, *, width: int | None = None) -> Grid:
    """The official printed layout of one table.

    The corner note spans the row-label columns and the header rows; a column group spans its
    leaves, a leaf above the deepest header row spans down to it; a row group spans its sub-rows
    and a row leaf spans right to the values. ``width`` widens the table (表二's blocks share one
    table of 4 columns): a block with one value column spans it over the extra columns (2021:
    本年处理决定数量 across the block), a block with several keeps blank cells after its last
    column (2019: the 4th cell of （八） and （九） is printed empty).
    """
    stub = _stub_width(table)
    depth = table.column_depth
    leaves = table.leaf_columns
    own_width = stub + len(leaves)
    total_width = max(width or own_width, own_width)
    extra = total_width - own_width
    span_last = len(table.leaf_columns) == 1
    pad = 0 if span_last else extra  # blank cells after the last value column
    if not span_last:
        extra = 0
    cells: list[GridCell] = []
    if stub:
        cells.append(GridCell(0, 0, table.corner, rowspan=depth, colspan=stub, header=True))

    last_leaf = leaves[-1].id

    def place_col(node: Node, col: int, level: int) -> int:
        span = len(node.leaves())
        if node.is_leaf:
            cs = 1 + (extra if node.id == last_leaf else 0)
            cells.append(GridCell(level, stub + col, node.label, rowspan=depth - level, colspan=cs, header=True))
        else:
            cs = span + (extra if node.leaves()[-1].id == last_leaf else 0)
            cells.append(GridCell(level, stub + col, node.label, colspan=cs, header=True))
            c = col
            for child in node.children:
                c += place_col(child, c, level + 1)
        return span

    c = 0
    for top in table.columns:
        c += place_col(top, c, 0)
    for k in range(pad):
        cells.append(GridCell(0, own_width + k, "", rowspan=depth, header=True))

    printed = _row_nodes(table, report)
    as_leaf = {n.id: leaf for n, leaf in printed}
    row = depth

    def place_row(node: Node, r: int, level: int) -> int:
        leafish = as_leaf[node.id]
        if leafish:
            if stub:
                cells.append(GridCell(r, level, node.label, colspan=stub - level))
            for j, col_node in enumerate(leaves):
                cs = 1 + (extra if j == len(leaves) - 1 else 0)
                key = (table.id, node.id, col_node.id)
                text = value_text(report, key) if report else ""
                cells.append(GridCell(r, stub + j, text, colspan=cs, key=key))
            for k in range(pad):
                cells.append(GridCell(r, own_width + k, ""))
            return 1
        n = _leaf_count(node, as_leaf)
        cells.append(GridCell(r, level, node.label, rowspan=n))
        rr = r
        for child in node.children:
            rr += place_row(child, rr, level + 1)
        return n

    for top in table.rows:
        row += place_row(top, row, 0)
    return Grid(rows=row, cols=total_width, header_rows=depth, cells=tuple(cells))


def section_grid(fmt: Format, section: Section, report: Report | None) -> tuple[Grid, int]:
    """The one printed table of a table section, and its number of row-label columns.

    表三 and 表四 are one table each. 表二's blocks (第二十条第（一）项 …) are stacked into one table,
    as in the official attachment: a title row spanning the width above each block.
    """
    tables = [fmt.table(t) for t in section.tables]
    if len(tables) == 1:
        return table_grid(tables[0], report), _stub_width(tables[0])
    width = max(_stub_width(t) + len(t.leaf_columns) for t in tables)
    cells: list[GridCell] = []
    top = 0
    for t in tables:
        cells.append(GridCell(top, 0, t.title, colspan=width, header=True, block=True))
        grid = table_grid(t, report, width=width)
        cells.extend(replace(c, row=c.row + top + 1) for c in grid.cells)
        top += 1 + grid.rows
    return Grid(rows=top, cols=width, header_rows=0, cells=tuple(cells)), 1


def _blocks(report: Report) -> Iterator[tuple[str, Section, object]]:
    """The document in order: ("heading", section, None), ("text", section, str), ("tables", section, grids)."""
    fmt = report.format
    for section in fmt.sections:
        yield ("heading", section, None)
        if section.kind == "text":
            yield ("text", section, section_text(report, section)[0])
        else:
            yield ("tables", section, section_grid(fmt, section, report))


# --------------------------------------------------------------------------- Markdown


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table, report: Report) -> list[str]:
    stub = _stub_width(table)
    head = [_md_escape(c.path_text) for c in table.leaf_columns]
    lines = []
    if stub:
        head = [_md_escape(table.corner or "项目"), *head]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---"] * len(head)) + "|")
    for node, leafish in _row_nodes(table, report):
        if not leafish:
            continue
        vals = [value_text(report, (table.id, node.id, c.id)) for c in table.leaf_columns]
        if stub:
            vals = [_md_escape(PATH_SEP.join(p for p in node.path if p)), *vals]
        lines.append("| " + " | ".join(vals) + " |")
    return lines


def render_markdown(report: Report) -> str:
    fmt = report.format
    out = [f"# {document_title(report)}", ""]
    for kind, section, payload in _blocks(report):
        if kind == "heading":
            out += [f"## {section.label}", ""]
        elif kind == "text":
            assert isinstance(payload, str)
            for para in payload.split("\n"):
                if para.strip():
                    out += [f"**{para}**" if para.startswith(PENDING_MARK) else para, ""]
        else:
            for tid in section.tables:
                t = fmt.table(tid)
                if len(section.tables) > 1:
                    out += [f"**{t.title}**", ""]
                out += _md_table(t, report)
                out.append("")
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------- HTML


def _html_grid(grid: Grid) -> list[str]:
    at = grid.at()
    out = ['<table class="gongkai" border="1" cellspacing="0" cellpadding="4">']
    for r in range(grid.rows):
        tds = []
        for c in range(grid.cols):
            cell = at.get((r, c))
            if cell is None:
                continue
            tag = "th" if cell.header else "td"
            attrs = ""
            if cell.rowspan > 1:
                attrs += f' rowspan="{cell.rowspan}"'
            if cell.colspan > 1:
                attrs += f' colspan="{cell.colspan}"'
            if cell.key is not None:
                attrs += ' class="num"'
            elif cell.block:
                attrs += ' class="block"'
            tds.append(f"<{tag}{attrs}>{html.escape(cell.text)}</{tag}>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</table>")
    return out


_CSS = (
    "body{font-family:'SimSun','宋体','Songti SC','Noto Serif CJK SC',serif;max-width:60em;margin:2em auto;"
    "line-height:1.8}h1{text-align:center;font-size:1.5em}h2{font-family:'SimHei','黑体',sans-serif;font-size:1.15em}"
    "table.gongkai{border-collapse:collapse;margin:0 0 1.5em;width:100%}"
    "table.gongkai th,table.gongkai td{border:1px solid #000;padding:2px 6px;font-size:.9em}"
    "table.gongkai th{font-weight:normal;text-align:center}td.num{text-align:center}"
    "@page{size:A4;margin:2.5cm}@media print{body{margin:0;max-width:none}}"
    "th.block{text-align:center;font-weight:bold}mark{background:#ffeb3b}"
)


def render_html(report: Report) -> str:
    title = html.escape(document_title(report))
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        f'<head><meta charset="utf-8"><title>{title}</title><style>{_CSS}</style></head>',
        "<body>",
        f"<h1>{title}</h1>",
    ]
    for kind, section, payload in _blocks(report):
        if kind == "heading":
            out.append(f"<h2>{html.escape(section.label)}</h2>")
        elif kind == "text":
            assert isinstance(payload, str)
            for para in payload.split("\n"):
                if not para.strip():
                    continue
                body = html.escape(para)
                out.append(f"<p><mark>{body}</mark></p>" if para.startswith(PENDING_MARK) else f"<p>{body}</p>")
        else:
            assert isinstance(payload, tuple)
            out += _html_grid(payload[0])
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- DOCX


def _east_asian(run_or_style: object, font: str) -> None:
    """Set the Latin and the East Asian font; Word, WPS and LibreOffice pick Chinese glyphs by w:eastAsia."""
    from docx.oxml.ns import qn

    element = run_or_style.element  # type: ignore[attr-defined]
    # get_or_add_rFonts keeps the schema order of w:rPr (rFonts before sz, b…): Word rejects
    # a document whose run properties are out of order.
    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), font)


_TEXT_WIDTH_CM = 15.8  # A4 minus the margins set in _docx_document


def _column_widths(grid: Grid, stub: int) -> list[float]:
    """Narrow number columns and wide label columns, in cm (Word would split the page evenly)."""
    values = grid.cols - stub
    value_w = 1.15 if values >= 7 else 3.2
    if not stub:
        value_w = _TEXT_WIDTH_CM / values
    weights = {1: [1.0], 2: [0.4, 0.6], 3: [0.24, 0.28, 0.48]}.get(stub, [1.0 / max(stub, 1)] * stub)
    stub_total = _TEXT_WIDTH_CM - values * value_w
    return [stub_total * w for w in weights] + [value_w] * values


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _row_flags(row: Any, header: bool) -> None:
    """Keep a table row on one page, and repeat a header row on every page (python-docx has no
    public property for either: w:cantSplit and w:tblHeader, in the schema's order)."""
    from docx.oxml import OxmlElement

    tr_pr = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader") if header else ("w:cantSplit",):
        tr_pr.append(OxmlElement(tag))


def _fill(cell: Any, g: GridCell, size_pt: float) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = cell.paragraphs[0]
    if g.header or g.key is not None:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if g.text:
        run = paragraph.add_run(g.text)
        run.font.size = Pt(size_pt)
        if g.block:
            run.bold = True


def _docx_grid(doc: DocxDocument, grid: Grid, size_pt: float, stub: int) -> None:
    """One table in the official layout: every cell written, then the merges made with
    python-docx's ``_Cell.merge`` (on cells taken once, before any merge, so no merge walks
    the whole table again)."""
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
    from docx.shared import Cm

    widths = _column_widths(grid, stub)
    table = doc.add_table(rows=grid.rows, cols=grid.cols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    # LibreOffice lays out by the grid columns (w:tblGrid), Word by the cell widths: set both.
    for column, w in zip(table.columns, widths, strict=False):
        column.width = Cm(w)
    cells = []
    for r, row in enumerate(table.rows):
        _row_flags(row, r < grid.header_rows)
        cells.append(list(row.cells))
        for c, cell in enumerate(cells[-1]):
            cell.width = Cm(widths[c])
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    for g in grid.cells:
        _fill(cells[g.row][g.col], g, size_pt)
    for g in grid.cells:
        if g.rowspan > 1 or g.colspan > 1:
            cells[g.row][g.col].merge(cells[g.row + g.rowspan - 1][g.col + g.colspan - 1])
    doc.add_paragraph()


def _docx_document(report: Report) -> DocxDocument:
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    doc = docx.Document()
    sec = doc.sections[0]
    # A4 portrait, the margins of 党政机关公文格式 (GB/T 9704) rounded.
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.6)
    sec.top_margin, sec.bottom_margin = Cm(3.7), Cm(3.5)
    # Page numbers centred in the footer ("— 1 —" as in government documents), a PAGE field
    # that Word, WPS and LibreOffice all update.
    footer = sec.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("— ")
    footer._p.append(
        parse_xml(f'<w:fldSimple xmlns:w="{_W_NS}" w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>')
    )
    footer.add_run(" —")
    normal = doc.styles["Normal"]
    normal.font.size = Pt(12)
    _east_asian(normal, _FONT)
    # Chinese as the East Asian language: Word and WPS then use Chinese line breaking and proofing.
    rpr = normal.element.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:  # w:lang is near the end of w:rPr's sequence: appending keeps the order
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")
    doc.core_properties.title = document_title(report)
    doc.core_properties.author = report.unit.name
    for name in ("Title", "Heading 1", "Heading 2"):
        style = doc.styles[name]
        _east_asian(style, _HEADING_FONT)
        style.font.color.rgb = RGBColor(0, 0, 0)

    title = doc.add_paragraph(style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(document_title(report))
    run.font.size = Pt(18)
    _east_asian(run, _HEADING_FONT)

    for kind, section, payload in _blocks(report):
        if kind == "heading":
            h = doc.add_paragraph(style="Heading 1")
            r = h.add_run(section.label)
            r.font.size = Pt(15)
            _east_asian(r, _HEADING_FONT)
        elif kind == "text":
            assert isinstance(payload, str)
            for para in payload.split("\n"):
                if not para.strip():
                    continue
                p = doc.add_paragraph()
                p.paragraph_format.first_line_indent = Pt(24)
                r = p.add_run(para)
                _east_asian(r, _FONT)
                if para.startswith(PENDING_MARK):
                    r.font.highlight_color = WD_COLOR_INDEX.YELLOW
        else:
            assert isinstance(payload, tuple)
            grid, stub = payload
            _docx_grid(doc, grid, 9.0 if grid.cols > 8 else 10.5, stub)
    return doc


def render_docx(report: Report, path: str | Path) -> Path:
    """Write the report as a Word document (opens in Word, WPS and LibreOffice).

    Needs python-docx (a dependency): in an environment that lacks it, a
    :class:`~xls_gongkai.errors.UsageError` says how to install it.
    """
    try:
        import docx  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            "生成 Word 文稿需要 python-docx（xls-gongkai 的依赖），当前环境中缺少它：请运行 pip install python-docx 后再试。"
        ) from exc
    out = Path(path)
    with atomic_path(out) as tmp:
        _docx_document(report).save(str(tmp))
    return out


def render(report: Report, to: Target, out: str | Path | None = None) -> str | Path:
    """Render to ``md`` / ``html`` (returns the text, also written to ``out`` if given) or ``docx`` (needs ``out``)."""
    report = _xml_safe(report)
    if to == "docx":
        if out is None:
            raise ValueError("docx 需要输出文件路径")
        return render_docx(report, out)
    text = render_markdown(report) if to == "md" else render_html(report)
    if out is not None:
        with atomic_path(Path(out)) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return text


def _xml_safe(report: Report) -> Report:
    """The report with its texts and unit fit for any document (control characters shown)."""
    unit = replace(report.unit, name=xml_text(report.unit.name), code=xml_text(report.unit.code))
    return replace(report, unit=unit, texts={k: xml_text(v) for k, v in report.texts.items()})
