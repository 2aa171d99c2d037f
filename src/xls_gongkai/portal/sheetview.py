"""The uploaded figures drawn as the familiar 表二/表三/表四 grid, with the failing cells marked.

The grid follows the template's own layout (merged headers, row labels, the corner text) and
carries the spreadsheet's column letters and row numbers, so "表三!D7" in a message is found on
the page as in Excel. Issues are placed where the library's marked-up copy places them
(:func:`library.relocated_issues`), so the page, the issue list and the downloaded copy agree.
Nothing here judges the data: every flag comes from an issue of the library's result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from xls_gongkai.portal import library

ERROR, WARNING = "error", "warning"


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
    """One line of the issue list: a library issue, or the 未填写 warnings of one sheet folded into one."""

    severity: str
    code: str
    where: str
    anchor: str
    message: str
    key: str  # what a 说明 is stored under
    count: int = 1


def anchor(sheet_index: int, a1: str) -> str:
    return f"c{sheet_index}-{a1}"


def _flags(issues: Sequence[library.Issue]) -> dict[tuple[str, str], tuple[str, list[str]]]:
    flags: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for issue in issues:
        if not issue.sheet:
            continue
        for a1 in issue.cells or (issue.cell,):
            if not a1:
                continue
            severity = ERROR if issue.is_error else WARNING
            old, notes = flags.get((issue.sheet, a1), (WARNING, []))
            notes.append(issue.message)
            flags[(issue.sheet, a1)] = (ERROR if ERROR in (old, severity) else WARNING, notes)
    return flags


def number_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        text = format(v.normalize(), "f")
        return text
    return str(v)


def sheets(result: library.Result) -> tuple[Sheet, ...]:
    """Every data sheet of the report's format as grids; () for a file that could not be read."""
    report = result.report
    if report is None:
        return ()
    lay = library.layout(report.format_id)
    issues = library.relocated_issues(result)
    flags = _flags(issues)
    computed = library.computed_cells(report.format_id)
    out: list[Sheet] = []
    for index, name in enumerate(lay.data_sheets, start=1):
        tables = tuple(
            _table(tl, report.values, flags, computed, index) for tl in lay.tables.values() if tl.sheet == name
        )
        on_sheet = [f for (s, _a1), (f, _n) in flags.items() if s == name]
        out.append(Sheet(name, f"s{index}", tables, on_sheet.count(ERROR), on_sheet.count(WARNING)))
    return tuple(out)


def _table(
    tl: library.TableLayout,
    values: Mapping[library.CellKey, object],
    flags: Mapping[tuple[str, str], tuple[str, list[str]]],
    computed: frozenset[library.CellKey],
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
            a1 = library.a1(r, c)
            flag, notes = flags.get((tl.sheet, a1), ("", []))
            value = values.get(key)
            role = "total" if key in computed else ("blank" if value is None else "value")
            placed[(r, c)] = Cell(
                number_text(value),
                role,
                ref=f"{tl.sheet}!{a1}",
                anchor=anchor(sheet_index, a1),
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
    letters = tuple(library.column_letter(c) for c in range(right + 1))
    return Table(title or tl.table.title, letters, tuple(rows))


def texts(result: library.Result) -> tuple[Text, ...]:
    """The 文字说明 sections with their cell and any issue about them."""
    report = result.report
    if report is None:
        return ()
    lay = library.layout(report.format_id)
    flags = _flags(library.relocated_issues(result))
    out = []
    for sid, tl in lay.texts.items():
        flag, notes = flags.get((tl.cell.sheet, tl.cell.a1), ("", []))
        out.append(
            Text(tl.section.label, report.texts.get(sid, ""), f"{tl.cell.sheet}!{tl.cell.a1}", flag, "\n".join(notes))
        )
    return tuple(out)


def issue_rows(result: library.Result) -> tuple[IssueRow, ...]:
    """Errors first, then warnings; the 未填写 warnings of a sheet folded into one line (one 说明)."""
    report = result.report
    issues = library.relocated_issues(result)
    sheet_index = (
        {name: i for i, name in enumerate(library.layout(report.format_id).data_sheets, start=1)} if report else {}
    )
    missing: dict[str, list[library.Issue]] = defaultdict(list)
    rows: list[IssueRow] = []
    for issue in sorted(issues, key=lambda i: not i.is_error):
        if issue.code == library.MISSING and issue.sheet:
            missing[issue.sheet].append(issue)
            continue
        where = f"{issue.sheet}!{issue.cell}" if issue.sheet and issue.cell else issue.sheet
        target = anchor(sheet_index[issue.sheet], issue.cell) if issue.sheet in sheet_index and issue.cell else ""
        severity = ERROR if issue.is_error else WARNING
        rows.append(IssueRow(severity, issue.code, where, target, issue.message, library.issue_key(issue)))
    for sheet, group in missing.items():
        cells = "、".join(i.cell for i in group[:12]) + ("……" if len(group) > 12 else "")
        message = f"“{sheet}”有 {len(group)} 个格子未填写（{cells}），检查时按 0 计。没有发生的请填 0。"
        first = group[0]
        target = anchor(sheet_index[sheet], first.cell) if sheet in sheet_index else ""
        rows.append(
            IssueRow(WARNING, library.MISSING, sheet, target, message, f"{library.MISSING}|{sheet}", len(group))
        )
    return tuple(rows)


def explainable_keys(result: library.Result) -> frozenset[str]:
    """The keys a 说明 can be written under: one per warning line of :func:`issue_rows`."""
    return frozenset(row.key for row in issue_rows(result) if row.severity == WARNING)
