"""Render a Report as the annual report document: Markdown, HTML or Word (.docx).

The document has the official structure: the title "<单位><年>年政府信息公开工作年度报告" (a
summary's "某某县汇总" gives 某某县's title, :func:`report_owner`; a caller may give its own), the
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

* Data that fails the rules (:func:`data_errors`; for a summary also the units summed whose own
  figures fail, when the caller knows them) is flagged where a reader cannot miss it: a notice
  under the title and, under each failing table, one line per failing check
  (【数据待核：表三“自然人”列 一+二≠（七）+四，相差 -16】), highlighted like 【待补充】
  (:class:`DataNotes`, :func:`data_notes`). A report that is not fit to publish never looks as
  if it were.
* 表三's seven number columns are 1.5 cm wide, enough for 6-digit numbers on one line; the table
  reaches a little into the side margins so that its row labels wrap no more than they must.

A cell left blank in the data stays blank in the document; totals are printed as stored (the
rules decide whether they are right, not the renderer). Everything flagged starts with
``【待补充】`` or ``【数据待核``; the importer skips the first and finds no table rows in the
second, so render → import gives back the same Report.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from xls_gongkai.documents.items import PENDING_MARK
from xls_gongkai.errors import UsageError, xml_text
from xls_gongkai.issues import Issue
from xls_gongkai.numbers import format_number
from xls_gongkai.output import atomic_path
from xls_gongkai.report import CellKey, Report, Value
from xls_gongkai.rules import check_report, engine, missing_mentions, summary_text
from xls_gongkai.spec import PATH_SEP, Each, Format, Node, RuleKind, Section, Table

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

__all__ = [
    "DATA_MARK",
    "SUMMARY_MARK",
    "TEXT_PLACEHOLDER",
    "DataNotes",
    "Grid",
    "GridCell",
    "data_errors",
    "data_notes",
    "document_title",
    "missing_statements",
    "placeholder",
    "render",
    "render_docx",
    "render_html",
    "render_markdown",
    "report_owner",
    "section_grid",
    "section_text",
    "summary",
    "table_grid",
    "units_with_errors",
    "value_text",
]

Target = Literal["md", "html", "docx"]

#: Starts the draft paragraph of key counts offered for an empty first section.
SUMMARY_MARK = f"{PENDING_MARK}（数据摘要，核对后可采用）"
#: Stands in for a text section the report has no text for.
TEXT_PLACEHOLDER = f"{PENDING_MARK}本部分内容尚未填写。"
_FONT = "宋体"
_HEADING_FONT = "黑体"


#: Starts every line render writes about data that fails the rules (highlighted like 【待补充】).
DATA_MARK = "【数据待核"

#: What a summary's name ends with besides the unit: 某某县汇总, 某某县（汇总）, 某某县合计, 汇总表.
_SUMMARY_WORDS = re.compile(r"(?:[（(]\s*(?:汇总|合计|总计)\s*[）)]|汇总表|汇总|合计)\s*$")
#: A name that is only a scope (全县, 全市, 本区…), not a unit.
_SCOPE_ONLY = re.compile(r"^(?:全|本)(?:县|市|区|旗|州|盟|省|镇|乡)(?:级)?$")


def report_owner(report: Report) -> str:
    """Whose report the document is: the unit's name without what marks a summary.

    "某某县汇总", "某某县（汇总）", "某某县合计" are 某某县's report; a name that is only a scope
    ("全县汇总") or nothing ("汇总") names no one, so the unit's 上级 is used when it is known,
    else nothing (the title then starts with the year; ``--title`` sets it).
    """
    name = report.unit.name.strip()
    while (stripped := _SUMMARY_WORDS.sub("", name).strip()) != name:
        name = stripped
    if not name or _SCOPE_ONLY.match(name):
        return report.unit.parent.strip()
    return name


def document_title(report: Report, title: str | None = None) -> str:
    """The document's title: ``title`` when given, else "<单位><年>年政府信息公开工作年度报告"."""
    if title and title.strip():
        return title.strip()
    return f"{report_owner(report)}{report.year}年政府信息公开工作年度报告"


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


# --------------------------------------------------------------------------- data that fails the rules


def data_errors(report: Report) -> list[Issue]:
    """The error issues of the figures as the document prints them (blank totals taken as the
    sum of their parts: a published table that leaves a total blank claims nothing wrong)."""
    filled = replace(report, values=engine(report.format).with_totals(report.values, keep=report.values))
    return [i for i in check_report(filled) if i.is_error]


