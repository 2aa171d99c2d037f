"""Read a filled workbook back into a :class:`~xls_gongkai.report.Report`, with every issue found.

Our own template is recognised by its very hidden ``_meta`` sheet (a hint, not proof): the
layout shared with the writer says where every value sits, and the labels at their expected
cells confirm that nobody moved anything. Anything else — moved rows, a renamed sheet, a
hand-made copy of the official tables, LibreOffice's .xls/.ods without ``_meta``, the other
format version — is read by its labels. Then values are parsed, totals recomputed by the rule
engine, every rule checked with the cells' real positions, and whatever lies outside the known
cells is reported. Unusable files raise :class:`~xls_gongkai.errors.WorkbookError` subclasses;
:func:`read_safely` turns those into a ``file-unreadable`` result so one bad file never stops a batch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from xls_gongkai.errors import TemplateMismatchError, UnreadableWorkbookError, UsageError, WorkbookError, printable
from xls_gongkai.issues import Code, Issue, Result, issue, unreadable
from xls_gongkai.parsing.grid import Located
from xls_gongkai.parsing.values import is_blank
from xls_gongkai.reading.cells import special_cells
from xls_gongkai.reading.detail import DETAIL_SHEET, detail_units
from xls_gongkai.reading.explain import read_explanations
from xls_gongkai.reading.extract import extract_texts, extract_values
from xls_gongkai.reading.identity import identify
from xls_gongkai.reading.locate import locate_by_labels, locate_template
from xls_gongkai.reading.safety import Container, inspect_file
from xls_gongkai.reading.sheets import Sheets, interrupt, open_book
from xls_gongkai.reading.unrecognised import find_unrecognised, unrecognised_issues
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import check_report
from xls_gongkai.spec import CellKey, Format, Severity, builtin_formats, format_for_year, get_format
from xls_gongkai.workbook.layout import layout_for

__all__ = ["read_safely", "read_workbook"]


def _meta_format(meta: Mapping[str, str], formats: Sequence[Format]) -> Format | None:
    """The format ``_meta`` names: among the caller's formats and the built-in ones, the one of
    that id whose layout has the recorded fingerprint (a local variant may reuse an id)."""
    fid = meta.get("format", "")
    same_id = [f for f in (*formats, *builtin_formats()) if f.id == fid]
    for fmt in same_id:
        if layout_for(fmt).fingerprint == meta.get("fingerprint"):
            return fmt
    return same_id[0] if same_id else None


def _sheet_empty(sheets: Sheets, name: str) -> bool:
    return all(is_blank(v) for row in sheets.grid(name) for v in row)


def _by_labels(
    p: Path, sheets: Sheets, candidates: list[Format], kind: str
) -> tuple[Format, dict[str, Located], list[Issue]]:
    chosen, located = locate_by_labels(sheets, candidates)
    if not located:
        if all(_sheet_empty(sheets, s) for s in sheets.names):
            raise UnreadableWorkbookError(f"{p.name}：工作簿是空的，没有任何内容。请提交填好的报表")
        raise TemplateMismatchError(
            f"{p.name}：找不到政府信息公开工作年度报告的任何表格（表二、表三、表四），"
            "可能是其他报表。请确认文件，或用 xls-gongkai generate 生成的模板填报"
        )
    how = "可能被另存为其他格式，没有模板信息" if kind != "xlsx" else "没有模板信息"
    return chosen, located, [issue(Code.HAND_MADE, how=how, format=chosen.name)]


def _template(sheets: Sheets, fmt: Format, meta: Mapping[str, str]) -> tuple[dict[str, Located], list[Issue]]:
    where = locate_template(sheets, fmt)
    issues: list[Issue] = []
    if where.moved:
        issues.append(issue(Code.LAYOUT_MOVED, tables="、".join(t.name for t in where.moved)))
    for table in where.missing:
        note = f"找不到{table.name}（工作表“{table.sheet}”被删除或改动过）"
        issues.append(issue(Code.LABEL_NOT_FOUND, note=note, table=table.id, sheet=table.sheet))
    if meta.get("fingerprint") and meta["fingerprint"] != layout_for(fmt).fingerprint:
        issues.append(issue(Code.OTHER_VERSION))
    return where.located, issues


def read_workbook(
    path: str | os.PathLike[str],
    *,
    fmt: Format | str | int | None = None,
    formats: Sequence[Format] = (),
    year: int | None = None,
    unit: Unit | None = None,
    strict: bool = False,
    previous: Report | None = None,
) -> Result:
    """Read one filled workbook: its report and every issue found in it.

    ``fmt``, ``year`` and ``unit`` are what the caller expects (a hand-made workbook does not
    carry them; for our template a difference is reported as an issue). ``formats`` are local
    variants the workbook may use besides the built-in ones. ``strict`` makes each blank input
    cell an error instead of one notice per table. ``previous`` (last year's report) enables
    the cross-year checks R6–R8.

    Raises :class:`~xls_gongkai.errors.UnreadableWorkbookError` for a file that is not a usable
    spreadsheet and :class:`~xls_gongkai.errors.TemplateMismatchError` for a spreadsheet in
    which no table of the report can be found.

    >>> result = read_workbook("城关镇.xlsx")  # doctest: +SKIP
    >>> result.report.value("t3", "new", "total"), [i.cell for i in result.errors]  # doctest: +SKIP
    """
    p = Path(path)
    container = inspect_file(p, scan_xml=False)
    sheets = open_book(p, container.data)
    wanted = get_format(fmt) if fmt is not None else None
    variants = tuple(formats) + ((wanted,) if wanted is not None and not wanted.builtin else ())
    meta = sheets.meta()
    meta_fmt = _meta_format(meta, variants) if meta else None
    if meta_fmt is not None:
        chosen = meta_fmt
        located, issues = _template(sheets, chosen, meta)
    else:
        # Every format is tried (the one asked for, or the year's, first: it wins a tie), so a
        # hand-made table of the other version is recognised as such and reported, not misread.
        first = wanted or (format_for_year(year, variants) if year is not None else None)
        candidates = [*variants, *builtin_formats()]
        if first is not None:
            candidates = [first, *[f for f in candidates if f is not first]]
        chosen, located, issues = _by_labels(p, sheets, list(dict.fromkeys(candidates)), container.kind)
        if meta.get("format"):
            # Our template, of a format whose definition was not given (a local variant).
            issues = [issue(Code.FORMAT_UNKNOWN, found=meta["format"]), *issues[1:]]
        meta = {}
    # What the file holds besides its cells (macros, external links…): named, never run.
    issues += [issue(f.code, detail=f.detail) for f in container.findings]
    return _finish(
        p,
        sheets,
        chosen,
        meta,
        located,
        issues,
        wanted=wanted,
        year=year,
        unit=unit,
        strict=strict,
        previous=previous,
        container=container,
    )


def _finish(
    p: Path,
    sheets: Sheets,
    fmt: Format,
    meta: Mapping[str, str],
    located: Mapping[str, Located],
    issues: list[Issue],
    *,
    wanted: Format | None,
    year: int | None,
    unit: Unit | None,
    strict: bool,
    previous: Report | None,
    container: Container,
) -> Result:
    lay = layout_for(fmt)
    template = bool(meta)
    who = identify(sheets, fmt, meta, template=template, wanted=wanted, year=year, unit=unit, lay=lay)
    # Formulas and error values in the tables' sheets (python-calamine shows neither).
    notes = special_cells(container, {loc.sheet for loc in located.values()}) if located else {}
    extracted = extract_values(sheets, fmt, located, strict=strict, notes=notes, template=template)
    texts, text_issues = extract_texts(sheets, lay) if template else ({}, [])
    units, unit_issues = _units(sheets, meta)
    explanations = read_explanations(sheets, who.unit) if template else ()
    report = Report(who.unit, who.year, fmt, extracted.values, texts, units=units, explanations=explanations)
    cells = extracted.cells

    def locate(key: CellKey) -> tuple[str, str]:
        return cells.get(key) or (located[key[0]].sheet if key[0] in located else fmt.table(key[0]).sheet, "")

    rule_issues = check_report(
        report,
        previous,
        locate,
        lay.locate_text if template else None,
        text=extracted.text,
        errors=extracted.errors,
        typed=extracted.typed,
    )
    found = find_unrecognised(sheets, lay, located, cells, template=template, kind=meta.get("kind", "template"))
    if any(i.code == Code.EMPTY for i in extracted.issues) and not any(report.texts.values()):
        # An untouched template: one line says so; its empty text sections and the rules'
        # warnings about it (nothing typed, nothing to compare) are no news.
        text_issues = [i for i in text_issues if i.code != Code.TEXT_MISSING]
        rule_issues = [i for i in rule_issues if i.severity is not Severity.WARNING]
    all_issues = [
        *issues,
        *who.issues,
        *unit_issues,
        *extracted.issues,
        *text_issues,
        *rule_issues,
        *unrecognised_issues(found),
    ]
    source = printable(str(p))
    stamped = tuple(replace(i, unit_code=who.unit.code, unit_name=who.unit.name, file=source) for i in all_issues)
    return Result(
        report=report,
        issues=stamped,
        source=source,
        container=container.kind,
        located_by="template" if template else "labels",
        cells=cells,
        not_numbers=dict(extracted.shown),
        unrecognised=tuple(found),
        meta=dict(meta),
        notes={"heading": who.heading} if who.heading else {},
    )


def _units(sheets: Sheets, meta: Mapping[str, str]) -> tuple[int, list[Issue]]:
    """How many units' reports the workbook adds up: a summary's 明细 rows say it; the hidden
    record is a hint, never proof (a township's file cannot count as 50 units)."""
    claimed = int(meta["units"]) if meta.get("units", "").isdigit() else 1
    if meta.get("kind") != "summary":
        if claimed == 1:
            return 1, []
        note = f"隐藏记录称本文件是 {claimed} 个单位的汇总，但它不是汇总表：按一个单位的报表计"
        return 1, [issue(Code.META_MISMATCH, note=note, found=str(claimed), expected="1")]
    counted = detail_units(sheets.grid(DETAIL_SHEET)) if DETAIL_SHEET in sheets.names else None
    if counted is None:
        note = f"隐藏记录称本文件是 {claimed} 个单位的汇总，但没有可读的“{DETAIL_SHEET}”工作表：按一个单位计"
        return 1, [issue(Code.META_MISMATCH, note=note, found=str(claimed), expected="1")]
    if counted != claimed:
        note = f"隐藏记录称本文件是 {claimed} 个单位的汇总，“{DETAIL_SHEET}”中是 {counted} 个：按明细计"
        return counted, [issue(Code.META_MISMATCH, note=note, found=str(claimed), expected=str(counted))]
    return counted, []


def read_safely(path: str, kw: Mapping[str, object]) -> Result:
    """:func:`read_workbook` that never raises for one bad file: a ``file-unreadable`` result."""
    try:
        return read_workbook(path, **kw)  # type: ignore[arg-type]
    except (WorkbookError, UsageError) as exc:
        return unreadable(printable(path), str(exc))
    except BaseException as exc:  # one bad file must never stop a batch
        if interrupt(exc):
            raise
        name = printable(Path(path).name)
        return unreadable(
            printable(path),
            f"{name}：读取时发生意外错误（{type(exc).__name__}），文件可能已损坏。请用 Excel 或 WPS 打开后另存为 .xlsx 再提交",
        )
