"""The uploaded figures drawn as the familiar 表二/表三/表四 grid, with the failing cells marked.

The grid follows the template's own layout (merged headers, row labels, the corner text) and
carries the spreadsheet's column letters and row numbers, so "表三!D7" in a message is found on
the page as in Excel. Issues are placed where the library's marked-up copy places them
(:func:`xls_gongkai.workbook.annotate.relocate`), so the page, the issue list and the downloaded
copy agree. Nothing here judges the data: every flag comes from an issue of the library's result,
and a 说明 is filed under the library's :func:`~xls_gongkai.issues.explanation_key` of its warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from xls_gongkai.issues import Issue, Result, explanation_key
from xls_gongkai.report import CellKey
from xls_gongkai.rules import engine
from xls_gongkai.spec import Severity
from xls_gongkai.workbook.annotate import relocate
from xls_gongkai.workbook.layout import TableLayout, a1, col_letter, layout_for

ERROR, WARNING, NOTICE = "error", "warning", "notice"
_SEVERITY = {Severity.ERROR: ERROR, Severity.WARNING: WARNING, Severity.NOTICE: NOTICE}


@dataclass(frozen=True)
class Cell:
    text: str
    role: str  # corner, column, row, value, total, blank
    rowspan: int = 1
    colspan: int = 1
    ref: str = ""  # 表三!D7 for a value cell
    anchor: str = ""
    flag: str = ""  # error, warning or ""
    note: str = ""


@dataclass(frozen=True)
class Table:
    title: str
    letters: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Cell, ...]], ...]  # (spreadsheet row number, cells)


@dataclass(frozen=True)
class Sheet:
    name: str
    anchor: str
    tables: tuple[Table, ...]
    errors: int
    warnings: int


@dataclass(frozen=True)
class Text:
    label: str
    text: str
    ref: str
    flag: str
    note: str


@dataclass(frozen=True)
class IssueRow:
    """One line of the issue list: one issue of the library's result, where the marked-up copy puts it."""

    severity: str  # error, warning or notice (a notice needs no 说明 and does not stop 提交)
    code: str
    where: str
    anchor: str
    message: str
    key: str  # what a 说明 of a warning is filed under (issues.explanation_key)

    @property
    def label(self) -> str:
        """The warning in words, for the audit log: ``T1 文字说明!A11``."""
        return f"{self.code} {self.where}".strip()


def anchor(sheet_index: int, a1: str) -> str:
    return f"c{sheet_index}-{a1}"


def _flags(issues: Sequence[Issue]) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """(sheet, A1) → the worst severity and the messages of the errors and warnings there."""
    flags: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for issue in issues:
        if not issue.sheet or issue.severity is Severity.NOTICE:
            continue
        for ref in issue.cells or (issue.cell,):
            if not ref:
                continue
            severity = ERROR if issue.is_error else WARNING
            old, notes = flags.get((issue.sheet, ref), (WARNING, []))
            notes.append(issue.message)
            flags[(issue.sheet, ref)] = (ERROR if ERROR in (old, severity) else WARNING, notes)
    return flags


def number_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        text = format(v.normalize(), "f")
        return text
    return str(v)


def sheets(result: Result) -> tuple[Sheet, ...]:
    """Every data sheet of the report's format as grids; () for a file that could not be read."""
    report = result.report
    if report is None:
        return ()
    lay = layout_for(report.format)
    flags = _flags(relocate(result))
    computed = frozenset(engine(report.format).computed)
    out: list[Sheet] = []
    for index, name in enumerate(lay.data_sheets, start=1):
        tables = tuple(
            _table(tl, report.values, flags, computed, index) for tl in lay.tables.values() if tl.sheet == name
        )
        on_sheet = [f for (s, _a1), (f, _n) in flags.items() if s == name]
        out.append(Sheet(name, f"s{index}", tables, on_sheet.count(ERROR), on_sheet.count(WARNING)))
    return tuple(out)