@dataclass(frozen=True)
class DataNotes:
    """What a document says about data that fails the rules: a notice under the title and, under
    each failing table, one line per failing check — all starting with :data:`DATA_MARK` and
    highlighted like 【待补充】, so a report that is not fit to publish never looks as if it were."""

    notice: str = ""
    #: table id → its lines
    tables: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: lines about no one table, printed under the notice
    general: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.notice)

    @property
    def top(self) -> list[str]:
        """The paragraphs under the title."""
        return [self.notice, *self.general] if self.notice else []

    def under(self, *tables: str) -> list[str]:
        """The lines under a table (or the tables of a section printed as one)."""
        return [line for tid in tables for line in self.tables.get(tid, ())]


def units_with_errors(reports: Sequence[Report]) -> list[str]:
    """The names (else codes) of the unit reports whose figures fail the rules (a summary's units)."""
    return [r.unit.name or r.unit.code for r in reports if data_errors(r)]


def _check_line(report: Report, key: str) -> tuple[str, list[str]] | None:
    """The table and the short lines of one failing check (``key``: :attr:`Check.key_text`)."""
    eng = engine(report.format)
    check = next((c for c in eng.checks if c.key_text == key), None)
    if check is None:
        return None
    table, rule = check.table, check.rule
    filled = eng.with_totals(report.values, keep=report.values)
    outcome = eng.evaluate(check, filled)
    if rule.kind is RuleKind.CELLS:
        cells = [f"{table.name}{table.where(r, c)}{problem}" for (_t, r, c), problem in outcome.bad_cells]
        return table.id, [f"{DATA_MARK}：{cell}】" for cell in cells]
    if rule.each is Each.COLUMN:
        where = f"“{table.column_nodes[check.index].label}”列"
    else:
        where = f"“{table.row_nodes[check.index].path_text}”行" if table.row_nodes[check.index].path_text else ""
    name = f"“{check.name}”" if check.name else ""
    relation = rule.short or rule.title
    return table.id, [f"{DATA_MARK}：{table.name}{name}{where} {relation}，相差 {format_number(outcome.diff)}】"]


def data_notes(report: Report, errors: Sequence[Issue] | None = None, units: Sequence[str] = ()) -> DataNotes:
    """The notes a document carries for ``errors`` (default: :func:`data_errors`) and, for a
    summary, for the ``units`` summed whose own figures have errors (names)."""
    found = data_errors(report) if errors is None else list(errors)
    tables: dict[str, list[str]] = {}
    loose: list[str] = []
    seen: set[str] = set()
    for i in found:
        if i.key:
            if i.key in seen:
                continue
            seen.add(i.key)
            located = _check_line(report, i.key)
            if located is not None:
                for line in located[1]:
                    if line not in tables.get(located[0], []):
                        tables.setdefault(located[0], []).append(line)
                continue
        loose.append(f"{DATA_MARK}：{i.message.rstrip('。')}】")
    parts = []
    if found:
        where = "见有关表格下方的黄色说明" if tables else "见下"
        parts.append(f"本文稿的表格数据有 {len(found)} 处不符合勾稽关系或填报要求（{where}）")
    if units:
        shown = "、".join(units[:5]) + (f"等 {len(units)} 个单位" if len(units) > 5 else "")
        parts.append(f"汇总所含单位中，{shown}的数据有错误，汇总数字可能随之有误")
    if not parts:
        return DataNotes()
    notice = f"{DATA_MARK}】{'；'.join(parts)}。请核对改正后再发布，发布前删除本段。"
    return DataNotes(notice, {t: tuple(lines) for t, lines in tables.items()}, tuple(loose))


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


def _flagged(text: str) -> bool:
    """A paragraph render made up or wrote about the data: highlighted, never the unit's text."""
    return text.startswith((PENDING_MARK, DATA_MARK))


def _resolve(report: Report, notes: DataNotes | None) -> DataNotes:
    return data_notes(report) if notes is None else notes


