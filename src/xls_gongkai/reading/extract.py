"""The values and texts of a workbook's located tables, and the problems of each cell.

Every value goes through :func:`xls_gongkai.parsing.values.parse_cell`. Computed totals are
recomputed by the rule engine from the inputs — a stored formula result is never trusted — and a
total typed over with another number is an error. Blank input cells count 0 and are reported as
one notice per table (each one an error with ``strict``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xls_gongkai.issues import Code, Issue, issue
from xls_gongkai.numbers import Value, format_number
from xls_gongkai.parsing.grid import Located, at, group_row_issue
from xls_gongkai.parsing.values import Parsed, cell_text, parse_cell
from xls_gongkai.reading.sheets import Sheets
from xls_gongkai.rules import engine
from xls_gongkai.spec import CellKey, Format, Node, Table
from xls_gongkai.workbook.layout import TEXT_SHEET, Layout, a1, join_text, layout_for

__all__ = ["Extracted", "extract_texts", "extract_values"]


@dataclass
class Extracted:
    values: dict[CellKey, Value] = field(default_factory=dict)
    cells: Mapping[CellKey, tuple[str, str]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


@dataclass
class _Typed:
    """A total cell that holds something: compared with the recomputed total."""

    value: Value | None
    text: str
    sheet: str
    cell: str


def _where(table: Table, key: CellKey, sheet: str, cell: str) -> dict[str, Any]:
    rnode, cnode = table.row_nodes[key[1]], table.column_nodes[key[2]]
    return {
        "sheet": sheet,
        "cell": cell,
        "cells": (cell,),
        "table": key[0],
        "row": key[1],
        "column": key[2],
        "row_label": rnode.path_text,
        "column_label": cnode.path_text,
        "place": f"{table.name}{table.where(key[1], key[2])}（{cell}）",
    }


def _rows_read(table: Table, loc: Located, out: Extracted) -> list[Node]:
    """The rows to read: the leaves found, and a group printed as one row in place of its leaves
    (2021's （六）其他处理 printed as in 2019: its sub-rows are unknown, not zero)."""
    rows = [r for r in table.leaf_rows]
    for rid in loc.rows:
        node = table.row_nodes[rid]
        if node.is_leaf or any(leaf.id in loc.rows for leaf in node.leaves()):
            continue
        hidden = {leaf.id for leaf in node.leaves()}
        rows = [r for r in rows if r.id not in hidden] + [node]
        out.issues.append(group_row_issue(table, node))
    lost = [
        (f"“{r.path_text or '数据'}”这一行", {"row": r.id, "row_label": r.path_text})
        for r in rows
        if r.id not in loc.rows
    ]
    lost += [
        (f"“{c.path_text}”这一列", {"column": c.id, "column_label": c.path_text})
        for c in table.leaf_columns
        if not any(loc.pos(rid, c.id) for rid in loc.rows)
    ]
    for what, where in lost:
        out.issues.append(
            issue(Code.LABEL_NOT_FOUND, note=f"{table.name}中找不到{what}", table=table.id, sheet=loc.sheet, **where)
        )
    return [r for r in rows if r.id in loc.rows]


def _cell_issue(parsed: Parsed, raw: Any, where: Mapping[str, Any], kind_label: str) -> Issue:
    return issue(parsed.code, note=parsed.note, found=cell_text(raw), expected=kind_label, **where)


def _positions(
    fmt: Format, located: Mapping[str, Located]
) -> dict[CellKey, tuple[str, str]] | Mapping[CellKey, tuple[str, str]]:
    """Where each value cell was read: the template's own (shared) map when nothing moved."""
    if all(not loc.by_label for loc in located.values()) and len(located) == len(fmt.tables):
        return layout_for(fmt).cell_refs
    out: dict[CellKey, tuple[str, str]] = {}
    for table in fmt.tables:
        loc = located.get(table.id)
        if loc is None:
            continue
        for rid in loc.rows:
            for cnode in table.leaf_columns:
                place = loc.pos(rid, cnode.id)
                if place is not None:
                    out[(table.id, rid, cnode.id)] = (loc.sheet, a1(*place))
    return out


def extract_values(sheets: Sheets, fmt: Format, located: Mapping[str, Located], *, strict: bool) -> Extracted:
    """The values of every located table (totals recomputed), where each was read, and issues."""
    eng = engine(fmt)
    out = Extracted()
    positions = _positions(fmt, located)
    kinds = fmt.cell_kinds
    inputs: dict[CellKey, Value] = {}
    typed: dict[CellKey, _Typed] = {}
    for table in fmt.tables:
        loc = located.get(table.id)
        if loc is None:
            continue
        grid = sheets.grid(loc.sheet)
        blanks: list[str] = []
        for rnode in _rows_read(table, loc, out):
            leaf = rnode.leaves()[0].id
            for cnode in table.leaf_columns:
                place = loc.pos(rnode.id, cnode.id)
                if place is None:
                    continue
                key = (table.id, rnode.id, cnode.id)
                raw = at(grid, *place)
                kind, unit = kinds[(table.id, leaf, cnode.id)]
                parsed = parse_cell(raw, kind, unit)
                if key in eng.computed:
                    if not parsed.blank:
                        typed[key] = _Typed(parsed.value, cell_text(raw), loc.sheet, positions[key][1])
                    continue
                if parsed.value is not None:
                    inputs[key] = parsed.value
                    if not parsed.code:
                        continue
                cell = positions[key][1]
                if parsed.blank:
                    blanks.append(cell)
                    if strict:
                        out.issues.append(issue(Code.MISSING, **_where(table, key, loc.sheet, cell)))
                else:
                    out.issues.append(_cell_issue(parsed, raw, _where(table, key, loc.sheet, cell), kind.label))
        if blanks and not strict:
            out.issues.append(
                issue(
                    Code.BLANK_CELLS,
                    table=table.id,
                    table_name=table.name,
                    count=len(blanks),
                    sheet=loc.sheet,
                    found=str(len(blanks)),
                )
            )
    out.cells = positions
    if not inputs and located:
        # Nothing typed at all: an untouched template is not a submission (its blanks are no news).
        out.issues = [i for i in out.issues if i.code != Code.BLANK_CELLS]
        out.issues.append(issue(Code.EMPTY))
    out.values = eng.with_totals(inputs)
    for key, t in typed.items():
        recomputed = out.values.get(key)
        # Totals that depend on rows that could not be read stay unknown rather than wrong.
        if recomputed is not None and t.value != recomputed:
            where = _where(fmt.table(key[0]), key, t.sheet, t.cell)
            out.issues.append(issue(Code.TOTAL_OVERWRITTEN, expected=format_number(recomputed), found=t.text, **where))
    return out


def extract_texts(sheets: Sheets, lay: Layout) -> tuple[dict[str, str], list[Issue]]:
    """The text sections of our template's 文字说明 sheet, and the ones left empty."""
    texts: dict[str, str] = {}
    issues: list[Issue] = []
    if TEXT_SHEET not in sheets.names:
        return texts, issues
    grid = sheets.grid(TEXT_SHEET)
    for sid, tlay in lay.texts.items():
        # a long section stands in several cells, the clerk going on in the next when one is full
        text = join_text(cell_text(at(grid, c.row, c.col)) for c in tlay.cells)
        if text:
            texts[sid] = text
        else:
            cell = tlay.cell.a1
            issues.append(
                issue(Code.TEXT_MISSING, section=tlay.section.label, sheet=TEXT_SHEET, cell=cell, cells=(cell,))
            )
    return texts, issues
