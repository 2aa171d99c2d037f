"""What changed between two versions of a unit's report, cell by cell (and text by text)."""

from __future__ import annotations

from dataclasses import dataclass

from xls_gongkai.issues import Result
from xls_gongkai.portal.sheetview import number_text
from xls_gongkai.workbook.layout import layout_for


@dataclass(frozen=True)
class Change:
    where: str  # 表三!D7, or the text section's label
    table: str
    row: str
    column: str
    old: str
    new: str


def changes(old: Result, new: Result) -> tuple[Change, ...] | None:
    """Every value or text that differs, in the template's order; None when one side has no
    report or the two are of different formats."""
    a, b = old.report, new.report
    if a is None or b is None or a.format is not b.format:
        return None
    lay = layout_for(a.format)
    out: list[Change] = []
    for tl in lay.tables.values():
        table = tl.table
        for rnode in table.leaf_rows:
            for cnode in table.leaf_columns:
                key = (table.id, rnode.id, cnode.id)
                before, after = number_text(a.values.get(key)), number_text(b.values.get(key))
                if before != after:
                    pos = tl.pos(rnode.id, cnode.id)
                    out.append(
                        Change(f"{pos.sheet}!{pos.a1}", table.title, rnode.path_text, cnode.path_text, before, after)
                    )
    for sid, text_layout in lay.texts.items():
        before, after = a.texts.get(sid, ""), b.texts.get(sid, "")
        if before != after:
            out.append(
                Change(
                    f"{text_layout.cell.sheet}!{text_layout.cell.a1}", text_layout.section.label, "", "", before, after
                )
            )
    return tuple(out)