def render_markdown(report: Report, *, title: str | None = None, notes: DataNotes | None = None) -> str:
    """The report as Markdown; ``notes`` default to :func:`data_notes` of the report."""
    fmt = report.format
    notes = _resolve(report, notes)
    out = [f"# {document_title(report, title)}", ""]
    for line in notes.top:
        out += [f"**{line}**", ""]
    for kind, section, payload in _blocks(report):
        if kind == "heading":
            out += [f"## {section.label}", ""]
        elif kind == "text":
            assert isinstance(payload, str)
            for para in payload.split("\n"):
                if para.strip():
                    out += [f"**{para}**" if _flagged(para) else para, ""]
        else:
            for tid in section.tables:
                t = fmt.table(tid)
                if len(section.tables) > 1:
                    out += [f"**{t.title}**", ""]
                out += _md_table(t, report)
                out.append("")
                for line in notes.under(tid):
                    out += [f"**{line}**", ""]
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


def _html_para(text: str) -> str:
    body = html.escape(text)
    return f"<p><mark>{body}</mark></p>" if _flagged(text) else f"<p>{body}</p>"


def render_html(report: Report, *, title: str | None = None, notes: DataNotes | None = None) -> str:
    """The report as one HTML page; ``notes`` default to :func:`data_notes` of the report."""
    notes = _resolve(report, notes)
    heading = html.escape(document_title(report, title))
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        f'<head><meta charset="utf-8"><title>{heading}</title><style>{_CSS}</style></head>',
        "<body>",
        f"<h1>{heading}</h1>",
    ]
    out += [_html_para(line) for line in notes.top]
    for kind, section, payload in _blocks(report):
        if kind == "heading":
            out.append(f"<h2>{html.escape(section.label)}</h2>")
        elif kind == "text":
            assert isinstance(payload, str)
            out += [_html_para(para) for para in payload.split("\n") if para.strip()]
        else:
            assert isinstance(payload, tuple)
            out += _html_grid(payload[0])
            out += [_html_para(line) for line in notes.under(*section.tables)]
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


_TEXT_WIDTH_CM = 15.8  # A4 minus the margins set in _docx_page
#: A table of many number columns (表三, 表四) reaches 1.1 cm into each side margin (it stays
#: centred, 1.5 cm from the paper's edge): the numbers get their width without squeezing the
#: row labels into more lines than the official tables have.
_WIDE_TABLE_CM = 18.0
#: A number column of 表三: a 6-digit total at 9 pt is about 1.0 cm wide, so with the cell
#: margins below it stays on one line in Word, WPS and LibreOffice, whose digits differ in width.
_NUMBER_COL_CM = 1.5
#: Left and right margin of a number cell (Word's default is 0.19 cm, a quarter of a narrow column).
_CELL_MARGIN_CM = 0.08


def _column_widths(grid: Grid, stub: int) -> list[float]:
    """Number columns wide enough for their numbers, label columns sharing the rest, in cm
    (Word would split the page evenly)."""
    values = grid.cols - stub
    if not stub:
        return [_WIDE_TABLE_CM / values] * values
    if values < 7:
        weights = [1.0] if stub == 1 else [1.0 / stub] * stub
        value_w = 3.2
        return [(_TEXT_WIDTH_CM - values * value_w) * w for w in weights] + [value_w] * values
    stub_total = _WIDE_TABLE_CM - values * _NUMBER_COL_CM
    # The outer label columns hold few words (三、本年度办理结果, （三）不予公开) in fixed widths
    # that leave a gap after their text; the innermost labels take the rest.
    outer = {2: [1.86], 3: [1.86, 1.9]}.get(stub, [stub_total / stub] * (stub - 1))
    return [*outer, stub_total - sum(outer)] + [_NUMBER_COL_CM] * values


def _narrow_margins(cell: Any) -> None:
    """Narrow left and right margins for a number cell (w:tcMar; python-docx has no property
    for it). Label cells keep Word's default, whose gap keeps the columns of a PDF's text apart."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    mar = OxmlElement("w:tcMar")
    for side in ("w:left", "w:right"):
        edge = OxmlElement(side)
        edge.set(qn("w:w"), str(Cm(_CELL_MARGIN_CM).twips))
        edge.set(qn("w:type"), "dxa")
        mar.append(edge)
    cell._tc.get_or_add_tcPr().insert_element_before(mar, "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark")


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
            if c >= stub and grid.cols - stub >= 7:
                _narrow_margins(cell)
    for g in grid.cells:
        _fill(cells[g.row][g.col], g, size_pt)
    for g in grid.cells:
        if g.rowspan > 1 or g.colspan > 1:
            cells[g.row][g.col].merge(cells[g.row + g.rowspan - 1][g.col + g.colspan - 1])
    doc.add_paragraph()


def _docx_page(doc: DocxDocument) -> None:
    """A4 portrait, the margins of 党政机关公文格式 (GB/T 9704) rounded, page numbers in the footer."""
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.shared import Cm

    sec = doc.sections[0]
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


def _docx_styles(doc: DocxDocument) -> None:
    """宋体 body and 黑体 headings as East Asian fonts, Chinese as the East Asian language."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

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
    for name in ("Title", "Heading 1", "Heading 2"):
        style = doc.styles[name]
        _east_asian(style, _HEADING_FONT)
        style.font.color.rgb = RGBColor(0, 0, 0)


