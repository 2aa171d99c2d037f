"""The Report: one unit's figures for one year, the object every part of xls-gongkai passes on.

Values are keyed by ``(table, row, column)`` ids of the format; counts are ``int`` and amounts
``Decimal`` so that sums over a thousand units are exact and merging is associative. A key
missing from ``values`` means the cell was not filled in (it counts as 0 in the checks and is
reported as missing by the reader).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xls_gongkai.spec import CellKind, Format, get_format

if TYPE_CHECKING:
    import pandas as pd

Value = int | Decimal
CellKey = tuple[str, str, str]

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


_CELL_ORDER: dict[str, tuple[CellKey, ...] | None] = {}


def cell_order(format_id: str) -> tuple[CellKey, ...] | None:
    """Every cell key of a built-in format in layout order, one shared tuple (None: unknown id)."""
    if format_id not in _CELL_ORDER:
        try:
            _CELL_ORDER[format_id] = tuple(get_format(format_id).cells())
        except Exception:
            _CELL_ORDER[format_id] = None
    return _CELL_ORDER[format_id]


def _report_in_order(
    unit: Unit, year: int, format_id: str, ordered: tuple[Value, ...], texts: Mapping[str, str], units: int
) -> Report:
    keys = cell_order(format_id)
    if keys is None or len(keys) != len(ordered):
        raise ValueError(f"a report of format {format_id!r} cannot be rebuilt here")
    return Report(unit, year, format_id, dict(zip(keys, ordered, strict=True)), texts, units)


@dataclass(frozen=True, order=True)
class Unit:
    """A reporting unit (乡镇、街道、部门, or a county whose summary is merged upward)."""

    code: str
    name: str
    parent: str = ""


@dataclass(frozen=True)
class Report:
    unit: Unit
    year: int
    format_id: str
    values: Mapping[CellKey, Value] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    #: How many unit reports were added up into this one (1 for a unit's own report).
    units: int = 1

    @property
    def format(self) -> Format:
        return get_format(self.format_id)

    def get(self, table: str, row: str, column: str) -> Value | None:
        return self.values.get((table, row, column))

    def value(self, table: str, row: str, column: str) -> Value:
        """The value of a cell or of a group of cells (row or column groups are summed).

        A group row stored explicitly (a 2021 table that printed （六）其他处理 as one row) is
        taken as given; otherwise a group is the sum of its leaves, and a blank leaf counts 0.
        """
        key = (table, row, column)
        if key in self.values:
            return self.values[key]
        fmt = self.format
        t = fmt.table(table)
        rnode, cnode = t.row_nodes[row], t.column_nodes[column]
        if rnode.is_leaf and cnode.is_leaf:
            return 0
        total: Value = 0
        if not rnode.is_leaf:
            for child in rnode.children:
                total += self.value(table, child.id, column)
        else:
            for child in cnode.children:
                total += self.value(table, row, child.id)
        return total

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # A batch's worker sends one Report a file. A template read in full holds every cell of
        # its format in layout order: then the values go without their keys (pickled and
        # unpickled in half the time, measured). Keys are compared in order, never hashed.
        keys = cell_order(self.format_id)
        if keys is not None and len(self.values) == len(keys) and tuple(self.values) == keys:
            ordered = tuple(self.values.values())
            return (_report_in_order, (self.unit, self.year, self.format_id, ordered, self.texts, self.units))
        return (Report, (self.unit, self.year, self.format_id, self.values, self.texts, self.units))

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": {"code": self.unit.code, "name": self.unit.name, "parent": self.unit.parent},
            "year": self.year,
            "format": self.format_id,
            "units": self.units,
            "values": [
                {"table": t, "row": r, "column": c, "value": _json_value(v)}
                for (t, r, c), v in sorted(self.values.items(), key=lambda kv: _order(self.format, kv[0]))
            ],
            "texts": dict(self.texts),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        unit = data["unit"]
        fmt = get_format(str(data["format"]))
        values: dict[CellKey, Value] = {}
        for item in data.get("values", []):
            key = (item["table"], item["row"], item["column"])
            kind = fmt.table(key[0]).cell_kind(key[1], key[2])
            values[key] = coerce_value(kind, item["value"])
        return cls(
            unit=Unit(str(unit.get("code", "")), str(unit.get("name", "")), str(unit.get("parent", ""))),
            year=int(data["year"]),
            format_id=str(data["format"]),
            values=values,
            texts=dict(data.get("texts", {})),
            units=int(data.get("units", 1)),
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        return cls.from_dict(json.loads(text, parse_float=Decimal))

    # ------------------------------------------------------------------ tidy data

    def tidy_rows(self) -> Iterable[dict[str, Any]]:
        """One dict per value cell of the format (blank cells have value None)."""
        fmt = self.format
        for t in fmt.tables:
            for rnode in t.leaf_rows:
                for cnode in t.leaf_columns:
                    v = self.values.get((t.id, rnode.id, cnode.id))
                    yield {
                        "unit_code": self.unit.code,
                        "unit_name": self.unit.name,
                        "year": self.year,
                        "format": self.format_id,
                        "table": t.id,
                        "row": rnode.id,
                        "column": cnode.id,
                        "row_path": rnode.path_text,
                        "column_path": cnode.path_text,
                        "value": None if v is None else float(v) if isinstance(v, Decimal) else v,
                    }

    def to_frame(self) -> pd.DataFrame:
        return reports_to_frame([self])


def reports_to_frame(reports: Iterable[Report]) -> pd.DataFrame:
    """Tidy DataFrame of many reports, one row per value cell, columns :data:`TIDY_COLUMNS`."""
    import pandas as pd

    rows = [row for report in reports for row in report.tidy_rows()]
    frame = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["year"] = frame["year"].astype("int64")
    return frame


def _order(fmt: Format, key: CellKey) -> tuple[int, int, int]:
    t = fmt.table_map.get(key[0])
    if t is None:
        return (len(fmt.tables), 0, 0)
    rows = [n.id for top in t.rows for n in top.walk()]
    cols = [n.id for top in t.columns for n in top.walk()]
    return (
        fmt.tables.index(t),
        rows.index(key[1]) if key[1] in rows else len(rows),
        cols.index(key[2]) if key[2] in cols else len(cols),
    )


def _json_value(v: Value) -> int | float:
    # Amounts are Decimal; their 4-place values survive the trip through a JSON float exactly
    # (Python prints the shortest repr that reads back the same), and are read back as Decimal.
    return float(v) if isinstance(v, Decimal) else v


def coerce_value(kind: CellKind, v: Any) -> Value:
    """The canonical Python value of a number for a cell of ``kind``.

    Amounts are ``Decimal``; counts are ``int`` when whole (a fractional count stays a
    ``Decimal`` so that the checks can report it rather than lose it).
    """
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal | str):
        raise ValueError(f"不是数值：{v!r}")
    d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
    if kind is CellKind.AMOUNT:
        return d
    return int(d) if d == d.to_integral_value() else d
