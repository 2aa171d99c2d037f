"""The Report: one unit's figures for one year, the object every part of xls-gongkai passes on.

Values are keyed by ``(table, row, column)`` ids of the report's :class:`~xls_gongkai.spec.Format`
(the object itself, so a local variant is never confused with the built-in it was copied from);
counts are ``int`` and amounts ``Decimal`` so that sums over a thousand units are exact and merging
is associative. A key missing from ``values`` means the cell was not filled in (it counts as 0 in
the checks). A group row may be stored as one value (a 2021 table that printed （六）其他处理 as
one row): then its sub-rows are unknown, not zero.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from xls_gongkai.errors import UsageError
from xls_gongkai.numbers import Value, coerce_value
from xls_gongkai.spec import CellKey, Format, find_format

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TIDY_COLUMNS", "CellKey", "Explanation", "Report", "Unit", "Value", "group_value", "reports_to_frame"]

#: The columns of :meth:`Report.to_frame` — a public contract, documented in the README.
TIDY_COLUMNS = (
    "unit_code",
    "unit_name",
    "year",
    "format",
    "table",
    "row",
    "column",
    "row_path",
    "column_path",
    "value",
)


@dataclass(frozen=True, order=True)
class Unit:
    """A reporting unit (乡镇、街道、部门, or a county whose summary is merged upward)."""

    code: str
    name: str
    parent: str = ""

    @property
    def label(self) -> str:
        """``城关镇（410102001）``, or whichever of the two is known."""
        if self.name and self.code:
            return f"{self.name}（{self.code}）"
        return self.name or self.code or "（未填写单位）"


@dataclass(frozen=True)
class Explanation:
    """A 说明: what a unit wrote to explain a warning (or the file as a whole, ``key`` empty).

    ``key`` names what it explains: a rule's check (``R7|t2_1|regulations|0``) or a rule id.
    ``unit`` is the unit that wrote it: a summary carries its units' explanations up.
    """

    key: str
    text: str
    unit: Unit = Unit("", "")


def group_value(fmt: Format, values: Mapping[CellKey, Value], key: CellKey) -> Value:
    """The value of a cell or of a group of cells (row or column groups are summed).

    A group stored explicitly is taken as given; otherwise a group is the sum of its leaves, and
    a blank leaf counts 0. The one definition of what a group's value is, used by the rule
    engine, the writers and the exports.
    """
    got = values.get(key)
    if got is not None:
        return got
    table = fmt.table(key[0])
    rnode, cnode = table.row_nodes[key[1]], table.column_nodes[key[2]]
    if rnode.is_leaf and cnode.is_leaf:
        return 0
    total: Value = 0
    if not rnode.is_leaf:
        for child in rnode.children:
            total += group_value(fmt, values, (key[0], child.id, key[2]))
    else:
        for child in cnode.children:
            total += group_value(fmt, values, (key[0], key[1], child.id))
    return total


@dataclass(frozen=True)
class Report:
    unit: Unit
    year: int
    format: Format
    values: Mapping[CellKey, Value] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    #: How many unit reports were added up into this one (1 for a unit's own report).
    units: int = 1
    #: The 说明 that travel with the figures (a summary holds its units').
    explanations: tuple[Explanation, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.format, Format):
            raise TypeError(f"Report.format must be a Format, not {self.format!r} (use spec.get_format)")

    @property
    def format_id(self) -> str:
        return self.format.id

    def get(self, table: str, row: str, column: str) -> Value | None:
        return self.values.get((table, row, column))

    def value(self, table: str, row: str, column: str) -> Value:
        """The value of a cell or of a group of cells (see :func:`group_value`)."""
        return group_value(self.format, self.values, (table, row, column))

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        fmt = self.format
        out: dict[str, Any] = {
            "unit": {"code": self.unit.code, "name": self.unit.name, "parent": self.unit.parent},
            "year": self.year,
            "format": fmt.id,
            "units": self.units,
            "values": [
                {"table": t, "row": r, "column": c, "value": _json_value(v)}
                for (t, r, c), v in sorted(self.values.items(), key=lambda kv: fmt.key_order(kv[0]))
            ],
            "texts": dict(self.texts),
        }
        if self.explanations:
            out["explanations"] = [
                {"key": e.key, "text": e.text, "unit": {"code": e.unit.code, "name": e.unit.name}}
                for e in self.explanations
            ]
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], formats: tuple[Format, ...] = ()) -> Report:
        """A report from :meth:`to_dict` data; its format is found by id among ``formats``
        (the caller's local variants) and the built-in ones."""
        fmt = find_format(str(data["format"]), formats)
        if fmt is None:
            raise UsageError(f"格式“{data['format']}”未知。如果是地方变体，请用 --format 指定它的定义文件")
        values: dict[CellKey, Value] = {}
        for item in data.get("values", []):
            key = (str(item["table"]), str(item["row"]), str(item["column"]))
            if not fmt.has(key):
                raise ValueError(f"格式 {fmt.id} 没有单元格 {'.'.join(key)}")
            values[key] = coerce_value(fmt.table(key[0]).cell_kind(key[1], key[2]), item["value"])
        unit = data["unit"]
        explanations = tuple(
            Explanation(
                str(e["key"]), str(e["text"]), Unit(str(e["unit"].get("code", "")), str(e["unit"].get("name", "")))
            )
            for e in data.get("explanations", [])
        )
        return cls(
            unit=Unit(str(unit.get("code", "")), str(unit.get("name", "")), str(unit.get("parent", ""))),
            year=int(data["year"]),
            format=fmt,
            values=values,
            texts={str(k): str(v) for k, v in dict(data.get("texts", {})).items()},
            units=int(data.get("units", 1)),
            explanations=explanations,
        )

    @classmethod
    def from_json(cls, text: str, formats: tuple[Format, ...] = ()) -> Report:
        return cls.from_dict(json.loads(text, parse_float=Decimal), formats)

    # ------------------------------------------------------------------ tidy data

    def tidy_rows(self) -> Iterable[tuple[Any, ...]]:
        """One tuple per value cell of the format, in :data:`TIDY_COLUMNS` order (blank: None).

        A group row stored as one value (（六）其他处理 printed as one row) is a row of its own,
        before its sub-rows (which are then blank): nothing the report holds is left out.
        """
        fmt, unit, year, values = self.format, self.unit, self.year, self.values
        head = (unit.code, unit.name, year, fmt.id)
        if fmt.group_keys.isdisjoint(values):  # the usual case: the leaf cells, labels worked out once
            for key, labels in tidy_cells(fmt):
                v = values.get(key)
                yield (*head, *labels, float(v) if isinstance(v, Decimal) else v)
            return
        stored_groups = {(k[0], k[1]) for k in values if k in fmt.group_keys}
        for t in fmt.tables:
            for top in t.rows:
                for rnode in top.walk():
                    if not rnode.is_leaf and (t.id, rnode.id) not in stored_groups:
                        continue
                    rpath = rnode.path_text
                    for cnode in t.leaf_columns:
                        v = values.get((t.id, rnode.id, cnode.id))
                        if v is None and not rnode.is_leaf:
                            continue
                        value = None if v is None else float(v) if isinstance(v, Decimal) else v
                        yield (*head, t.id, rnode.id, cnode.id, rpath, cnode.path_text, value)

    def to_frame(self) -> pd.DataFrame:
        return reports_to_frame([self])


@cache
def tidy_cells(fmt: Format) -> tuple[tuple[CellKey, tuple[str, str, str, str, str]], ...]:
    """Every leaf cell of ``fmt`` in tidy order, with its tidy labels (table, row, column ids and
    paths): worked out once per format, not once per value exported."""
    return tuple(
        ((t.id, r.id, c.id), (t.id, r.id, c.id, r.path_text, c.path_text))
        for t in fmt.tables
        for top in t.rows
        for r in top.walk()
        if r.is_leaf
        for c in t.leaf_columns
    )


def reports_to_frame(reports: Iterable[Report]) -> pd.DataFrame:
    """Tidy DataFrame of many reports, one row per value cell, columns :data:`TIDY_COLUMNS`."""
    import pandas as pd

    rows = [row for report in reports for row in report.tidy_rows()]
    frame = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["year"] = frame["year"].astype("int64")
    return frame


def _json_value(v: Value) -> int | float:
    # Amounts are Decimal; their 4-place values survive the trip through a JSON float exactly
    # (Python prints the shortest repr that reads back the same), and are read back as Decimal.
    return float(v) if isinstance(v, Decimal) else v