def _docx_para(doc: DocxDocument, text: str, *, bold: bool = False) -> None:
    """A body paragraph; a flagged one (【待补充】, 【数据待核】) highlighted yellow."""
    from docx.enum.text import WD_COLOR_INDEX
    from docx.shared import Pt

    p = doc.add_paragraph()
    p.paragraph_format.first_line_indent = Pt(24)
    r = p.add_run(text)
    _east_asian(r, _FONT)
    r.bold = bold or None
    if _flagged(text):
        r.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _docx_document(report: Report, title: str | None, notes: DataNotes) -> DocxDocument:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = docx.Document()
    _docx_page(doc)
    _docx_styles(doc)
    heading = document_title(report, title)
    doc.core_properties.title = heading
    doc.core_properties.author = report.unit.name
    para = doc.add_paragraph(style="Title")
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = para.add_run(heading)
    run.font.size = Pt(18)
    _east_asian(run, _HEADING_FONT)
    for line in notes.top:
        _docx_para(doc, line, bold=line == notes.notice)
    for kind, section, payload in _blocks(report):
        if kind == "heading":
            h = doc.add_paragraph(style="Heading 1")
            r = h.add_run(section.label)
            r.font.size = Pt(15)
            _east_asian(r, _HEADING_FONT)
        elif kind == "text":
            assert isinstance(payload, str)
            for text in payload.split("\n"):
                if text.strip():
                    _docx_para(doc, text)
        else:
            assert isinstance(payload, tuple)
            grid, stub = payload
            _docx_grid(doc, grid, 9.0 if grid.cols > 8 else 10.5, stub)
            for line in notes.under(*section.tables):
                _docx_para(doc, line)
    return doc


def render_docx(report: Report, path: str | Path, *, title: str | None = None, notes: DataNotes | None = None) -> Path:
    """Write the report as a Word document (opens in Word, WPS and LibreOffice); ``notes``
    default to :func:`data_notes` of the report.

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
    document = _docx_document(report, title, _resolve(report, notes))
    with atomic_path(out) as tmp:
        document.save(str(tmp))
    return out


def render(
    report: Report,
    to: Target,
    out: str | Path | None = None,
    *,
    title: str | None = None,
    notes: DataNotes | None = None,
) -> str | Path:
    """Render to ``md`` / ``html`` (returns the text, also written to ``out`` if given) or ``docx`` (needs ``out``).

    ``title`` replaces the title made from the unit's name (:func:`document_title`). ``notes``
    (default: :func:`data_notes` of the report) flag data that fails the rules: a notice under
    the title and a line under each failing table, so the document never looks publishable
    when it is not.
    """
    report = _xml_safe(report)
    title = xml_text(title) if title else None
    if notes is not None:
        # the names of a summary's units are the units' own text: fit them for any document
        tables = {t: tuple(map(xml_text, lines)) for t, lines in notes.tables.items()}
        notes = DataNotes(xml_text(notes.notice), tables, tuple(map(xml_text, notes.general)))
    if to == "docx":
        if out is None:
            raise ValueError("docx 需要输出文件路径")
        return render_docx(report, out, title=title, notes=notes)
    if to == "md":
        text = render_markdown(report, title=title, notes=notes)
    else:
        text = render_html(report, title=title, notes=notes)
    if out is not None:
        with atomic_path(Path(out)) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return text


def _xml_safe(report: Report) -> Report:
    """The report with its texts and unit fit for any document (control characters shown)."""
    unit = replace(report.unit, name=xml_text(report.unit.name), code=xml_text(report.unit.code))
    return replace(report, unit=unit, texts={k: xml_text(v) for k, v in report.texts.items()})
