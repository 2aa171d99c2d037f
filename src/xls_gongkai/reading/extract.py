"""The values and texts of a workbook's located tables, and the problems of each cell.

What a cell means is what it means in the clerk's recalculated sheet (the generated formulas
decide it the same way; see :mod:`xls_gongkai.workbook.formulas`):

* a number is the value; a date is the number a spreadsheet stores for it (and an error: the
  clerk's figure was turned into a date);
* a blank counts 0 (one notice per table; each one an error with ``strict``);
* text — "12" typed as text, "１２", " 12 ", "1,200", "无" — is not a number: it breaks R5 at
  its cell (the message says what number it looks like) and counts 0 in the relations, as a
  spreadsheet's SUM ignores it;
* an error value (#REF!, #DIV/0!, #N/A) breaks R5, and every relation over it, or over a total
  it feeds, cannot be verified;
* a formula is computed by :mod:`xls_gongkai.reading.formula` from the workbook's values (its
  stored result is never trusted) and its result counts, with a warning; a formula that refers
  to another workbook, uses DDE or a volatile function is an error, and its stored result is
  what the sheet shows;
* a computed total is recomputed from the inputs; one typed over with a number stands in the
  relations as typed (so its own check fails, as in the sheet) and is an error.

Formulas and error values are seen in the sheet's XML (:func:`~xls_gongkai.reading.cells.special_cells`);
for .xls and .xlsb, which store formulas compiled, they are not seen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xls_gongkai.issues import Code, Issue, issue
from xls_gongkai.numbers import Value, format_number
from xls_gongkai.parsing.grid import Located, at, group_row_issue
from xls_gongkai.parsing.values import cell_text, parse_cell
from xls_gongkai.reading.cells import CellNote, Notes
from xls_gongkai.reading.formula import Formula, Unknown, evaluate, parse_formula
from xls_gongkai.reading.sheets import Sheets
from xls_gongkai.rules import engine
from xls_gongkai.spec import CellKey, CellKind, Format, Node, Table
from xls_gongkai.workbook.layout import TEXT_SHEET, Layout, a1, join_text, layout_for

__all__ = ["Extracted", "extract_texts", "extract_values"]


@dataclass
class Extracted:
    values: dict[CellKey, Value] = field(default_factory=dict)
    cells: Mapping[CellKey, tuple[str, str]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    #: input cells holding text where a number belongs → what to tell the clerk
    text: dict[CellKey, str] = field(default_factory=dict)
    #: cells holding an error value (and the totals they feed) → what to tell the clerk
    errors: dict[CellKey, str] = field(default_factory=dict)
    #: computed totals that hold a typed value instead of their formula (data that may be wrong)
    typed: frozenset[CellKey] = frozenset()
    #: input cells holding text or an error value: what the cell shows ("１２", "#REF!")
    shown: dict[CellKey, str] = field(default_factory=dict)


@dataclass
class _Typed:
    """A total cell that holds a value instead of its formula: what the sheet adds up for it
    (text counts 0), compared with the recomputed total."""

    value: Value
    text: str
    sheet: str
    cell: str


@dataclass
class _FormulaCell:
    formula: Formula
    stored: Any
    sheet: str
    where: Mapping[str, Any]


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


@dataclass(frozen=True)
class _Where:
    """Where a value cell was read; its issue fields are made only when an issue needs them."""

    table: Table
    key: CellKey
    sheet: str
    cell: str

    def fields(self) -> dict[str, Any]:
        return _where(self.table, self.key, self.sheet, self.cell)


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


def _text_problem(raw: object, kind: CellKind, unit: str) -> str:
    """What to tell the clerk about text (or TRUE/FALSE) where a number belongs."""
    if isinstance(raw, bool):
        return f"填的是逻辑值 {cell_text(raw)}，不是数字，请填{kind.label}"
    shown = cell_text(raw)
    if not shown.strip():
        return "单元格里只有空格，表格软件不把它当作空白；请删除空格或填写数字"
    looks = parse_cell(shown, kind, unit).value
    if looks is not None:
        return f"填的是文字“{shown.strip()}”，看起来是 {format_number(looks)}{unit}，但表格软件不把文字当作数字计算；请改为数字"
    return f"填的是文字“{shown.strip()}”，不是数字，请填{kind.label}"


_EPOCH = dt.datetime(1899, 12, 30)


def _as_summed(raw: object, kind: CellKind) -> Value:
    """What a spreadsheet's SUM takes from a cell: its number, a date's serial, 0 for text."""
    if isinstance(raw, dt.date | dt.time | dt.timedelta):
        return _date_number(raw)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return 0
    return parse_cell(raw, kind).value or 0


def _date_number(raw: dt.date | dt.time | dt.timedelta) -> Value:
    """The number a spreadsheet stores for a date or time (what its formulas add up)."""
    if isinstance(raw, dt.timedelta):
        days = Decimal(raw.days) + Decimal(raw.seconds) / 86400
    elif isinstance(raw, dt.time):
        days = Decimal(raw.hour * 3600 + raw.minute * 60 + raw.second) / 86400
    else:
        moment = raw if isinstance(raw, dt.datetime) else dt.datetime(raw.year, raw.month, raw.day)
        delta = moment.replace(tzinfo=None) - _EPOCH
        days = Decimal(delta.days) + Decimal(delta.seconds) / 86400
    return int(days) if days == days.to_integral_value() else days


class _Reader:
    """One workbook's value cells, read in one pass; formulas computed once all inputs are known."""

    def __init__(self, sheets: Sheets, fmt: Format, notes: Notes, *, strict: bool, template: bool) -> None:
        self.sheets, self.fmt, self.notes, self.strict, self.template = sheets, fmt, notes, strict, template
        self.eng = engine(fmt)
        self.out = Extracted()
        self.inputs: dict[CellKey, Value] = {}
        self.typed: dict[CellKey, _Typed] = {}
        self.formulas: dict[CellKey, _FormulaCell] = {}
        self.read_at: dict[tuple[str, int, int], CellKey] = {}

    def table(self, table: Table, loc: Located, positions: Mapping[CellKey, tuple[str, str]]) -> None:
        grid = self.sheets.grid(loc.sheet)
        notes = self.notes.get(loc.sheet, {})
        kinds = self.fmt.cell_kinds
        blanks: list[str] = []
        for rnode in _rows_read(table, loc, self.out):
            leaf = rnode.leaves()[0].id
            for cnode in table.leaf_columns:
                place = loc.pos(rnode.id, cnode.id)
                if place is None:
                    continue
                key = (table.id, rnode.id, cnode.id)
                self.read_at[(loc.sheet, *place)] = key
                kind, unit = kinds[(table.id, leaf, cnode.id)]
                raw = at(grid, *place)
                note = notes.get(place) if notes else None
                whole = note is None and type(raw) is float and raw.is_integer() and kind is not CellKind.AMOUNT
                if whole and key not in self.eng.computed:
                    # What almost every cell holds: a whole number typed as a number.
                    self.inputs[key] = int(raw)
                    continue
                if self.cell(key, raw, note, kind, unit, _Where(table, key, loc.sheet, positions[key][1])):
                    blanks.append(positions[key][1])
        if blanks and not self.strict:
            self.out.issues.append(
                issue(
                    Code.BLANK_CELLS,
                    table=table.id,
                    table_name=table.name,
                    count=len(blanks),
                    sheet=loc.sheet,
                    found=str(len(blanks)),
                )
            )

    def cell(self, key: CellKey, raw: Any, note: CellNote | None, kind: CellKind, unit: str, at_: _Where) -> bool:
        """Take one value cell; True when it is a blank input."""
        if key in self.eng.computed:
            # A total keeps its formula (its stored result is not looked at); a number there
            # was typed over it. Without the XML (.xls) a stored result equal to the recomputed
            # total cannot be told from a typed one, and does no harm.
            if (note is None or note.formula is None) and cell_text(raw).strip():
                self.typed[key] = _Typed(_as_summed(raw, kind), cell_text(raw), at_.sheet, at_.cell)
            return False
        if note is not None and note.formula is not None:
            self.formulas[key] = _FormulaCell(parse_formula(note.formula), raw, at_.sheet, at_.fields())
            return False
        if note is not None and note.error is not None:
            self.out.errors[key] = f"是错误值 {note.error or '#VALUE!'}，不是数字"
            self.out.shown[key] = note.error or "#VALUE!"
            return False
        if raw is None or raw == "":
            if self.strict:
                self.out.issues.append(issue(Code.MISSING, **at_.fields()))
            return True
        if isinstance(raw, str | bool):
            self.out.text[key] = _text_problem(raw, kind, unit)
            self.out.shown[key] = cell_text(raw)
            return False
        if isinstance(raw, dt.date | dt.time | dt.timedelta):
            self.inputs[key] = _date_number(raw)
            note_text = f"填的内容被表格软件识别为日期或时间（{raw}），按其序号 {format_number(self.inputs[key])} 计算"
            self.out.issues.append(issue(Code.NOT_A_NUMBER, note=note_text, found=cell_text(raw), **at_.fields()))
            return False
        parsed = parse_cell(raw, kind, unit)
        if parsed.value is None:
            self.out.issues.append(
                issue(parsed.code, note=parsed.note, found=cell_text(raw), expected=kind.label, **at_.fields())
            )
        else:
            self.inputs[key] = parsed.value
        return False

    def finish(self) -> Extracted:
        out = self.out
        if not self.inputs and not self.formulas and not out.text and not out.errors and self.read_at:
            # Nothing typed at all: an untouched template is not a submission (its blanks are no news).
            out.issues = [i for i in out.issues if i.code != Code.BLANK_CELLS]
            out.issues.append(issue(Code.EMPTY))
        keep = list(self.typed)
        values = self._with_formulas(keep)
        if self.typed:
            recomputed = self.eng.with_totals({k: v for k, v in values.items() if k not in self.typed})
            for key, t in self.typed.items():
                total = recomputed.get(key)
                if total is not None and t.value != total and self.template:
                    # The sheet adds up the typed value: its own check fails there, as here. In our
                    # template the formula was replaced, which deserves its own word; in a
                    # hand-made table totals are typed anyway, and the failing rule says it all.
                    where = _where(self.fmt.table(key[0]), key, t.sheet, t.cell)
                    found = t.text
                    out.issues.append(
                        issue(Code.TOTAL_OVERWRITTEN, expected=format_number(total), found=found, **where)
                    )
        out.values = values
        out.typed = frozenset(self.typed)
        if out.errors:
            tainted = self.eng.depending(out.errors.keys(), keep=keep)
            out.errors.update({k: "（合计中含错误值）" for k in tainted if k not in out.errors})
        return out

    def _with_formulas(self, keep: list[CellKey]) -> dict[CellKey, Value]:
        """The values with totals, the formulas typed into inputs computed until they settle."""
        for key, f in self.formulas.items():
            if f.formula.unsafe and isinstance(f.stored, int | float) and not isinstance(f.stored, bool):
                # The sheet shows what the program last computed; its checks use that.
                self.inputs[key] = _as_summed(f.stored, self.fmt.cell_kinds[key][0])
        base = dict(self.inputs)
        base.update({k: t.value for k, t in self.typed.items()})
        values = self.eng.with_totals(base, keep=keep)
        safe = {k: f for k, f in self.formulas.items() if not f.formula.unsafe}
        results: dict[CellKey, Value | str] = {}
        for _ in range(len(safe) + 1):
            new = {k: self._formula_value(f, values) for k, f in safe.items()}
            if new == results:
                break
            results = new
            numbers = {k: v for k, v in new.items() if not isinstance(v, str)}
            values = self.eng.with_totals({**base, **numbers}, keep=keep)
        else:
            results = {k: "公式互相引用，形成循环" for k in safe}
            values = self.eng.with_totals(base, keep=keep)
        self._formula_issues(results)
        return values

    def _formula_value(self, f: _FormulaCell, values: Mapping[CellKey, Value]) -> Value | str:
        def lookup(sheet: str, row: int, col: int) -> Value | None:
            other = self.read_at.get((sheet, row, col))
            if other is not None:
                if other in self.out.errors or other in self.out.text:
                    raise Unknown("公式引用的单元格不是数字")
                if other in self.formulas and other not in values:
                    raise Unknown("公式引用的单元格的值尚不能确定")
                return values.get(other)
            if sheet not in self.sheets.names:
                raise Unknown(f"公式引用的工作表“{sheet}”不存在")
            if (row, col) in self.notes.get(sheet, {}):
                raise Unknown("公式引用了表格以外的公式或错误值")
            raw = at(self.sheets.grid(sheet), row, col)
            if raw is None or raw == "":
                return None
            if isinstance(raw, bool | str) or not isinstance(raw, int | float):
                raise Unknown("公式引用的单元格不是数字")
            return parse_cell(raw, CellKind.AMOUNT).value

        try:
            return evaluate(f.formula, f.sheet, lookup)
        except Unknown as exc:
            return exc.reason

    def _formula_issues(self, results: Mapping[CellKey, Value | str]) -> None:
        for key, f in self.formulas.items():
            shown = f"“={f.formula.text[:60]}”"
            result = results.get(key, "")
            if f.formula.unsafe:
                note = f"单元格中的公式{shown}{f.formula.unsafe}，结果无法核对"
                self.out.issues.append(issue(Code.FORMULA_UNSAFE, note=note, found="=" + f.formula.text, **f.where))
            elif isinstance(result, str):
                self.out.errors[key] = f"是公式{shown}，其结果无法确定（{result}）"
            else:
                self.inputs[key] = result
                note = f"单元格中是公式{shown}，按其计算结果 {format_number(result)} 计入"
                self.out.issues.append(issue(Code.FORMULA_IN_INPUT, note=note, found="=" + f.formula.text, **f.where))


def extract_values(
    sheets: Sheets,
    fmt: Format,
    located: Mapping[str, Located],
    *,
    strict: bool,
    notes: Notes | None = None,
    template: bool = True,
) -> Extracted:
    """The values of every located table (totals recomputed), where each was read, and issues.

    ``notes`` are the workbook's formula and error cells (:func:`~xls_gongkai.reading.cells.special_cells`);
    ``template``: the workbook is our template (its totals are formulas), not a hand-made table.
    """
    reader = _Reader(sheets, fmt, notes or {}, strict=strict, template=template)
    positions = _positions(fmt, located)
    for table in fmt.tables:
        loc = located.get(table.id)
        if loc is not None:
            reader.table(table, loc, positions)
    out = reader.finish()
    out.cells = positions
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
