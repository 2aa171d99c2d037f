"""The 说明 a workbook carries: what its unit (and, in a summary, each of its units) wrote to
explain a warning. Read from the 说明 sheet of our template: one row per warning rule and a
general one; a summary lists its units' 说明 below its own, so they travel up a level."""

from __future__ import annotations

import re

from xls_gongkai.parsing.values import cell_text
from xls_gongkai.reading.sheets import Sheets
from xls_gongkai.report import Explanation, Unit
from xls_gongkai.workbook.layout import EXPLAIN_COLUMNS, EXPLAIN_FIRST_ROW, EXPLAIN_SHEET

__all__ = ["read_explanations"]

_LABELLED = re.compile(r"^(?P<name>.*?)（(?P<code>[^（）]*)）$")


def _unit(text: str, own: Unit) -> Unit:
    text = text.strip()
    if not text or text in (own.name, own.label):
        return Unit("", "")  # the report's own unit (filled in by whoever holds the report)
    m = _LABELLED.match(text)
    return Unit(m.group("code"), m.group("name")) if m else Unit("", text)


def read_explanations(sheets: Sheets, own: Unit) -> tuple[Explanation, ...]:
    """Every 说明 written in the workbook's 说明 sheet (none when it has none)."""
    if EXPLAIN_SHEET not in sheets.names:
        return ()
    out: list[Explanation] = []
    width = len(EXPLAIN_COLUMNS)
    for row in sheets.grid(EXPLAIN_SHEET)[EXPLAIN_FIRST_ROW:]:
        cells = [cell_text(v) for v in row[:width]] + [""] * (width - len(row[:width]))
        key, _label, unit, text = cells
        if not text.strip():
            continue
        key = "" if key.strip() in ("", "—") else key.strip()
        out.append(Explanation(key, text.strip(), _unit(unit, own)))
    return tuple(out)
