"""Import a published annual report (plain text, Markdown, HTML, Word or PDF) into a Report.

Published reports copy the official tables, but not exactly: labels have typos and variant
brackets, cells are left blank, amounts carry units, rows are split or merged, sections are
renumbered (tests/data/FORMATS.md §6). The importer therefore never relies on positions in the document:

1. the source becomes paragraphs and table rows (:mod:`~xls_gongkai.documents.items`);
2. the format is the candidate whose own labels the tables use (the caller's local variants
   included), the unit and year come from the title;
3. headings named by the format's sections split the text (:mod:`~xls_gongkai.documents.sections`);
   the text sections become ``Report.texts``;
4. the table rows, laid out as one grid, are found by the same finder the workbook reader uses
   for a hand-made workbook (:mod:`~xls_gongkai.documents.tables`);
5. every rule of the format is checked by the one engine — relations, R9 (numbers restated in
   the text) and T1 (the 信息处理费 statement) — and, with last year's report, the cross-year ones.

Blank cells stay missing in the Report. For the checks a blank *total* is taken as the sum of
its parts (a report that prints no total claims nothing that could be wrong), so the rules flag
only numbers that the document actually contradicts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xls_gongkai.documents.flat import flat_labels, is_flat, unroll
from xls_gongkai.documents.items import (
    PENDING_MARK,
    SUFFIXES,
    Item,
    Para,
    Row,
    UnreadableDocumentError,
    container_of,
    document_items,
    heading_like,
    html_items,
    text_items,
)
from xls_gongkai.documents.sections import Parts, clean, split_sections
from xls_gongkai.documents.tables import read_tables
from xls_gongkai.errors import XlsGongkaiError, printable
from xls_gongkai.issues import Code, Issue, Result, Unrecognised, issue, unreadable
from xls_gongkai.parsing.labels import normalise, strip_number
from xls_gongkai.report import CellKey, Report, Unit
from xls_gongkai.rules import check_report, engine, year_on_year_issues
from xls_gongkai.spec import Format, builtin_formats, find_format, format_for_year, get_format

__all__ = [
    "SUFFIXES",
    "Item",
    "Para",
    "Row",
    "UnreadableDocumentError",
    "detect_format",
    "document_items",
    "import_document",
    "import_safely",
    "import_text",
]

_TITLE = re.compile(r"^(.*?)((?:19|20)\d{2})年度?(.*?)(?:政府信息公开|政务公开).*报告")
_CN_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_PERIOD = re.compile(r"((?:19|20)\d{2})年1月1日")
#: Titles are short: only the start of a paragraph is matched against the title pattern.
_TITLE_CHARS = 200


# --------------------------------------------------------------------------- format


def _cells(items: Sequence[Item]) -> frozenset[str]:
    """Every table cell and short line, normalised (what tells one format's tables from another's;
    running text may name things of either: "行政规范性文件60件" in a 2019 report's 总体情况)."""
    out: set[str] = set()
    for item in items:
        texts = item.cells if isinstance(item, Row) else (item.text,) if len(item.text) < 40 else ()
        for t in texts:
            if t.strip():
                out.add(normalise(t))
                out.add(strip_number(t))
    return frozenset(out)


def _hits(labels: frozenset[str], cells: frozenset[str]) -> int:
    return sum(1 for label in labels if normalise(label) in cells or strip_number(label) in cells)


def detect_format(items: Sequence[Item], year: int | None, formats: Sequence[Format] = ()) -> tuple[Format, str]:
    """The format a document uses, from its table labels; also how it was decided (Chinese).

    The candidates are ``formats`` (the caller's local variants) and the built-in ones. Two
    candidates are compared by the labels each has and the other lacks: the one more of whose
    own labels the document uses wins. Among the undefeated, the year's format is preferred,
    then the one whose labels the document lacks least (a variant's extra row that is not
    there), then the caller's.
    """
    candidates = list(dict.fromkeys((*formats, *builtin_formats())))
    cells = _cells(items) | flat_labels(items, candidates)
    losses = {f.id + f.digest: 0 for f in candidates}
    wins = dict(losses)
    for a in candidates:
        for b in candidates:
            if a is not b:
                edge = _hits(a.leaf_labels - b.leaf_labels, cells) - _hits(b.leaf_labels - a.leaf_labels, cells)
                wins[a.id + a.digest] += edge > 0
                losses[a.id + a.digest] += edge < 0

    def rank(f: Format) -> tuple[int, int, int, int]:
        k = f.id + f.digest
        by_year = 0 if year is not None and f.covers(year) else 1
        return (losses[k], -wins[k], by_year, len(f.leaf_labels) - _hits(f.leaf_labels, cells))

    chosen = min(candidates, key=rank)
    k = chosen.id + chosen.digest
    if wins[k] and not losses[k]:
        return chosen, f"按表格标签判断为{chosen.name}格式"
    if year is not None and chosen.covers(year):
        return chosen, f"表格标签不足以判断格式，按年度 {year} 采用{chosen.name}格式"
    return chosen, f"无法判断格式，采用{chosen.name}格式"


def _resolve(
    fmt: Format | str | None, formats: Sequence[Format], items: Sequence[Item], year: int | None
) -> tuple[Format, str]:
    if isinstance(fmt, Format):
        return fmt, f"按指定采用{fmt.name}格式"
    if fmt is not None:
        chosen = find_format(fmt, tuple(formats)) or get_format(fmt)
        return chosen, f"按指定采用{chosen.name}格式"
    return detect_format(items, year, formats)


# --------------------------------------------------------------------------- title, year, unit


def _title(items: Sequence[Item]) -> tuple[str, int | None, str]:
    """(unit name, year, title text) from the document's title lines."""
    previous = ""
    for item in items[:30]:
        if not isinstance(item, Para):
            continue
        text = clean(item.text[:_TITLE_CHARS])
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
        if heading_like(text):
            break
        previous = re.sub(r"\s+", "", text)
    return "", None, ""


@dataclass(frozen=True)
class _Identity:
    unit: Unit
    year: int
    title: str
    issues: tuple[Issue, ...]


def _identity(items: Sequence[Item], parts: Parts, fmt: Format, year: int | None, unit: Unit | str | None) -> _Identity:
    """Unit and year: as given, else from the title; and what is doubtful about them."""
    title_unit, title_year, title = _title(items)
    issues: list[Issue] = []
    report_year = year if year is not None else title_year
    if report_year is None:
        report_year = fmt.year_from
        issues.append(issue(Code.YEAR_UNKNOWN, note=f"标题中没有找到报告年度，按 {report_year} 年计"))
    elif year is not None and title_year is not None and year != title_year:
        note = f"标题写的是 {title_year} 年，按指定的 {year} 年导入"
        issues.append(issue(Code.YEAR_IN_DOUBT, note=note, found=str(title_year), expected=str(year)))
    first_text = fmt.text_sections[0].id if fmt.text_sections else ""
    head = " ".join(parts.preamble + parts.texts.get(first_text, [])[:3])
    period = _PERIOD.search(unicodedata.normalize("NFKC", head))
    if period and title_year is not None and int(period.group(1)) != title_year:
        note = f"标题是 {title_year} 年度报告，但统计期限写的是 {period.group(1)} 年"
        issues.append(issue(Code.YEAR_IN_DOUBT, note=note, found=period.group(1), expected=str(title_year)))
    if not fmt.covers(report_year):
        note = f"{report_year} 年度的报告应使用{format_for_year(report_year).name}格式，本报告的表格是{fmt.name}格式"
        issues.append(issue(Code.OTHER_FORMAT, note=note))
    if isinstance(unit, Unit):
        the_unit = unit
    else:
        name = unit or title_unit
        the_unit = Unit(name, name)
        if not name:
            issues.append(issue(Code.UNIT_UNKNOWN, note="标题中没有找到单位名称"))
    return _Identity(the_unit, report_year, title, tuple(issues))


# --------------------------------------------------------------------------- checks


def _checked(report: Report, previous: Report | None) -> list[Issue]:
    """Every rule of the format on the figures as printed, blank totals taken as the sum of
    their parts (a printed total stands, right or wrong); with last year's report the
    cross-year rules too."""
    eng = engine(report.format)
    full = replace(report, values=eng.with_totals(report.values, keep=report.values.keys()))
    issues = check_report(full, typed=report.values.keys())
    if previous is None:
        return issues
    if previous.year != report.year - 1:
        note = f"作为上一年度提供的报告是 {previous.year} 年度的，本报告是 {report.year} 年度。跨年度核对可能没有意义"
        issues.append(issue(Code.YEAR_IN_DOUBT, note=note, found=str(previous.year), expected=str(report.year - 1)))
    last = engine(previous.format).with_totals(previous.values, keep=previous.values.keys())
    return issues + year_on_year_issues(full, replace(previous, values=last))


def _known(issues: list[Issue], fmt: Format, undecided: frozenset[CellKey]) -> list[Issue]:
    """``issues`` less those about cells left blank because their run of digits could not be
    read (a one-line report): the relations they take part in cannot be checked, and the table
    is there even when none of its rows could be read. The rows are reported on their own."""
    if not undecided:
        return issues
    checks = {c.key_text: c for c in engine(fmt).checks}
    rules = {r.id for r in fmt.rules}
    tables = {k[0] for k in undecided}

    def about(i: Issue) -> bool:
        if i.code == Code.NOT_IN_DOCUMENT:
            return i.table in tables and not i.row
        if i.code not in rules:
            return False
        check = checks.get(i.key)
        if check is not None:
            return any(k in undecided for k in check.cells)
        if not i.table or not i.row:
            return False
        t = fmt.table(i.table)
        cols = t.column_nodes[i.column].leaves() if i.column in t.column_nodes else t.leaf_columns
        return any((i.table, r.id, c.id) in undecided for r in t.row_nodes[i.row].leaves() for c in cols)

    return [i for i in issues if not about(i)]


# --------------------------------------------------------------------------- the import


def _import(
    items: Sequence[Item],
    *,
    source: str,
    container: str,
    fmt: Format | str | None,
    formats: Sequence[Format],
    year: int | None,
    unit: Unit | str | None,
    previous: Report | None,
) -> Result:
    chosen, how = _resolve(fmt, formats, items, year if year is not None else _title(items)[1])
    unrolled = unroll(items, chosen) if is_flat(items, (chosen,)) else None
    if unrolled is not None:
        items = unrolled.items
        how += "；全文排成一行，连在一起的数字按勾稽关系拆分"
    undecided = unrolled.undecided if unrolled is not None else frozenset()
    parts = split_sections(items, chosen)
    tables = read_tables(parts.rows, chosen, parts.heading_rows, undecided)
    if not tables.values and not tables.located and not parts.texts:
        name = Path(source).name if source else "（文本）"
        raise UnreadableDocumentError(
            f"文件 {name} 中没有找到政府信息公开工作年度报告的表格或章节。"
            "请确认这是年度报告的正文（表格用制表符分隔，或为网页/Word 表格）。"
        )
    who = _identity(items, parts, chosen, year, unit)
    texts = {}
    for section in chosen.text_sections:
        paras = [p for p in parts.texts.get(section.id, []) if not p.startswith(PENDING_MARK)]
        if paras:
            texts[section.id] = "\n".join(paras)
    report = Report(who.unit, who.year, chosen, dict(tables.values), texts)
    missing = [issue(Code.TEXT_MISSING, section=s.label) for s in chosen.text_sections if s.id not in texts]
    runs = unrolled.issues if unrolled is not None else ()
    checked = _known(_checked(report, previous), chosen, undecided)
    issues = [*runs, *_known(tables.issues, chosen, undecided), *who.issues, *missing, *checked]
    issues = [replace(i, file=source, unit_code=who.unit.code, unit_name=who.unit.name) for i in issues]
    notes: dict[str, Any] = {
        "format_detected": how,
        "title": who.title,
        "notes": parts.notes,
        "preamble": parts.preamble,
    }
    return Result(
        report=report,
        issues=tuple(issues),
        source=source,
        container=container,
        located_by="document",
        unrecognised=tuple(Unrecognised(sheet="", cell="", text=t) for t in tables.unrecognised),
        notes=notes,
    )


def import_text(
    text: str,
    *,
    kind: str = "text",
    source: str = "",
    fmt: Format | str | None = None,
    formats: Sequence[Format] = (),
    year: int | None = None,
    unit: Unit | str | None = None,
    previous: Report | None = None,
) -> Result:
    """Import a report given as a string: ``kind`` is ``text`` (PDF-like, wrapped lines
    joined), ``md`` or ``html``."""
    items = html_items(text, source) if kind == "html" else text_items(text, wrapped=kind == "text")
    container = {"text": "txt", "md": "md", "html": "html"}.get(kind, kind)
    return _import(
        items, source=source, container=container, fmt=fmt, formats=formats, year=year, unit=unit, previous=previous
    )


def import_document(
    path: str | Path,
    *,
    fmt: Format | str | None = None,
    formats: Sequence[Format] = (),
    year: int | None = None,
    unit: Unit | str | None = None,
    previous: Report | None = None,
) -> Result:
    """Import one published report (.txt, .md, .html, .docx, .pdf) into a Report with its issues.

    ``fmt``, ``year`` and ``unit`` override what the document says (format from its table
    labels, year and unit from its title); ``formats`` are local variants the format may be
    detected among. With last year's report as ``previous`` the cross-year rules are checked
    too. Data problems are issues in the result; a file that cannot be read raises
    :class:`UnreadableDocumentError` (or :class:`~xls_gongkai.errors.UsageError` for an
    unsupported file type), in Chinese, naming the file.

    >>> r = import_document("tests/data/2024_huaianshi_zhengfu.txt")  # doctest: +SKIP
    >>> r.report.value("t3", "new", "total")  # doctest: +SKIP
    3119
    """
    p = Path(path)
    return _import(
        document_items(p),
        source=printable(str(p)),
        container=container_of(p),
        fmt=fmt,
        formats=formats,
        year=year,
        unit=unit,
        previous=previous,
    )


def import_safely(path: str | Path, **kw: Any) -> Result:
    """:func:`import_document` that never raises for a file it cannot use: the result then has
    no report and one ``file-unreadable`` issue (what the batch layer runs in parallel)."""
    try:
        return import_document(path, **kw)
    except XlsGongkaiError as exc:
        return replace(unreadable(str(path), str(exc)), container=container_of(path))
