"""The values of a document's tables: its table rows as one grid, found by the shared finder.

The rows of the table sections (and any table row elsewhere) are laid out as one grid in
document order; :func:`xls_gongkai.parsing.grid.find_tables` — the same finder the workbook
reader uses for a hand-made workbook — says where each table's rows and columns are, and every
cell is parsed with :func:`xls_gongkai.parsing.values.parse_cell`. A blank cell stays missing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from xls_gongkai.issues import Code, Issue, issue
from xls_gongkai.parsing.grid import Found, Located, at, find_tables, group_row_issue
from xls_gongkai.parsing.values import parse_cell
from xls_gongkai.report import CellKey, Value
from xls_gongkai.rules import engine
from xls_gongkai.spec import Format, Node, Table

__all__ = ["DocumentTables", "read_tables"]

#: Rows of a document's tables the finder looks at (a real report's tables have under 100).
MAX_ROWS = 20_000
#: Unrecognised lines listed one by one; the rest are counted in one issue.
_LISTED = 10


@dataclass
class DocumentTables:
    """What the tables of one document hold."""

    values: dict[CellKey, Value] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    located: dict[str, Located] = field(default_factory=dict)
    blanks: dict[str, list[CellKey]] = field(default_factory=dict)
    #: table lines that belong to no table (kept as the result's ``unrecognised``)
    unrecognised: list[str] = field(default_factory=list)


def read_tables(
    rows: Sequence[tuple[str, ...]],
    fmt: Format,
    skip: set[int] | frozenset[int] = frozenset(),
    unread: frozenset[CellKey] = frozenset(),
) -> DocumentTables:
    """Every table of ``fmt`` in the grid ``rows``; ``skip`` are rows that are not content
    (section headings), ``unread`` cells blank here but not in the report (a run of digits that
    could not be read): not counted as blank."""
    out = DocumentTables()
    found = find_tables(rows, "", fmt.tables, max_rows=MAX_ROWS)
    for table in fmt.tables:
        loc = found.located.get(table.id)
        if loc is not None:
            out.located[table.id] = loc
            _read(rows, table, loc, out, unread)
    _strays(rows, found, fmt, skip, out)
    out.issues.extend(structure_issues(fmt, out))
    return out


def _read(
    rows: Sequence[tuple[str, ...]], table: Table, loc: Located, out: DocumentTables, unread: frozenset[CellKey]
) -> None:
    for rid in loc.rows:
        node = table.row_nodes[rid]
        if not node.is_leaf:
            out.issues.append(group_row_issue(table, node))
        for col in table.leaf_columns:
            pos = loc.pos(rid, col.id)
            if pos is None:
                continue
            key = (table.id, rid, col.id)
            raw = at(rows, *pos) or ""
            parsed = parse_cell(raw, table.cell_kind(rid, col.id), table.unit(rid, col.id))
            if parsed.blank:
                if key not in unread:
                    out.blanks.setdefault(table.id, []).append(key)
                continue
            if parsed.value is not None:
                out.values[key] = parsed.value
            if parsed.code:
                place = f"{table.name}{table.where(rid, col.id)}"
                out.issues.append(
                    issue(parsed.code, place=place, note=parsed.note, found=str(raw), **_cell(table, key))
                )


def _cell(table: Table, key: CellKey) -> dict[str, str]:
    rnode, cnode = table.row_nodes[key[1]], table.column_nodes[key[2]]
    return {
        "sheet": table.sheet,
        "table": table.id,
        "row": rnode.id,
        "column": cnode.id,
        "row_label": rnode.path_text,
        "column_label": cnode.path_text,
    }


_FIGURE = re.compile(r"[0-9０-９]")


def _strays(
    rows: Sequence[tuple[str, ...]], found: Found, fmt: Format, skip: set[int] | frozenset[int], out: DocumentTables
) -> None:
    for _r, text in found.unknown_titles:
        note = f"“{text}”不是{fmt.name}格式的表格中的一项，其下的数据未导入。请确认报告使用的格式"
        out.issues.append(issue(Code.NOT_IMPORTED, note=note, found=text))
    lines = [" | ".join(c for c in rows[r] if c) for r in found.unused if r not in skip]
    out.unrecognised.extend(lines)
    # A line with figures may be data that was not imported (a warning); one without is a broken
    # label or header fragment (a notice), so that fragments never bury what matters.
    for code, what, group in (
        (Code.NOT_IMPORTED, "内容", [t for t in lines if _FIGURE.search(t)]),
        (Code.FRAGMENT, "文字", [t for t in lines if not _FIGURE.search(t)]),
    ):
        shown = group if len(group) <= _LISTED + 2 else group[:_LISTED]
        for text in shown:
            note = f"未能识别的{what}，未导入：“{text[:60]}{'…' if len(text) > 60 else ''}”"
            out.issues.append(issue(code, note=note, found=text))
        if len(shown) < len(group):
            rest = len(group) - len(shown)
            note = f"另有 {rest} 处{what}未能识别、未导入（多为折行的标签或表头碎片），见结果的 unrecognised"
            out.issues.append(issue(code, note=note, found=str(rest)))


def _ancestors(table: Table, node: Node) -> list[Node]:
    return [n for n in table.row_nodes.values() if not n.is_leaf and node in n.leaves()]


def structure_issues(fmt: Format, tables: DocumentTables) -> list[Issue]:
    """Tables, rows and columns the document lacks, and its blank cells (one notice a table)."""
    out: list[Issue] = []
    computed = engine(fmt).computed
    for table in fmt.tables:
        loc = tables.located.get(table.id)
        if loc is None:
            out.append(issue(Code.NOT_IN_DOCUMENT, note=f"没有找到{table.name}", sheet=table.sheet, table=table.id))
            continue
        missing = [
            r
            for r in table.leaf_rows
            if r.label and r.id not in loc.rows and not any(a.id in loc.rows for a in _ancestors(table, r))
        ]
        if missing:
            note = f"{table.name}中没有找到“{'”“'.join(r.path_text for r in missing)}”行"
            out.append(
                issue(
                    Code.NOT_IN_DOCUMENT,
                    note=note,
                    sheet=table.sheet,
                    table=table.id,
                    row=missing[0].id,
                    row_label=missing[0].path_text,
                )
            )
        if loc.missing:
            labels = "”“".join(table.column_nodes[c].path_text for c in loc.missing)
            out.append(
                issue(
                    Code.NOT_IN_DOCUMENT,
                    note=f"{table.name}的表头中没有找到“{labels}”列",
                    sheet=table.sheet,
                    table=table.id,
                )
            )
        blanks = tables.blanks.get(table.id, [])
        if blanks:
            totals = sum(1 for k in blanks if k in computed)
            detail = f"，其中合计 {totals} 个（校验时按各项之和计）" if totals else ""
            out.append(
                issue(
                    Code.DOCUMENT_BLANKS,
                    name=table.name,
                    count=len(blanks),
                    detail=detail,
                    sheet=table.sheet,
                    table=table.id,
                    found=str(len(blanks)),
                )
            )
    return out
