"""The roster: the units (乡镇、街道、部门) a county sends templates to.

A roster is a CSV file (UTF-8, UTF-8 with BOM, or GBK — what Excel in China saves) or an XLSX
workbook (first sheet) with a header row and the columns 代码/code, 名称/name and optionally
上级/parent. A malformed roster is refused with a :class:`~xls_gongkai.errors.RosterError` naming
the file and the row (row numbers as a spreadsheet shows them: the header is row 1).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from xls_gongkai.errors import RosterError
from xls_gongkai.parsing.labels import normalise
from xls_gongkai.report import Unit

#: Accepted header spellings (compared after stripping spaces, case-insensitive).
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("代码", "code", "单位代码", "编码", "统一社会信用代码"),
    "name": ("名称", "name", "单位名称", "单位"),
    "parent": ("上级", "parent", "上级单位", "所属", "上级代码"),
}

MAX_UNITS = 10000


@dataclass(frozen=True)
class Roster:
    """The units of a roster, in file order, and where they came from."""

    units: tuple[Unit, ...]
    source: str = ""

    def __len__(self) -> int:
        return len(self.units)

    def by_code(self, code: str) -> Unit | None:
        return next((u for u in self.units if u.code == code), None)


@dataclass(frozen=True)
class Match:
    """How a file's unit stands against a roster.

    ``unit`` is the roster's unit (None: not on the roster), found ``by`` its code or its
    name; ``differs`` is what the file writes differently — the roster's name when found by
    code, its code when found by name ("" when they agree).
    """

    unit: Unit | None
    by: str = ""
    differs: str = ""


class RosterIndex:
    """A file's unit looked up in the roster: by code first, else by name (spelling normalised).

    ``check --roster`` and ``merge --roster`` both match through this, so a unit that one of
    them finds on the roster the other finds too.
    """

    def __init__(self, units: Iterable[Unit]) -> None:
        self._normalise = normalise
        self._by_code: dict[str, Unit] = {}
        self._by_name: dict[str, Unit] = {}
        for u in units:
            if u.code:
                self._by_code.setdefault(u.code, u)
            self._by_name.setdefault(normalise(u.name), u)

    def match(self, unit: Unit) -> Match:
        norm = self._normalise
        listed = self._by_code.get(unit.code) if unit.code else None
        if listed is not None:
            differs = bool(unit.name) and norm(listed.name) != norm(unit.name)
            return Match(listed, "code", listed.name if differs else "")
        named = self._by_name.get(norm(unit.name)) if unit.name else None
        if named is not None:
            differs = bool(unit.code) and bool(named.code) and named.code != unit.code
            return Match(named, "name", named.code if differs else "")
        return Match(None)

    def mentioned(self, texts: Iterable[str]) -> tuple[Unit, str] | None:
        """The one roster unit the first telling text names, and that text.

        A text names a unit by its name (spelling normalised; of names inside one another,
        城关镇 and 城关镇中心学校, the longest) or by its code (a run of digits of its own). A
        text that names two units, or a code and a name of different units, tells nothing.
        """
        for text in texts:
            found = self._named_in(text)
            if found is not None:
                return found, text
        return None

    def _named_in(self, text: str) -> Unit | None:
        norm = self._normalise(text)
        if not norm:
            return None
        names = [(key, u) for key, u in self._by_name.items() if len(key) >= 2 and key in norm]
        # a shorter name inside a longer one found too is the longer one's part, not a unit
        by_name = [u for key, u in names if not any(key != other and key in other for other, _v in names)]
        by_code = [self._by_code[c] for c in _DIGITS.findall(text) if c in self._by_code]
        found = {id(u): u for u in (*by_name, *by_code)}
        return next(iter(found.values())) if len(found) == 1 else None


#: Runs of digits that stand on their own (a unit code in a file name: 410102201_柳河乡.xlsx).
_DIGITS = re.compile(r"(?<!\d)\d{2,}(?!\d)")


def _decode(data: bytes, source: str) -> str:
    # Excel in China saves "CSV" as GBK; try UTF-8 (with or without BOM) first because GBK
    # decodes almost any byte string without error.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterError(f"名册 {source} 的编码无法识别。请用 Excel 另存为“CSV UTF-8”或 XLSX 后重试。")


def _csv_rows(path: Path) -> list[list[str]]:
    text = _decode(path.read_bytes(), str(path))
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",\t;，")
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        # A code typed into Excel becomes a float (410102001.0); keep its digits.
        if v.is_integer():
            return str(int(v))
        try:
            return format(Decimal(repr(v)).normalize(), "f")
        except InvalidOperation:  # pragma: no cover - repr of a float is always a decimal
            return str(v)
    return str(v).strip()


def _xlsx_rows(path: Path) -> list[list[str]]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:
        raise RosterError(f"无法读取名册 {path}：{exc}。请确认它是 CSV 或 XLSX 文件。") from exc
    return [[_cell_text(v) for v in row] for row in rows]


def _columns(header: Sequence[str]) -> dict[str, int]:
    norm = [h.replace(" ", "").replace("\u3000", "").strip().lower() for h in header]
    found: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for i, h in enumerate(norm):
            if h in {n.lower() for n in names}:
                found[key] = i
                break
    return found


#: How many non-empty rows may stand above the header (a title such as “河洛县政务公开单位名册”).
HEADER_SEARCH = 5


def _header(rows: Sequence[Sequence[str]], source: str) -> tuple[int, dict[str, int]]:
    """The index of the header row and its columns; refuses naming the first non-empty row."""
    candidates = [i for i, row in enumerate(rows) if any(c.strip() for c in row)][:HEADER_SEARCH]
    if not candidates:
        raise RosterError(f"名册 {source} 是空的。请填写表头（代码、名称、上级）和每个单位一行。")
    for i in candidates:
        cols = _columns([c.strip() for c in rows[i]])
        if "code" in cols and "name" in cols:
            return i, cols
    first = candidates[0]
    header = [c.strip() for c in rows[first]]
    cols = _columns(header)
    missing = [COLUMNS[k][0] for k in ("code", "name") if k not in cols]
    shown = "、".join(h for h in header if h) or "（空）"
    raise RosterError(
        f"名册 {source} 第 {first + 1} 行（表头）缺少“{'”“'.join(missing)}”列（现有列：{shown}）。"
        "表头应包含 代码、名称，可选 上级。"
    )


def parse_roster(rows: Sequence[Sequence[str]], source: str = "<名册>") -> Roster:
    """Build a roster from rows of text.

    The header is the first row naming both a code and a name column among the first few
    non-empty rows (a title row above it is skipped); row numbers in messages are 1-based.
    """
    start, cols = _header(rows, source)
    units: list[Unit] = []
    seen: dict[str, int] = {}
    for i in range(start + 1, len(rows)):
        row = rows[i]
        line = i + 1

        def get(key: str, row: Sequence[str] = row) -> str:
            j = cols.get(key)
            return row[j].strip().replace("\u3000", "") if j is not None and j < len(row) else ""

        code, name, parent = get("code"), get("name"), get("parent")
        if not code and not name and not any(c.strip() for c in row):
            continue
        if not name:
            raise RosterError(f"名册 {source} 第 {line} 行：单位名称为空。请补上名称或删除该行。")
        if not code:
            raise RosterError(f"名册 {source} 第 {line} 行：单位“{name}”的代码为空。请补上代码。")
        if code in seen:
            raise RosterError(
                f"名册 {source} 第 {line} 行：代码 {code} 与第 {seen[code]} 行重复。每个单位的代码必须不同。"
            )
        seen[code] = line
        units.append(Unit(code, name, parent))
        if len(units) > MAX_UNITS:
            raise RosterError(f"名册 {source} 超过 {MAX_UNITS} 个单位，请确认是否选错了文件。")
    if not units:
        raise RosterError(f"名册 {source} 只有表头，没有单位。请每个单位填写一行。")
    return Roster(tuple(units), source)


def load_roster(path: str | Path) -> Roster:
    """Load a roster from a CSV (UTF-8/UTF-8-BOM/GBK) or XLSX file.

    Example::

        roster = load_roster("samples/roster.csv")
        [u.name for u in roster.units]  # ['城关镇', ...]

    Raises :class:`RosterError` (missing column, duplicate code, empty name, unreadable file),
    naming the file and the row.
    """
    p = Path(path)
    if not p.is_file():
        raise RosterError(f"找不到名册文件 {p}。请检查路径。")
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        rows = _xlsx_rows(p)
    else:
        try:
            rows = _csv_rows(p)
        except OSError as exc:
            raise RosterError(f"无法读取名册 {p}：{exc}") from exc
        except csv.Error as exc:
            raise RosterError(f"名册 {p} 不是合法的 CSV：{exc}。") from exc
    return parse_roster(rows, str(p))


__all__ = ["Roster", "load_roster", "parse_roster"]
