"""Write report workbooks: blank templates, filled copies, annotated copies and summaries.

Where a cell sits comes from :func:`xls_gongkai.workbook.layout.layout_for`, every formula from
:mod:`xls_gongkai.workbook.formulas`, every cached formula result from the rule engine
(:func:`xls_gongkai.rules.engine`), and everything that depends only on the format (labels,
validations, conditional formats, widths) from :func:`xls_gongkai.workbook.plan.plan_for`, worked
out once per format object. Writing one workbook replays that plan through xlsxwriter's public
API and writes the unit's values.

Public: :func:`write_workbook`, :class:`WriteOptions`, :func:`generate_templates`,
:func:`template_filename`, :data:`META_KEYS`, :func:`meta_values`, :func:`check_text` (a check
cell's cached text), :func:`fold_group_values`, :data:`ISSUES_SHEET`, :class:`ProtectedWorkbook`
(xlsxwriter + workbook structure protection), and from the plan :data:`PROMPTS`,
:func:`validation_options`, :func:`cell_validation`.

Example::

    from xls_gongkai.report import Explanation, Report, Unit
    from xls_gongkai.spec import get_format
    from xls_gongkai.workbook.writer import WriteOptions, write_workbook

    write_workbook("out/410102001_城关镇_2024.xlsx",
                   Report(Unit("410102001", "城关镇"), 2024, get_format(2024)),
                   WriteOptions(deadline="2025年1月20日", contact="县政务公开办 张三 0371-12345678"))
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

import xlsxwriter
from xlsxwriter.format import Format as XFormat
from xlsxwriter.worksheet import Worksheet

from xls_gongkai import __version__
from xls_gongkai.errors import UsageError
from xls_gongkai.issues import CATALOGUE, HINT_CODES, Code, Issue
from xls_gongkai.numbers import Value
from xls_gongkai.output import atomic_path
from xls_gongkai.report import Explanation, Report, Unit
from xls_gongkai.rules import Check, engine
from xls_gongkai.rules.engine import NO_CELLS
from xls_gongkai.spec import SPEC_VERSION, CellKey, Format, Severity, format_for_year, get_format
from xls_gongkai.workbook import formulas as excel
from xls_gongkai.workbook.layout import (
    EXPLAIN_FIRST_ROW,
    EXPLAIN_SHEET,
    GUIDE_SHEET,
    ISSUES_SHEET,
    META_SHEET,
    TEXT_SHEET,
    Layout,
    TextLayout,
    display_width,
    layout_for,
    parse_a1,
    split_text,
    text_height,
)
from xls_gongkai.workbook.plan import (
    ANNOTATION_STYLES,
    FLAG_STYLE,
    MAX_TEXT,
    PROBABLE_STYLE,
    PROMPTS,
    STYLES,
    Plan,
    SheetPlan,
    cell_validation,
    fit_text,
    plan_for,
    validation_options,
)

__all__ = [
    "ISSUES_SHEET",
    "MAX_TEXT",
    "META_KEYS",
    "PROMPTS",
    "ProtectedWorkbook",
    "WriteOptions",
    "cell_validation",
    "check_text",
    "fold_group_values",
    "generate_templates",
    "meta_values",
    "template_filename",
    "validation_options",
    "write_workbook",
]

#: The keys of the very hidden ``_meta`` sheet, one per row from row 2 (column A the key, B the
#: value, always text), in this order. The sheet is a *hint* for the reader — it speeds up
#: recognition and carries what the labels cannot; the workbook's own labels and numbers decide:
#:
#: ``format`` the format id · ``spec_version`` of the definition schema · ``fingerprint`` of the
#: layout (another version's template is read by its labels) · ``unit_code``, ``unit_name``,
#: ``unit_parent`` · ``year`` · ``tool_version`` · ``generated_at`` (ISO 8601) · ``kind``
#: (template, annotated or summary) · ``units`` (how many unit reports a summary adds up) ·
#: ``deadline`` and ``contact`` as printed in 填报说明 (carried into a 退回件).
META_KEYS = (
    "format",
    "spec_version",
    "fingerprint",
    "unit_code",
    "unit_name",
    "unit_parent",
    "year",
    "tool_version",
    "generated_at",
    "kind",
    "units",
    "deadline",
    "contact",
)
META_MARKER = "xls_gongkai_meta"
META_VERSION = "1"

Kind = Literal["template", "annotated", "summary"]


@dataclass(frozen=True)
class WriteOptions:
    """How to write a workbook (everything but the data, which is the :class:`Report`).

    ``password`` protects the sheets and the workbook structure (``None``: protected without a
    password, so a clerk cannot break it by accident but an officer can unprotect it).
    ``deadline`` and ``contact`` are printed in the 填报说明 sheet. ``generated_at`` defaults to now.
    ``provisional`` (a summary that is not final, e.g. the portal's) is shown in red on the
    填报说明 sheet and under every table's title.
    """

    password: str | None = None
    deadline: str = ""
    contact: str = ""
    kind: Kind = "template"
    generated_at: datetime | str | None = None
    provisional: str = ""


# --------------------------------------------------------------------------- small helpers


def _legacy_hash(password: str) -> str:
    # ECMA-376 Part 4 §18.2.29: the (weak) 16-bit hash Excel, WPS and LibreOffice all accept for
    # sheet and workbook protection. It prevents accidents, not attacks.
    digest = 0
    for char in password[::-1]:
        digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
        digest ^= ord(char)
    digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
    digest ^= len(password)
    digest ^= 0xCE4B
    return f"{digest:X}"


class ProtectedWorkbook(xlsxwriter.Workbook):  # type: ignore[misc]
    """An xlsxwriter Workbook that also writes ``<workbookProtection lockStructure="1"/>``.

    xlsxwriter (3.x) can protect worksheets but has no API for protecting the workbook structure
    (which stops sheets being added, deleted, renamed, moved or unhidden — the very hidden
    ``_meta`` sheet included), and its maintainer does not plan one (libxlsxwriter#516). The
    element belongs right after ``<workbookPr>`` in ``xl/workbook.xml`` (CT_Workbook's
    sequence), so this class appends it in the one hook that writes ``<workbookPr>``; nothing
    else of xlsxwriter is changed.
    """

    lock_structure: bool = False
    structure_password: str = ""

    def _write_workbook_pr(self) -> None:
        super()._write_workbook_pr()
        if self.lock_structure:
            attrs: list[tuple[str, Any]] = []
            if self.structure_password:
                attrs.append(("workbookPassword", _legacy_hash(self.structure_password)))
            attrs.append(("lockStructure", 1))
            self._xml_empty_tag("workbookProtection", attrs)


_PROTECT = {
    "select_locked_cells": False,
    "select_unlocked_cells": True,
    "format_columns": True,  # a clerk may widen a column to read a long label
    "format_rows": True,
}


def _number(v: Value) -> float | int:
    return float(v) if isinstance(v, Decimal) else v


def _generated_at(options: WriteOptions) -> str:
    g = options.generated_at
    if g is None:
        return datetime.now(UTC).isoformat(timespec="seconds")
    if isinstance(g, datetime):
        return g.isoformat(timespec="seconds")
    return str(g)


def meta_values(report: Report, options: WriteOptions = WriteOptions()) -> dict[str, str]:
    """The ``_meta`` sheet's values for a report, keyed by :data:`META_KEYS` (all text)."""
    return {
        "format": report.format_id,
        "spec_version": str(SPEC_VERSION),
        "fingerprint": layout_for(report.format).fingerprint,
        "unit_code": report.unit.code,
        "unit_name": report.unit.name,
        "unit_parent": report.unit.parent,
        "year": str(report.year),
        "tool_version": __version__,
        "generated_at": _generated_at(options),
        "kind": options.kind,
        "units": str(report.units),
        "deadline": options.deadline,
        "contact": options.contact,
    }


def check_text(check: Check, report: Report) -> str:
    """What the check cell shows for ``report`` (its cached result): ✔, or ✘ and the difference.

    ``report.values`` must hold the totals the sheet computes (see ``Engine.with_totals``).
    """
    return excel.check_display(engine(report.format).evaluate(check, report.values))


def fold_group_values(report: Report) -> Report:
    """The report with every value stored on a group row moved onto that group's leaves.

    A report that printed a group row as one row (an imported document that gives one figure
    for a group whose parts the format lists, or a summary of units some of which did) stores
    the group's value, but the workbook has cells only for the parts. The part of the group's
    value its parts do not account for is written into the group's last part, so that the
    totals and the checks in the sheet stay right; otherwise the sheet would silently drop it
    and show a false ✘.
    """
    fmt = report.format
    stored = [k for k in report.values if not fmt.table(k[0]).row_nodes[k[1]].is_leaf]
    if not stored:
        return report
    values = dict(report.values)
    for key in stored:
        table = fmt.table(key[0])
        group = values.pop(key)
        leaves = table.row_nodes[key[1]].leaves()
        known = sum((values.get((key[0], leaf.id, key[2]), 0) for leaf in leaves), start=0)
        if group != known:
            last = (key[0], leaves[-1].id, key[2])
            values[last] = values.get(last, 0) + group - known
    return replace(report, values=values)


@dataclass(frozen=True)
class _Cached:
    """What the sheet's formulas compute for a report: the totals, each check cell's text and
    the number of failing checks (CHECK_FAILURES) — stored as the formulas' cached results."""

    values: Mapping[tuple[str, str, str], Value]
    shown: Mapping[tuple[str, str, str, int], str]
    #: failing check cells per sheet
    failing: Mapping[str, int]

    @property
    def failures(self) -> int:
        return sum(self.failing.values())


def _cached(
    plan: Plan, values: Mapping[tuple[str, str, str], Value], not_numbers: Mapping[CellKey, str] = NO_CELLS
) -> _Cached:
    eng = plan.engine
    # Text in a number cell counts 0 in the sheet's sums and fails its R5 check.
    full = eng.with_totals({k: v for k, v in values.items() if k not in not_numbers})
    large = eng.large(full)
    shown = {
        c.check.key: excel.check_display(eng.evaluate(c.check, full, text=not_numbers, large=large))
        for c in plan.checks
    }
    failing: dict[str, int] = {}
    for c in plan.checks:
        if shown[c.check.key].startswith(excel.FAIL):
            failing[c.pos.sheet] = failing.get(c.pos.sheet, 0) + 1
    return _Cached(full, shown, failing)


@cache
def _blank(plan: Plan) -> _Cached:
    # Every blank template of a format has the same results.
    return _cached(plan, {})


def _footer_text(text: str) -> str:
    # '&' starts a header/footer code; the footer is limited to 255 characters.
    return text.replace("&", "&&")[:80]


def _unit_line(report: Report, options: WriteOptions) -> str:
    unit = report.unit
    line = f"填报单位：{unit.name or '（未填写）'}　　单位代码：{unit.code or '—'}　　报告年度：{report.year} 年"
    return f"{line}　　{options.provisional}" if options.provisional else line


# --------------------------------------------------------------------------- one workbook


def write_workbook(
    path: str | Path,
    report: Report,
    options: WriteOptions = WriteOptions(),
    *,
    issues: Sequence[Issue] = (),
    extra: Callable[[xlsxwriter.Workbook], None] | None = None,
    not_numbers: Mapping[CellKey, str] = NO_CELLS,
) -> Path:
    """Write ``report`` as a workbook at ``path`` and return the path.

    A report with empty ``values`` gives the blank template. Input values are written into the
    white cells; totals and checks are formulas whose cached results are what the rule engine
    computes. ``issues`` that name a ``sheet`` and ``cell`` are highlighted with a comment each
    and all issues are listed on a 问题清单 sheet with links to their cells. ``extra(workbook)``
    may add more sheets (they come after the report's sheets). ``not_numbers`` are input cells
    written as the text they held in the unit's file (a marked-up copy: its checks fail there as
    the unit's did; see :attr:`Result.not_numbers`). The file is written next to the
    target and renamed (:func:`xls_gongkai.output.atomic_path`): an interrupted run leaves no
    half-written workbook. Raises :class:`~xls_gongkai.errors.UsageError` when it cannot be
    written or the password is not plain ASCII.
    """
    path = Path(path)
    _check_password(options.password)
    report = fold_group_values(report)
    # Assembled in memory, then written with one closed file handle: a full disk fails in
    # our own write, not inside xlsxwriter's zip writer (which leaves its file open).
    buffer = io.BytesIO()
    _write(buffer, report, options, issues, extra, not_numbers)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getbuffer())
    return path


def _check_password(password: str | None) -> None:
    # The protection hash that Excel, WPS and LibreOffice share is defined on single-byte
    # characters: a Chinese password would give protection that Excel cannot remove.
    if password and not (password.isascii() and password.isprintable() and len(password) <= 255):
        raise UsageError("保护密码只能使用英文字母、数字和常用符号（不超过 255 个字符）；请换一个密码。")


def _write(
    target: io.BytesIO,
    report: Report,
    options: WriteOptions,
    issues: Sequence[Issue],
    extra: Callable[[xlsxwriter.Workbook], None] | None,
    not_numbers: Mapping[CellKey, str] = NO_CELLS,
) -> None:
    plan = plan_for(report.format)
    cached = _cached(plan, report.values, not_numbers) if report.values or not_numbers else _blank(plan)
    wb, st = _new_workbook(target, report, options, with_annotations=bool(issues))
    sheets = {name: _new_sheet(wb, name, report, options) for name in plan.lay.sheets}
    unit_line = _unit_line(report, options)
    line_style = st["provisional" if options.provisional else "unit_line"]
    for name, sp in plan.sheets.items():
        _replay(sheets[name], sp, st, unit_line, line_style)
    _write_guide(sheets[GUIDE_SHEET], st, plan, report, options, cached.failures)
    flagged = _issue_cells(issues)
    _write_values(sheets, st, plan, report, cached, flagged, not_numbers)
    wb.define_name("CHECK_FAILURES", "=" + plan.lay.failures_cell.ref())
    if issues:
        _write_issues(wb, sheets, st, issues, flagged, options.password or "", report.format)
    if extra is not None:
        extra(wb)
    _write_meta(wb, report, options)
    # A blank template opens on its instructions; a filled copy or a summary on the figures.
    first = GUIDE_SHEET if options.kind == "template" and not report.values else plan.lay.data_sheets[0]
    wb.get_worksheet_by_name(ISSUES_SHEET if issues else first).activate()
    wb.close()


def _new_workbook(
    target: io.BytesIO, report: Report, options: WriteOptions, *, with_annotations: bool
) -> tuple[ProtectedWorkbook, dict[str, XFormat]]:
    # in_memory: the parts are assembled in memory, not as one temporary file each.
    wb = ProtectedWorkbook(target, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    wb.lock_structure = True
    wb.structure_password = options.password or ""
    wb.set_properties(
        {
            "title": f"{report.year}年度政府信息公开工作年度报告 {report.unit.name}",
            "subject": "政府信息公开工作年度报告",
            "author": "xls-gongkai",
            "comments": f"xls-gongkai {__version__}，{report.format_id}",
        }
    )
    styles = {
        name: wb.add_format(dict(props))
        for name, props in STYLES.items()
        if with_annotations or not name.startswith(ANNOTATION_STYLES)
    }
    return wb, styles


def _new_sheet(wb: ProtectedWorkbook, name: str, report: Report, options: WriteOptions) -> Worksheet:
    ws = wb.add_worksheet(name)
    ws.protect(options.password or "", dict(_PROTECT))
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_footer(f"&L{_footer_text(report.unit.name)}&C第 &P 页，共 &N 页&R{report.year} 年度")
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    if name == GUIDE_SHEET:
        ws.hide_gridlines(2)
    return ws


def _replay(ws: Worksheet, sp: SheetPlan, st: Mapping[str, XFormat], unit_line: str, line_style: XFormat) -> None:
    """The format's part of a sheet: sizes, print setup, title, labels, validations, formats."""
    for c, w in sp.widths.items():
        ws.set_column(c, c, w)
    for r, h in sp.heights.items():
        ws.set_row(r, h)
    if sp.pages_tall:
        ws.fit_to_pages(1, sp.pages_tall)
    if sp.freeze:
        ws.freeze_panes(*sp.freeze)
    if sp.repeat:
        ws.repeat_rows(*sp.repeat)
    ws.merge_range(0, 0, 0, max(sp.width - 1, 1), sp.title, st["sheet_title"])
    # Not merged: left-aligned text runs on over the empty cells to its right anyway.
    ws.write_string(1, 0, unit_line, line_style)
    for m in sp.merges:
        if (m.first_row, m.first_col) == (m.last_row, m.last_col):
            ws.write_string(m.first_row, m.first_col, m.text, st[m.style])
        else:
            ws.merge_range(m.first_row, m.first_col, m.last_row, m.last_col, m.text, st[m.style])
    for r0, c0, r1, c1, opts in sp.validations:
        ws.data_validation(r0, c0, r1, c1, dict(opts))
    for cond in sp.conds:
        options = {**cond.options, "format": st[cond.style]}
        ws.conditional_format(cond.first_row, cond.first_col, cond.last_row, cond.last_col, options)


def _write_values(
    sheets: Mapping[str, Worksheet],
    st: Mapping[str, XFormat],
    plan: Plan,
    report: Report,
    cached: _Cached,
    flagged: Mapping[tuple[str, int, int], list[Issue]],
    not_numbers: Mapping[CellKey, str] = NO_CELLS,
) -> None:
    """The unit's part: inputs, totals and checks with their cached results, texts, the summary line."""
    lay = plan.lay
    sc = lay.summary_cell
    summary = excel.summary_display(lay, cached.failing)
    # Across the sheet's width, so that the whole line turns red when a check fails.
    width = max(plan.sheets[sc.sheet].width, 2)
    sheets[sc.sheet].merge_range(sc.row, sc.col, sc.row, sc.col + width - 1, "", st["summary"])
    sheets[sc.sheet].write_formula(sc.row, sc.col, plan.summary_formula, st["summary"], summary)
    # The line turns red while any check fails (it names the sheets).
    sheets[sc.sheet].conditional_format(
        sc.row,
        sc.col,
        sc.row,
        sc.col,
        {"type": "text", "criteria": "containing", "value": "未通过", "format": st["cf_fail"]},
    )
    values = report.values
    for key, pos, style in plan.inputs:
        flag = _flag(flagged, pos.sheet, pos.row, pos.col)
        cell_style = st[PROBABLE_STYLE[style]] if flag == "probable" else st[FLAG_STYLE[style]] if flag else st[style]
        v = values.get(key)
        if key in not_numbers:  # as the unit's file had it: text, never a formula
            sheets[pos.sheet].write_string(pos.row, pos.col, not_numbers[key], cell_style)
        elif v is None:
            sheets[pos.sheet].write_blank(pos.row, pos.col, None, cell_style)
        else:
            sheets[pos.sheet].write_number(pos.row, pos.col, _number(v), cell_style)
    for key, pos, formula in plan.totals:
        flag = _flag(flagged, pos.sheet, pos.row, pos.col)
        cell_style = st["flag_probable_locked" if flag == "probable" else "flag_locked" if flag else "total"]
        sheets[pos.sheet].write_formula(pos.row, pos.col, formula, cell_style, _number(cached.values[key]))
    for cc in plan.checks:
        p, shown = cc.pos, cached.shown[cc.check.key]
        if cc.is_array:
            sheets[p.sheet].write_array_formula(p.row, p.col, p.row, p.col, cc.formula, st[cc.style], shown)
        else:
            sheets[p.sheet].write_formula(p.row, p.col, cc.formula, st[cc.style], shown)
    for sid, tl in lay.texts.items():
        _write_text(sheets[TEXT_SHEET], st, tl, report.texts.get(sid, ""), flagged)
    _write_explanations(sheets[EXPLAIN_SHEET], st, lay, report)


def _write_text(
    ws: Worksheet,
    st: Mapping[str, XFormat],
    tl: TextLayout,
    text: str,
    flagged: Mapping[tuple[str, int, int], list[Issue]],
) -> None:
    """A section's text over its cells (:func:`split_text`), each row as tall as its part needs:
    on screen and on paper the whole text shows. A section without text keeps the plan's
    blank boxes."""
    parts = split_text(text, len(tl.cells)) if text else ()
    for i, cell in enumerate(tl.cells):
        style = st["flag_text" if flagged and (cell.sheet, cell.row, cell.col) in flagged else "input_text"]
        part = parts[i] if i < len(parts) else ""
        if part:
            ws.write_string(cell.row, cell.col, fit_text(part), style)
            ws.set_row(cell.row, text_height(part))
        else:
            ws.write_blank(cell.row, cell.col, None, style)
            if text:  # room to go on writing below the text
                ws.set_row(cell.row, text_height(""))


def _own(e: Explanation, unit: Unit) -> bool:
    return not (e.unit.code or e.unit.name) or (e.unit.code, e.unit.name) == (unit.code, unit.name)


def _text_height(text: str, width: float) -> float:
    lines = sum(max(1, math.ceil(display_width(part) / max(width - 2, 1))) for part in text.split("\n"))
    return min(409.0, max(60.0, 15.0 * lines + 6))


def _write_explanations(ws: Worksheet, st: Mapping[str, XFormat], lay: Layout, report: Report) -> None:
    """The unit's own 说明 in the rows of its template; below them, in a summary, its units' 说明
    (locked: they are changed in the unit's own report)."""
    own = {e.key: e.text for e in report.explanations if _own(e, report.unit)}
    name = report.unit.name or ""
    for row in lay.explains:
        r, c = row.cell.row, row.cell.col
        ws.write_string(r, 2, name, st["guide_value"])
        text = own.get(row.key, "")
        if text:
            ws.set_row(r, _text_height(text, 80.0))
            ws.write_string(r, c, fit_text(text), st["input_text"])
        else:
            ws.write_blank(r, c, None, st["input_text"])
    known = {row.key for row in lay.explains}
    titles = {rule.id: rule.title for rule in lay.format.rules}
    r = (lay.explains[-1].cell.row if lay.explains else EXPLAIN_FIRST_ROW) + 1
    for e in report.explanations:
        if _own(e, report.unit) and e.key in known:
            continue
        ws.set_row(r, _text_height(e.text, 80.0))
        ws.write_string(r, 0, e.key.split("|")[0] or "—", st["explain_other"])
        ws.write_string(r, 1, titles.get(e.key.split("|")[0], e.key or "其他需要说明的情况"), st["explain_other"])
        ws.write_string(r, 2, e.unit.label if (e.unit.code or e.unit.name) else name, st["explain_other"])
        ws.write_string(r, 3, fit_text(e.text), st["explain_other"])
        r += 1


# --------------------------------------------------------------------------- 填报说明


def _write_guide(
    ws: Worksheet, st: Mapping[str, XFormat], plan: Plan, report: Report, options: WriteOptions, failures: int
) -> None:
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 96)
    _guide_head(ws, st, plan, report, options, failures)
    r = plan.lay.failures_cell.row + 2
    for head, text in _guide_paragraphs(plan, report, options):
        if head:
            ws.set_row(r, 20)
            ws.merge_range(r, 0, r, 1, head, st["guide_head"])
        else:
            ws.set_row(r, 15.0 * max(1, math.ceil(display_width(text) / _GUIDE_LINE)) + 2)
            ws.merge_range(r, 0, r, 1, text, st["guide_text"])
        r += 1
    ws.set_paper(9)
    ws.set_portrait()


#: Characters (CJK counting two) of a guide line across columns A and B (16 + 96 wide).
_GUIDE_LINE = 112

_GUIDE_TITLE = {
    "template": "{year}年度政府信息公开工作年度报告　填报模板",
    "annotated": "{year}年度政府信息公开工作年度报告　审核意见（见“" + ISSUES_SHEET + "”）",
    "summary": "{year}年度政府信息公开工作年度报告　汇总表（{units} 个单位）",
}
_GUIDE_NOTE = {
    "template": "本填报模板由政务公开办统一下发。请只在白色单元格中填写；其他单元格（标签、合计和绿色、红色的校验格）已锁定。",
    "annotated": f"这是退回修改件：有问题的单元格已标色并加了批注，全部问题见“{ISSUES_SHEET}”工作表。"
    "请在白色单元格中修改后重新报送。",
    "summary": "本汇总表由 {units} 个单位的报表相加而成。如需更正，请修改单位报表后重新汇总。",
}


def _guide_head(
    ws: Worksheet, st: Mapping[str, XFormat], plan: Plan, report: Report, options: WriteOptions, failures: int
) -> None:
    """Title, note, the unit, the format, deadline, contact and the number of failing checks."""
    lay, fmt = plan.lay, plan.fmt
    ws.set_row(0, 26)
    ws.merge_range(
        0, 0, 0, 1, _GUIDE_TITLE[options.kind].format(year=report.year, units=report.units), st["sheet_title"]
    )
    note = _GUIDE_NOTE[options.kind].format(units=report.units)
    if options.provisional:
        ws.merge_range(1, 0, 1, 1, f"{options.provisional}　{note}", st["provisional"])
    else:
        ws.merge_range(1, 0, 1, 1, note, st["unit_line"])
    cells = lay.guide_unit_cells
    rows = [
        ("name", "填报单位", report.unit.name),
        ("code", "单位代码", report.unit.code),
        ("year", "报告年度", f"{report.year}"),
        ("format", "适用格式", f"{fmt.name}（{fmt.document}）"),
    ]
    for key, label, value in rows:
        pos = cells[key]
        ws.write_string(pos.row, pos.col - 1, label, st["guide_key"])
        ws.write_string(pos.row, pos.col, value, st["guide_value"])
    fc = lay.failures_cell
    last = max(p.row for p in cells.values())
    extra_rows = [("报送截止", options.deadline or "按县（区）政务公开办通知要求"), ("联系人", options.contact or "—")]
    for r, (label, value) in enumerate(extra_rows, start=last + 1):
        if r < fc.row:
            ws.write_string(r, 0, label, st["guide_key"])
            ws.write_string(r, 1, value, st["guide_value"])
    ws.write_string(fc.row, fc.col - 1, "未通过校验数", st["guide_key"])
    ws.write_formula(fc.row, fc.col, plan.failures_formula, st["guide_value"], failures)
    ws.conditional_format(
        fc.row, fc.col, fc.row, fc.col, {"type": "cell", "criteria": ">", "value": 0, "format": st["cf_fail"]}
    )


def _guide_paragraphs(plan: Plan, report: Report, options: WriteOptions) -> list[tuple[str, str]]:
    """(heading, "") or ("", paragraph) lines of the instructions, from the format's words."""
    lay, g = plan.lay, plan.guide
    n_checks = excel.failable(lay)
    tables = "、".join(lay.data_sheets)
    how = [
        "只在白色单元格中填写，其他单元格（标签、合计、校验）已锁定。数量填 0 或正整数；没有的填 0，不要留空"
        "（留空按 0 计，检查时会提示）。",
        "只填数字：不要填文字（如“12件”“无”“—”）或公式。文字不计入合计，该格标红；表格软件里看到的校验结果与"
        "县（区）检查的结果完全一致。",
    ]
    totals = "".join(f"“{t}”" for t in g.total_labels[:2])
    how.append(
        (f"{totals}等合计由公式自动计算，无需填写。" if totals else "")
        + "请勿增删行列、修改工作表名称，报送时保持 .xlsx 格式。"
    )
    contact = f"；联系人：{options.contact}。" if options.contact else "。"
    return [
        ("一、填写什么", ""),
        (
            "",
            f"“{tables}”对应年度报告正文{g.table_sections}的表格，版式与国务院办公厅政府信息公开办公室印发的格式一致；"
            f"“{TEXT_SHEET}”填写正文{g.text_sections}。统计期为 {report.year} 年 1 月 1 日至 12 月 31 日。",
        ),
        ("二、怎么填", ""),
        *[("", line) for line in how],
        ("三、校验是什么", ""),
        (
            "",
            f"本工作簿共有 {n_checks} 项校验（勾稽关系和数值格式），结果显示在各表右侧和下方的校验格中：绿色 ✔ "
            "表示通过；红色 ✘ 表示不一致，并写明哪两项不等、相差多少，相关单元格以黄色标出；填写不合规的数值以红色"
            f"标出。“{lay.data_sheets[0]}”顶部显示“共 {n_checks} 项校验，全部通过”；有未通过的，这一行变红并写明在"
            "哪张表。报送前请确认全部通过。",
        ),
        *[("", line) for line in g.rules],
        (
            "",
            "读取报表时还会提示一些“警告”（如金额疑似按元填写、与上年相比变化很大）。情况属实的，请在“说明”"
            "工作表对应的行中写明原因；错误必须改正。",
        ),
        ("四、报送", ""),
        (
            "",
            (
                f"请于 {options.deadline} 前报送本工作簿"
                if options.deadline
                else "请按县（区）政务公开办通知要求的时间报送本工作簿"
            )
            + contact,
        ),
    ]


# --------------------------------------------------------------------------- 问题清单, _meta


def _issue_cells(issues: Sequence[Issue]) -> dict[tuple[str, int, int], list[Issue]]:
    """The issues at each cell: an issue's first cell; each cell a hint names (which cell is
    probably wrong, or which few might be)."""
    out: dict[tuple[str, int, int], list[Issue]] = {}
    for issue in issues:
        if not (issue.sheet and issue.cell):
            continue
        for a1 in issue.cells if issue.code in HINT_CODES and issue.cells else (issue.cell,):
            try:
                r, c = parse_a1(a1)
            except ValueError:
                continue
            out.setdefault((issue.sheet, r, c), []).append(issue)
    return out


def _flag(flagged: Mapping[tuple[str, int, int], list[Issue]], sheet: str, row: int, col: int) -> str:
    """How a value cell is marked: "probable" (the cell probably wrong), "flag" (another issue), ""."""
    found = flagged.get((sheet, row, col)) if flagged else None
    if not found:
        return ""
    return "probable" if any(i.code == Code.PROBABLE_CELL for i in found) else "flag"


_ISSUE_HEADS: tuple[tuple[str, int], ...] = (
    ("序号", 6),
    ("级别", 8),
    ("规则/代码", 14),
    ("位置（点击跳转）", 18),
    ("行", 30),
    ("列", 16),
    ("问题说明", 70),
    ("应为 / 实为", 16),
)


def _title(i: Issue, rules: Mapping[str, str]) -> str:
    """What a problem is called, for a clerk (申请办理情况平衡, not R1)."""
    return CATALOGUE[i.code].title if i.code in CATALOGUE else rules.get(i.code, i.code)


def _write_issues(
    wb: xlsxwriter.Workbook,
    sheets: Mapping[str, Worksheet],
    st: Mapping[str, XFormat],
    issues: Sequence[Issue],
    flagged: Mapping[tuple[str, int, int], list[Issue]],
    password: str,
    fmt: Format,
) -> None:
    """A comment on every problem cell, and the 问题清单 sheet with a link to each."""
    titles = {rule.id: rule.title for rule in fmt.rules}
    for (sheet, r, c), found in flagged.items():
        if sheet in sheets:
            text = "\n".join(f"【{i.severity.label}：{_title(i, titles)}】{i.message}" for i in found)
            sheets[sheet].write_comment(r, c, text[:2000], {"author": "审核意见", "x_scale": 3, "y_scale": 2.5})
    ws = wb.add_worksheet(ISSUES_SHEET)
    counts = {s: sum(1 for i in issues if i.severity is s) for s in Severity}
    told = "，".join(f"{s.label} {n} 项" for s, n in counts.items() if n or s is not Severity.NOTICE)
    ws.merge_range(0, 0, 0, 7, f"问题清单：共 {len(issues)} 项（{told}）", st["sheet_title"])
    ws.merge_range(1, 0, 1, 7, "改正后本清单不会自动更新，以各表中的校验格为准。", st["unit_line"])
    for c, (head, width) in enumerate(_ISSUE_HEADS):
        ws.write_string(2, c, head, st["list_head"])
        ws.set_column(c, c, width)
    for i, issue in enumerate(issues, start=1):
        r = i + 2
        ws.write_number(r, 0, i, st["list_cell"])
        ws.write_string(r, 1, issue.severity.label, st["list_error" if issue.is_error else "list_warning"])
        ws.write_string(r, 2, issue.code, st["list_cell"])
        if issue.sheet and issue.cell and issue.sheet in sheets:
            target = f"internal:'{issue.sheet}'!{issue.cell}"
            ws.write_url(r, 3, target, st["list_link"], f"{issue.sheet}!{issue.cell}")
        else:
            ws.write_string(r, 3, issue.where() or "—", st["list_cell"])
        ws.write_string(r, 4, issue.row_label, st["list_cell"])
        ws.write_string(r, 5, issue.column_label, st["list_cell"])
        ws.write_string(r, 6, issue.message, st["list_cell"])
        both = f"{issue.expected} / {issue.found}" if (issue.expected or issue.found) else ""
        ws.write_string(r, 7, both, st["list_cell"])
        ws.set_row(r, 15.0 * max(1, math.ceil(display_width(issue.message) / 68)) + 2)
    ws.freeze_panes(3, 0)
    ws.repeat_rows(2)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    # The list is for reading and clicking: its locked cells stay selectable so the links work.
    ws.protect(password, {"select_locked_cells": True, "select_unlocked_cells": True})


def _write_meta(wb: xlsxwriter.Workbook, report: Report, options: WriteOptions) -> None:
    ws = wb.add_worksheet(META_SHEET)
    ws.write_string(0, 0, META_MARKER)
    ws.write_string(0, 1, META_VERSION)
    for i, (key, value) in enumerate(meta_values(report, options).items(), start=1):
        ws.write_string(i, 0, key)
        ws.write_string(i, 1, value)
    ws.protect(options.password or "")
    ws.very_hidden()


# --------------------------------------------------------------------------- many units

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
#: Below this many templates per process, starting worker processes costs more than it saves.
_PER_WORKER = 40


def template_filename(unit: Unit, year: int) -> str:
    """``<code>_<name>_<year>.xlsx``, with characters Windows forbids in names replaced by ``_``."""
    parts = [p for p in (unit.code, unit.name) if p]
    stem = "_".join(_UNSAFE.sub("_", p).strip() for p in parts) or "未命名单位"
    return f"{stem}_{year}.xlsx"


def _resolve(fmt: Format | str | None, year: int) -> Format:
    if fmt is None:
        fmt = format_for_year(year)
    elif isinstance(fmt, str):
        fmt = get_format(fmt)
    if not fmt.covers(year):
        raise UsageError(
            f"格式 {fmt.id}（适用 {fmt.years_text}）不适用于 {year} 年度；请去掉 --format 或改用适用的格式。"
        )
    return fmt


def _targets(units: Sequence[Unit], year: int, out: Path, force: bool) -> list[Path]:
    targets = [out / template_filename(u, year) for u in units]
    seen: dict[Path, Unit] = {}
    for u, t in zip(units, targets, strict=True):
        if t in seen:
            raise UsageError(f"单位“{seen[t].name}”和“{u.name}”的文件名相同（{t.name}）；请检查名册中的代码和名称。")
        seen[t] = u
    if not force:
        existing = [t for t in targets if t.exists()]
        if existing:
            more = f" 等 {len(existing)} 个文件" if len(existing) > 1 else " "
            raise UsageError(f"{existing[0]}{more}已存在；如需覆盖请加 --force，或换一个输出目录。")
    return targets


def _workers(jobs: int | None, n: int) -> int:
    if jobs is not None:
        return max(1, min(jobs, n))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, n // _PER_WORKER))


def _write_templates(work: Sequence[tuple[Unit, Path]], year: int, fmt: Format, options: WriteOptions) -> int:
    for unit, target in work:
        write_workbook(target, Report(unit, year, fmt), options)
    return len(work)


def generate_templates(
    units: Sequence[Unit],
    year: int,
    out_dir: str | Path,
    *,
    fmt: Format | str | None = None,
    options: WriteOptions = WriteOptions(),
    force: bool = False,
    progress: Callable[[Unit, Path], None] | None = None,
    jobs: int | None = None,
) -> list[Path]:
    """Write one blank template per unit into ``out_dir``; return the paths in roster order.

    The format follows from ``year`` unless ``fmt`` (a Format, an id or a YAML path) is given.
    ``jobs`` worker processes write the templates (default: one per core once there are enough
    units to be worth it; 1 writes them in this process); ``progress(unit, path)`` is called in
    this process as each is written. Raises :class:`~xls_gongkai.errors.UsageError` before
    writing anything when a target file exists and ``force`` is false, when two units would get
    the same file name, or when the format does not cover the year.
    """
    _check_password(options.password)
    fmt = _resolve(fmt, year)
    out = Path(out_dir)
    targets = _targets(units, year, out, force)
    out.mkdir(parents=True, exist_ok=True)
    work = list(zip(units, targets, strict=True))
    workers = _workers(jobs, len(work))
    if workers == 1:
        for unit, target in work:
            _write_templates([(unit, target)], year, fmt, options)
            if progress is not None:
                progress(unit, target)
        return targets
    plan_for(fmt)  # worked out once here: forked workers inherit it
    size = max(5, min(50, len(work) // (workers * 6)))
    chunks = [work[i : i + size] for i in range(0, len(work), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_write_templates, chunk, year, fmt, options): chunk for chunk in chunks}
        try:
            for future in as_completed(futures):
                future.result()
                if progress is not None:
                    for unit, target in futures[future]:
                        progress(unit, target)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return targets