def _table(
    tl: TableLayout,
    values: Mapping[CellKey, object],
    flags: Mapping[tuple[str, str], tuple[str, list[str]]],
    computed: frozenset[CellKey],
    sheet_index: int,
) -> Table:
    top, bottom = tl.header_top, tl.data_top + len(tl.rows) - 1
    right = tl.value_right
    placed: dict[tuple[int, int], Cell] = {}
    covered: set[tuple[int, int]] = set()
    title = ""
    for label in tl.labels:
        if label.role == "title":
            title = label.text
            continue
        if label.role not in ("corner", "column", "row") or label.first_col > right:
            continue
        last_col = min(label.last_col, right)
        cell = Cell(label.text, label.role, label.last_row - label.first_row + 1, last_col - label.first_col + 1)
        placed[(label.first_row, label.first_col)] = cell
        covered.update(
            (r, c) for r in range(label.first_row, label.last_row + 1) for c in range(label.first_col, last_col + 1)
        )
    for row_id, r in tl.rows.items():
        for col_id, c in tl.cols.items():
            key = (tl.table.id, row_id, col_id)
            ref = a1(r, c)
            flag, notes = flags.get((tl.sheet, ref), ("", []))
            value = values.get(key)
            role = "total" if key in computed else ("blank" if value is None else "value")
            placed[(r, c)] = Cell(
                number_text(value),
                role,
                ref=f"{tl.sheet}!{ref}",
                anchor=anchor(sheet_index, ref),
                flag=flag,
                note="\n".join(notes),
            )
            covered.add((r, c))
    rows = []
    for r in range(top, bottom + 1):
        cells = tuple(
            placed[(r, c)] if (r, c) in placed else Cell("", "blank")
            for c in range(right + 1)
            if (r, c) in placed or (r, c) not in covered
        )
        rows.append((r + 1, cells))
    letters = tuple(col_letter(c) for c in range(right + 1))
    return Table(title or tl.table.title, letters, tuple(rows))


def texts(result: Result) -> tuple[Text, ...]:
    """The 文字说明 sections with their cell and any issue about them."""
    report = result.report
    if report is None:
        return ()
    lay = layout_for(report.format)
    flags = _flags(relocate(result))
    out = []
    for sid, tl in lay.texts.items():
        flag, notes = flags.get((tl.cell.sheet, tl.cell.a1), ("", []))
        out.append(
            Text(tl.section.label, report.texts.get(sid, ""), f"{tl.cell.sheet}!{tl.cell.a1}", flag, "\n".join(notes))
        )
    return tuple(out)


def issue_rows(result: Result) -> tuple[IssueRow, ...]:
    """Errors, then warnings, then notices (the library's order within each).

    Each row is placed where the marked-up copy places its issue, and keyed by the
    :func:`~xls_gongkai.issues.explanation_key` of the issue as read (a 说明 refers to the check
    or the value, wherever the file had it).
    """
    report = result.report
    sheet_index = {name: i for i, name in enumerate(layout_for(report.format).data_sheets, start=1)} if report else {}
    rank = {ERROR: 0, WARNING: 1, NOTICE: 2}
    rows: list[IssueRow] = []
    for read, shown in zip(result.issues, relocate(result), strict=True):
        where = f"{shown.sheet}!{shown.cell}" if shown.sheet and shown.cell else shown.sheet
        target = anchor(sheet_index[shown.sheet], shown.cell) if shown.sheet in sheet_index and shown.cell else ""
        rows.append(IssueRow(_SEVERITY[read.severity], read.code, where, target, read.message, explanation_key(read)))
    return tuple(sorted(rows, key=lambda row: rank[row.severity]))


def explainable(result: Result) -> dict[str, str]:
    """The keys a 说明 can be filed under — one per warning — with the warning in words."""
    return {row.key: row.label for row in issue_rows(result) if row.severity == WARNING}
