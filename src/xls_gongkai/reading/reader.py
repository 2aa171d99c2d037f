"""Read a filled workbook back into a :class:`~xls_gongkai.report.Report`, with every issue found.

The fast path reads our own template: the very hidden ``_meta`` sheet names the format, year
and unit, the layout (shared with the writer) says where every value sits, and the row and
column labels at their expected cells confirm that nobody moved anything. When labels have
moved (a row inserted after the protection was removed), when the workbook is not our template
(a unit copied the official tables by hand, LibreOffice dropped ``_meta`` while converting to
.xls/.ods) or when it is a template of the other format version, tables are found by their
labels with :class:`~xls_gongkai.parsing.labels.TableMatcher`.

Values go through :func:`~xls_gongkai.parsing.values.parse_cell`; computed totals are recomputed from
the inputs (a stored formula result is never trusted) and a typed total that disagrees is an
issue. Every rule of the format then runs with the cells' real positions. Unusable files raise
:class:`~xls_gongkai.errors.WorkbookError` subclasses; :func:`read_many` turns those into
``file-unreadable`` issues so one bad file never stops a batch.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, partial
from operator import itemgetter
from pathlib import Path
from typing import Any

from xls_gongkai.batch.parallel import crashed, map_files
from xls_gongkai.errors import TemplateMismatchError, UnreadableWorkbookError, UsageError, WorkbookError
from xls_gongkai.issues import Code, Issue, Result
from xls_gongkai.parsing.labels import TableMatcher, match_all, normalise, strip_number
from xls_gongkai.parsing.labels import matcher as shared_matcher
from xls_gongkai.parsing.values import cell_text, is_blank, parse_cell
from xls_gongkai.reading.safety import confinable, confine, explain_failure, inspect_file
from xls_gongkai.report import CellKey, Report, Unit, Value, cell_order
from xls_gongkai.rules import (
    Check,
    Locator,
    Outcome,
    check_report,
    computed_cells,
    evaluate,
    format_number,
    outcome_issues,
)
from xls_gongkai.sample import with_totals
from xls_gongkai.spec import CellKind, Format, Node, Severity, Table, builtin_formats, format_for_year, get_format
from xls_gongkai.workbook.layout import FIRST_TABLE_ROW, GUIDE_SHEET, META_SHEET, TEXT_SHEET, Layout, a1, layout_for

__all__ = ["META_MARK", "Grid", "TemplateCells", "read_many", "read_workbook"]

META_MARK = "xls_gongkai_meta"
#: Unrecognised cells named one issue each per sheet; beyond that one issue counts the rest.
MAX_UNRECOGNISED_ISSUES = 50
#: Unrecognised cells kept (with address and text) in ``Result.extra["unrecognised"]``.
MAX_UNRECOGNISED_KEPT = 5000
Grid = list[list[Any]]
_YEAR = re.compile(r"(20\d{2})\s*年")
_CHECK_MARKS = ("✔", "✘")


# python-calamine's Rust parser panics on some damaged .xls files (index out of bounds in the
# compound-file reader); pyo3 raises that as PanicException, a BaseException (not importable
# by name), which `except Exception` lets through and which would stop a whole batch. Found
# by fuzzing .xls files (tests/test_fuzz.py).
def _interrupt(exc: BaseException) -> bool:
    """Whether an exception must propagate (Ctrl-C, exit), unlike a parser's crash."""
    return isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit)


@dataclass
class _Sheets:
    """The workbook's sheets as grids, loaded lazily (a sheet costs time only when looked at)."""

    book: Any
    path: Path
    names: list[str]
    cache: dict[str, Grid] = field(default_factory=dict)

    def grid(self, name: str) -> Grid:
        if name not in self.cache:
            try:
                self.cache[name] = self.book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except BaseException as exc:
                if _interrupt(exc):
                    raise
                explain_failure(self.path)
                raise UnreadableWorkbookError(
                    f"{self.path.name}：工作表“{name}”无法读取（文件可能已损坏）。请用 Excel 或 WPS 打开后另存为 .xlsx 再提交"
                ) from exc
        return self.cache[name]


def _at(grid: Grid, row: int, col: int) -> Any:
    if 0 <= row < len(grid):
        r = grid[row]
        if 0 <= col < len(r):
            return r[col]
    return None


def _open(path: Path, unpacked: bytes | None = None) -> _Sheets:
    import python_calamine

    if unpacked is not None:
        # The copy the safety scan inflated (see safety._unpack): calamine need not inflate again.
        try:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(unpacked))
            return _Sheets(book, path, list(book.sheet_names))
        except BaseException as exc:
            if _interrupt(exc):
                raise
            # Whatever calamine makes of the copy, the file as written decides (below).
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
    except python_calamine.PasswordError as exc:
        raise UnreadableWorkbookError(
            f"{path.name}：设置了打开密码（已加密），无法读取。请填报单位取消密码后重新提交"
        ) from exc
    except BaseException as exc:
        if _interrupt(exc):
            raise
        explain_failure(path)
        raise UnreadableWorkbookError(
            f"{path.name}：文件已损坏，无法作为电子表格读取（{type(exc).__name__}）。"
            "请用 Excel 或 WPS 打开后另存为 .xlsx 再提交，或重新获取原文件"
        ) from exc
    return _Sheets(book, path, names)


# --------------------------------------------------------------------------- metadata


def _meta(sheets: _Sheets) -> dict[str, str]:
    if META_SHEET not in sheets.names:
        return {}
    grid = sheets.grid(META_SHEET)
    if not grid or cell_text(_at(grid, 0, 0)) != META_MARK:
        return {}
    out: dict[str, str] = {}
    for row in grid[1:]:
        if row and isinstance(row[0], str) and row[0]:
            out[row[0]] = cell_text(row[1] if len(row) > 1 else "")
    return out


def _int(text: str) -> int | None:
    try:
        return int(float(text))
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- locating


@dataclass(frozen=True)
class _Located:
    """Where one table's cells are in this workbook."""

    table: Table
    sheet: str
    rows: Mapping[str, int]  # row id (leaf, or a group printed as one row) -> sheet row
    cols: Mapping[str, int]  # leaf column id -> sheet column
    by_label: bool  # located by labels (not at the template's positions)
    region: tuple[int, int, int, int] = (0, 0, -1, -1)  # first/last row, first/last col

    def pos(self, row: str, col: str) -> tuple[int, int] | None:
        if row in self.rows and col in self.cols:
            return self.rows[row], self.cols[col]
        return None


@cache
def _label_cells(lay: Layout, table_id: str) -> tuple[tuple[int, int, str, str], ...]:
    tl = lay.tables[table_id]
    return tuple(
        (lb.first_row, lb.first_col, lb.text, normalise(lb.text))
        for lb in tl.labels
        if lb.role in ("row", "column") and lb.text
    )


@cache
def _label_texts(lay: Layout, table_id: str) -> tuple[tuple[tuple[int, int], ...], list[str]]:
    cells = _label_cells(lay, table_id)
    return tuple((row, col) for row, col, _t, _n in cells), [text for _r, _c, text, _n in cells]


def _labels_in_place(grid: Grid, lay: Layout, table: Table) -> bool:
    where, texts = _label_texts(lay, table.id)
    try:
        # The template untouched: every label exactly as written (one list comparison).
        if [grid[r][c] for r, c in where] == texts:
            return True
    except IndexError:
        pass
    height = len(grid)
    for row, col, text, norm in _label_cells(lay, table.id):
        line = grid[row] if row < height else ()
        v = line[col] if col < len(line) else None
        # Exact text is the common case; normalising is only needed when a program re-wrote it.
        if v != text and normalise(cell_text(v)) != norm:
            return False
    return True


def _is_numberish(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int | float):
        return True
    if not isinstance(v, str):
        return False
    parsed = parse_cell(v, CellKind.COUNT)
    return parsed.value is not None and not parsed.code


def _text(v: Any) -> str:
    return v.strip() if isinstance(v, str) else ""


#: How much of a sheet the label search looks at: the official tables fit in far less, and a
#: large sheet of something else must not take minutes.
SCAN_ROWS = 1000
SCAN_COLS = 60


@cache
def _anchors(table: Table) -> tuple[re.Pattern[str], str]:
    """The table's column labels (normalised, without item numbers): a pattern finding any of
    them inside a text, and all of them joined (to find a text inside one of them)."""
    labels = sorted({a for n in table.column_nodes.values() if len(a := strip_number(n.label)) >= 2}, key=len)
    return re.compile("|".join(re.escape(a) for a in reversed(labels)) or "(?!)"), "\x00".join(labels)


_PREPARED: dict[int, tuple[Grid, list[tuple[bool, list[tuple[str, str]]]]]] = {}


def _prepared(grid: Grid) -> list[tuple[bool, list[tuple[str, str]]]]:
    """Per row of the scanned area: whether it holds a number, and its texts (raw, normalised).

    Worked out once per sheet, however many tables and formats are then looked for in it.
    """
    got = _PREPARED.get(id(grid))
    if got is not None and got[0] is grid:
        return got[1]
    rows: list[tuple[bool, list[tuple[str, str]]]] = []
    for full in grid[:SCAN_ROWS]:
        row = full[:SCAN_COLS]
        has_number = any(_is_numberish(v) for v in row)
        texts = [] if has_number else [(t, normalise(t)) for t in (_text(v) for v in row) if t and len(t) <= 60]
        rows.append((has_number, texts))
    if len(_PREPARED) >= 16:
        _PREPARED.clear()  # the sheets of the workbook being read; older ones are done with
    _PREPARED[id(grid)] = (grid, rows)
    return rows


def _header_blocks(grid: Grid, matcher: TableMatcher, table: Table) -> list[tuple[int, int, dict[str, int]]]:
    """Runs of rows holding column labels of ``table``: (first row, last row, leaf id → column)."""
    leaf_ids = {n.id for n in table.leaf_columns}
    need = min(2, len(leaf_ids))
    columns = list(table.column_nodes.values())
    anchors = _anchors(table)
    matched_rows: dict[int, set[str]] = {}
    strong: set[int] = set()
    pattern, joined = anchors
    for r, (has_number, texts) in enumerate(_prepared(grid)):
        hits: set[str] = set()
        # A header row holds no numbers; a data row's stub ("（七）总计", "3.其他") may look like
        # a column label and must not start a new header.
        if has_number:
            continue
        # The full matcher (with its similarity ratio) is slow; a header row has at least one
        # label written nearly as printed, so only rows with such an anchor are matched fully.
        # (A 3,000-row sheet of other text took 143 s without this.)
        if not any(pattern.search(norm) or (len(norm) >= 2 and norm in joined) for _t, norm in texts):
            continue
        for t, _norm in texts:
            # Ambiguous is fine here ("结果维持" under three groups): it is still a header.
            for node in match_all(t, columns):
                hits.add(node.id)
        if hits:
            matched_rows[r] = hits
            if len(hits & leaf_ids) >= need or len(hits) >= 2:
                strong.add(r)
    blocks: list[tuple[int, int, dict[str, int]]] = []
    rows = sorted(matched_rows)
    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1] == rows[j] + 1:
            j += 1
        first, last = rows[i], rows[j]
        cols = _header_columns(grid, first, last, matcher, leaf_ids)
        if len(cols) >= need and any(first <= x <= last for x in strong):
            blocks.append((first, last, cols))
        i = j + 1
    return blocks


def _header_columns(grid: Grid, first: int, last: int, matcher: TableMatcher, leaf_ids: set[str]) -> dict[str, int]:
    width = max(len(grid[r]) for r in range(first, last + 1))
    # Group headers are merged across their children; a reader sees the text only in the first
    # cell of the merge, so carry it to the right until the next text in that header row.
    filled: list[list[str]] = []
    for r in range(first, last + 1):
        carried = ""
        line: list[str] = []
        for c in range(width):
            t = _text(_at(grid, r, c))
            if t:
                carried = t
            line.append(t or (carried if r < last else ""))
        filled.append(line)
    out: dict[str, int] = {}
    for c in range(width):
        path: list[str] = []
        for line in filled:
            if line[c] and (not path or path[-1] != line[c]):
                path.append(line[c])
        # The leaf is the lowest text written *in* this column (vertical merges put it higher up).
        own = [_text(_at(grid, r, c)) for r in range(first, last + 1)]
        if not any(own):
            continue
        node = matcher.column(path)
        if node is not None and node.id in leaf_ids and node.id not in out:
            out[node.id] = c
    return out


def _locate_by_labels(grid: Grid, sheet: str, table: Table) -> _Located | None:
    matcher = shared_matcher(table)
    blocks = _header_blocks(grid, matcher, table)
    best: _Located | None = None
    best_score = 0
    single_unlabelled = len(table.leaf_rows) == 1 and not table.leaf_rows[0].label
    for n, (first, last, cols) in enumerate(blocks):
        value_left = min(cols.values())
        # The data rows follow the header closely; rows far below belong to something else.
        stop = min(
            blocks[n + 1][0] if n + 1 < len(blocks) else len(grid),
            last + 1 + 2 * len(table.row_nodes) + 20,
        )
        rows: dict[str, int] = {}
        empty_run = 0
        r = last + 1
        while r < stop:
            line = grid[r][:SCAN_COLS]
            stub = [_text(v) for v in line[:value_left] if _text(v)]
            if not stub and not any(not is_blank(v) for v in line):
                empty_run += 1
                if empty_run >= 3 and rows:
                    break
                r += 1
                continue
            empty_run = 0
            if single_unlabelled:
                if any(not is_blank(_at(grid, r, c)) for c in cols.values()) or not stub:
                    rows[table.leaf_rows[0].id] = r
                    break
            elif stub:
                node = matcher.row(stub)
                if node is not None and node.id not in rows:
                    rows[node.id] = r
            r += 1
        if single_unlabelled and not rows:
            rows[table.leaf_rows[0].id] = last + 1
        score = len(rows) + len(cols)
        if rows and score > best_score:
            last_row = max(rows.values())
            best = _Located(table, sheet, rows, cols, True, (first, last_row, 0, max(cols.values())))
            best_score = score
    return best


# --------------------------------------------------------------------------- the reader


@dataclass
class _Reading:
    """Everything gathered while reading one workbook."""

    path: Path
    fmt: Format
    sheets: _Sheets
    meta: Mapping[str, str]
    located: dict[str, _Located]
    by_labels: bool  # the workbook is not our template at all
    #: issues found so far, as (code, severity, message, fields): made Issues once the unit is known
    issues: list[tuple[str, Severity, str, dict[str, Any]]] = field(default_factory=list)


def _add(
    reading: _Reading,
    code: str,
    severity: Severity,
    message: str,
    **kw: Any,
) -> None:
    reading.issues.append((code, severity, message, kw))


def _format_by_labels(sheets: _Sheets, candidates: Sequence[Format]) -> tuple[Format, dict[str, _Located]]:
    best: tuple[int, Format, dict[str, _Located]] | None = None
    for fmt in candidates:
        located = _locate_all(sheets, fmt)
        score = sum(len(loc.rows) + len(loc.cols) for loc in located.values())
        # Leaves that only this format has decide between two that share most labels.
        if best is None or score > best[0]:
            best = (score, fmt, located)
    assert best is not None
    return best[1], best[2]


def _locate_all(sheets: _Sheets, fmt: Format) -> dict[str, _Located]:
    out: dict[str, _Located] = {}
    data_sheets = [s for s in sheets.names if s not in (META_SHEET, GUIDE_SHEET)]
    for table in fmt.tables:
        # The table's own sheet first; a hand-made workbook may put the tables anywhere.
        order = sorted(data_sheets, key=lambda s: (s != table.sheet,))
        best: _Located | None = None
        for s in order:
            loc = _locate_by_labels(sheets.grid(s), s, table)
            if loc is not None and (best is None or len(loc.rows) + len(loc.cols) > len(best.rows) + len(best.cols)):
                best = loc
            if (
                best is not None
                and len(best.rows) == len(table.leaf_rows)
                and len(best.cols) == len(table.leaf_columns)
            ):
                break
        if best is not None:
            out[table.id] = best
    return out


def read_workbook(
    path: str | os.PathLike[str],
    *,
    fmt: Format | str | int | None = None,
    year: int | None = None,
    unit: Unit | None = None,
    strict: bool = False,
    previous: Report | None = None,
) -> Result:
    """Read one filled workbook: its report and every issue found in it.

    ``fmt``, ``year`` and ``unit`` are what the caller expects (a hand-made workbook does not
    carry them; for our template a difference is reported as an issue). ``strict`` makes a
    blank input cell an error instead of a warning. ``previous`` (last year's report) enables
    the cross-year checks R6–R8.

    Raises :class:`~xls_gongkai.errors.UnreadableWorkbookError` for a file that is not a usable
    spreadsheet and :class:`~xls_gongkai.errors.TemplateMismatchError` for a spreadsheet in
    which no table of the report can be found.

    >>> result = read_workbook("城关镇.xlsx")  # doctest: +SKIP
    >>> result.report.value("t3", "new", "total"), [i.cell for i in result.errors]  # doctest: +SKIP
    """
    p = Path(path)
    container = inspect_file(p, scan_xml=False)
    sheets = _open(p, container.unpacked)
    if not sheets.names:
        raise UnreadableWorkbookError(f"{p.name}：工作簿中没有任何工作表。请重新获取原文件")
    wanted = _wanted_format(fmt)
    meta = _meta(sheets)
    meta_fmt: Format | None = None
    if meta.get("format"):
        try:
            meta_fmt = get_format(meta["format"])
        except Exception:
            meta_fmt = None
    if meta_fmt is not None:
        reading = _read_template(p, sheets, meta, meta_fmt)
    else:
        # Every format is tried (the one asked for, or the year's, first: it wins a tie), so a
        # hand-made table of the other version is recognised as such and reported, not misread.
        first = wanted or (format_for_year(year) if year is not None else None)
        candidates = list(builtin_formats())
        if first is not None:
            candidates = [first, *[f for f in candidates if f.id != first.id]]
        chosen, located = _format_by_labels(sheets, candidates)
        if not located:
            if all(_sheet_empty(sheets.grid(s)) for s in sheets.names):
                raise UnreadableWorkbookError(f"{p.name}：工作簿是空的，没有任何内容。请提交填好的报表")
            raise TemplateMismatchError(
                f"{p.name}：找不到政府信息公开工作年度报告的任何表格（表二、表三、表四），"
                "可能是其他报表。请确认文件，或用 xls-gongkai generate 生成的模板填报"
            )
        reading = _Reading(p, chosen, sheets, {}, located, True)
        _add(
            reading,
            Code.STRUCTURE_CHANGED,
            Severity.WARNING,
            f"本文件不是 xls-gongkai 生成的模板（{'可能被另存为其他格式，' if container.kind != 'xlsx' else ''}"
            f"没有模板信息），已按行列标签识别为“{chosen.name}”格式的表格，请核对读取结果",
        )
    return _finish(reading, wanted=wanted, year=year, unit=unit, strict=strict, previous=previous, kind=container.kind)


def _sheet_empty(grid: Grid) -> bool:
    return all(is_blank(v) for row in grid for v in row)


def _wanted_format(fmt: Format | str | int | None) -> Format | None:
    if fmt is None or isinstance(fmt, Format):
        return fmt
    return get_format(fmt)


def _read_template(p: Path, sheets: _Sheets, meta: Mapping[str, str], fmt: Format) -> _Reading:
    lay = layout_for(fmt)
    located: dict[str, _Located] = {}
    reading = _Reading(p, fmt, sheets, meta, located, False)
    changed: list[str] = []
    missing_tables: list[Table] = []
    for table in fmt.tables:
        tl = lay.tables[table.id]
        if tl.sheet in sheets.names and _labels_in_place(sheets.grid(tl.sheet), lay, table):
            located[table.id] = _Located(table, tl.sheet, dict(tl.rows), dict(tl.cols), False)
            continue
        candidates = [tl.sheet] if tl.sheet in sheets.names else []
        candidates += [s for s in sheets.names if s not in (tl.sheet, META_SHEET, GUIDE_SHEET)]
        loc = None
        for s in candidates:
            loc = _locate_by_labels(sheets.grid(s), s, table)
            if loc is not None:
                break
        if loc is None:
            missing_tables.append(table)
            continue
        located[table.id] = loc
        changed.append(_table_title(table))
    if changed:
        _add(
            reading,
            Code.STRUCTURE_CHANGED,
            Severity.WARNING,
            f"{'、'.join(changed)}的行或列被移动、插入或删除过（模板结构已改变），已按标签重新定位数据，请核对；"
            "今后请勿改动模板的行列",
        )
    for table in missing_tables:
        _add(
            reading,
            Code.LABEL_NOT_FOUND,
            Severity.ERROR,
            f"找不到{_table_title(table)}（工作表“{table.sheet}”被删除或改动过），该表数据未能读取",
            table=table.id,
            sheet=table.sheet,
        )
    if meta.get("fingerprint") and meta["fingerprint"] != lay.fingerprint:
        _add(
            reading,
            Code.STRUCTURE_CHANGED,
            Severity.WARNING,
            "本模板由另一版本的 xls-gongkai 生成（版式指纹不同），已逐项核对标签读取",
        )
    return reading


def _table_title(table: Table) -> str:
    return table.sheet if "、" in table.title else f"{table.sheet}{table.title}"


def _finish(
    reading: _Reading,
    *,
    wanted: Format | None,
    year: int | None,
    unit: Unit | None,
    strict: bool,
    previous: Report | None,
    kind: str,
) -> Result:
    fmt, meta, sheets = reading.fmt, reading.meta, reading.sheets
    lay = layout_for(fmt)
    # ---- year
    file_year = _int(meta.get("year", "")) if meta else None
    if file_year is None:
        file_year = _guess_year(sheets, lay)
    report_year = year or file_year
    if year is not None and file_year is not None and file_year != year:
        _add(
            reading,
            Code.YEAR_MISMATCH,
            Severity.ERROR,
            f"文件中的报告年度是 {file_year} 年，但本次收集的是 {year} 年度。请确认是否提交错了年度的报表",
            expected=str(year),
            found=str(file_year),
        )
    if report_year is None:
        report_year = fmt.year_from
        _add(
            reading,
            Code.YEAR_MISMATCH,
            Severity.WARNING,
            f"文件中没有写明报告年度，暂按 {report_year} 年处理。请用 --year 指定年度",
        )
    if wanted is not None and wanted.id != fmt.id:
        _add(
            reading,
            Code.OTHER_FORMAT,
            Severity.ERROR,
            f"本文件使用的是“{fmt.name}”格式，本次要求“{wanted.name}”格式。请改用正确格式的模板重新填报",
            expected=wanted.id,
            found=fmt.id,
        )
    elif not fmt.covers(report_year):
        right = format_for_year(report_year)
        _add(
            reading,
            Code.OTHER_FORMAT,
            Severity.ERROR,
            f"{report_year} 年度的报告应使用“{right.name}”格式（{right.years_text}），本文件使用的是“{fmt.name}”格式"
            f"（{fmt.years_text}）。请改用 {report_year} 年度的模板重新填报",
            expected=right.id,
            found=fmt.id,
        )
    # ---- unit
    file_unit = _file_unit(meta, sheets, lay)
    _check_guide(reading, lay, file_unit, file_year)
    report_unit = file_unit
    if unit is not None:
        if file_unit.code and unit.code and file_unit.code != unit.code:
            _add(
                reading,
                Code.UNIT_MISMATCH,
                Severity.ERROR,
                f"文件中的单位代码是 {file_unit.code}（{file_unit.name}），与指定的 {unit.code}（{unit.name}）不一致",
                expected=unit.code,
                found=file_unit.code,
            )
        elif file_unit.name and unit.name and normalise(file_unit.name) != normalise(unit.name):
            _add(
                reading,
                Code.UNIT_MISMATCH,
                Severity.ERROR,
                f"文件中的单位名称是“{file_unit.name}”，与指定的“{unit.name}”不一致",
                expected=unit.name,
                found=file_unit.name,
            )
        report_unit = Unit(file_unit.code or unit.code, file_unit.name or unit.name, file_unit.parent or unit.parent)
    if not report_unit.name.strip():
        _add(
            reading,
            Code.UNIT_NAME_BLANK,
            Severity.ERROR,
            "文件中没有填报单位名称。请在“填报说明”工作表填写单位名称，或用 --unit 指定",
            sheet=GUIDE_SHEET if not reading.by_labels else "",
            cell=lay.guide_unit_cells["name"].a1 if "name" in lay.guide_unit_cells and not reading.by_labels else "",
        )
    # ---- values
    fast = not reading.by_labels and all(
        t.id in reading.located and not reading.located[t.id].by_label for t in fmt.tables
    )
    plan = _plan(fmt) if fast else None
    cells_ok = False
    vals: list[Value] = []
    if plan is not None:
        values, positions, cells_ok, vals = _read_values_fast(reading, strict, plan)
    else:
        values, positions = _read_values(reading, strict)
    texts = _read_texts(reading, lay)
    report = Report(report_unit, report_year, fmt.id, values, texts, units=_int(meta.get("units", "1")) or 1)

    def locate(key: CellKey) -> tuple[str, str]:
        pos = positions.get(key)
        if pos is not None:
            return pos
        loc = reading.located.get(key[0])
        return (loc.sheet if loc else fmt.table(key[0]).sheet, "")

    if plan is None or previous is not None:
        rule_issues = check_report(report, previous=previous, locate=locate)
    elif not cells_ok or not plan.holds(vals):
        rule_issues = _failing_checks(plan, report, vals, cells_ok, locate)
    else:
        rule_issues = []
    source = str(reading.path)
    uc, un = report_unit.code, report_unit.name
    issues = [
        Issue(code=c, severity=sev, message=m, unit_code=uc, unit_name=un, file=source, **kw)
        for c, sev, m, kw in reading.issues
    ]
    issues += [replace(i, file=source) for i in rule_issues]
    unrecognised = _unrecognised(reading, lay, positions)
    per_sheet: dict[str, int] = {}
    for item in unrecognised:
        n = per_sheet[item["sheet"]] = per_sheet.get(item["sheet"], 0) + 1
        if n > MAX_UNRECOGNISED_ISSUES:
            continue
        issues.append(
            Issue(
                code=Code.UNRECOGNISED,
                severity=Severity.WARNING,
                message=f"未识别的内容：工作表“{item['sheet']}”单元格 {item['cell']} 填有“{item['text']}”，"
                "不在任何填报单元格内，未读入。如是数据，请填到对应的单元格",
                unit_code=report_unit.code,
                unit_name=report_unit.name,
                file=str(reading.path),
                sheet=item["sheet"],
                cell=item["cell"],
                found=item["text"],
            )
        )
    for sheet, n in per_sheet.items():
        if n > MAX_UNRECOGNISED_ISSUES:
            # A sheet full of other content: the first ones named, the rest counted (all are
            # kept in extra["unrecognised"], up to MAX_UNRECOGNISED_KEPT).
            issues.append(
                Issue(
                    code=Code.UNRECOGNISED,
                    severity=Severity.WARNING,
                    message=f"未识别的内容：工作表“{sheet}”中另有 {n - MAX_UNRECOGNISED_ISSUES} 个单元格填有内容，"
                    "不在任何填报单元格内，未读入（上面只列出前 "
                    f"{MAX_UNRECOGNISED_ISSUES} 个）。请确认是否填错了位置",
                    unit_code=report_unit.code,
                    unit_name=report_unit.name,
                    file=str(reading.path),
                    sheet=sheet,
                    found=str(n - MAX_UNRECOGNISED_ISSUES),
                )
            )
    unrecognised = unrecognised[:MAX_UNRECOGNISED_KEPT]
    extra: dict[str, Any] = {
        "format": fmt.id,
        "container": kind,
        "located_by": "labels" if reading.by_labels else "template",
        "meta": dict(meta),
        "unrecognised": unrecognised,
        "cells": TemplateCells(fmt)
        if plan is not None
        else {"|".join(k): f"{s}!{c}" for k, (s, c) in positions.items()},
    }
    return Result(report=report, issues=issues, source=str(reading.path), extra=extra)


def _guess_year(sheets: _Sheets, lay: Layout) -> int | None:
    if GUIDE_SHEET in sheets.names:
        pos = lay.guide_unit_cells.get("year")
        if pos is not None:
            v = _int(cell_text(_at(sheets.grid(GUIDE_SHEET), pos.row, pos.col)).replace("年", ""))
            if v is not None and 2000 <= v <= 2100:
                return v
    # A title such as "城关镇2024年政府信息公开工作年度报告" in the first rows of any sheet.
    m = _title_match(sheets, _YEAR)
    return int(m.group(1)) if m else None


def _title_match(sheets: _Sheets, pattern: re.Pattern[str]) -> re.Match[str] | None:
    """The first match of ``pattern`` in the text of the first rows of any visible sheet."""
    for name in sheets.names:
        if name == META_SHEET:
            continue
        for row in sheets.grid(name)[:6]:
            for v in row:
                if isinstance(v, str):
                    m = pattern.search(v)
                    if m:
                        return m
    return None


_UNIT_IN_TITLE = re.compile(r"^\s*(\S{2,40}?)\s*(?:20\d\d)\s*年(?:度)?\s*政府信息公开")


def _unit_from_title(sheets: _Sheets) -> str:
    """``城关镇`` from a hand-made workbook's title ``城关镇2024年政府信息公开工作年度报告``."""
    m = _title_match(sheets, _UNIT_IN_TITLE)
    return m.group(1) if m else ""


def _check_guide(reading: _Reading, lay: Layout, unit: Unit, year: int | None) -> None:
    """填报说明 shows the unit and year the template was made for, locked. A clerk who lifted the
    protection and typed over them leaves a workbook that says two things: the template's own
    record (_meta) is read, and the difference is named."""
    if reading.by_labels or not reading.meta or GUIDE_SHEET not in reading.sheets.names:
        return
    grid = reading.sheets.grid(GUIDE_SHEET)
    recorded = {"name": unit.name, "code": unit.code, "year": str(year) if year is not None else ""}
    for key, label, code in (
        ("name", "填报单位", Code.UNIT_MISMATCH),
        ("code", "单位代码", Code.UNIT_MISMATCH),
        ("year", "报告年度", Code.YEAR_MISMATCH),
    ):
        pos = lay.guide_unit_cells.get(key)
        if pos is None:
            continue
        shown = cell_text(_at(grid, pos.row, pos.col)).strip()
        # (the same text is the common case: normalising costs a few regex passes)
        if shown and recorded[key] and shown != recorded[key] and normalise(shown) != normalise(recorded[key]):
            _add(
                reading,
                code,
                Severity.WARNING,
                f"“{GUIDE_SHEET}”中的{label}被改成了“{shown}”，模板记录的是“{recorded[key]}”，已按模板记录读取。"
                "请核对；确需更改的，请向发放模板的单位索取新模板",
                sheet=GUIDE_SHEET,
                cell=pos.a1,
                cells=(pos.a1,),
                expected=recorded[key],
                found=shown,
            )


def _file_unit(meta: Mapping[str, str], sheets: _Sheets, lay: Layout) -> Unit:
    code, name, parent = meta.get("unit_code", ""), meta.get("unit_name", ""), meta.get("unit_parent", "")
    if not meta and GUIDE_SHEET not in sheets.names:
        name = _unit_from_title(sheets)
    if GUIDE_SHEET in sheets.names and (not name or not code):
        grid = sheets.grid(GUIDE_SHEET)
        npos, cpos = lay.guide_unit_cells.get("name"), lay.guide_unit_cells.get("code")
        if not name and npos is not None:
            name = cell_text(_at(grid, npos.row, npos.col)).strip()
        if not code and cpos is not None:
            code = cell_text(_at(grid, cpos.row, cpos.col)).strip()
    return Unit(code, name, parent)


Term = tuple[int, CellKey]


@dataclass(frozen=True)
class _Plan:
    """Per format, everything the fast path needs, worked out once (tuples of plain values)."""

    #: every cell of the format; the fast path keeps values in a list in this order
    keys: tuple[CellKey, ...]
    #: per sheet, per sheet row: the input cells of that row as (column, index in keys, kind code)
    rows: tuple[tuple[str, tuple[tuple[int, tuple[tuple[int, int, int], ...]], ...]], ...]
    inputs: Mapping[CellKey, tuple[str, int, int, CellKind, str]]
    kinds: Mapping[CellKey, CellKind]
    positions: Mapping[CellKey, tuple[str, str]]
    cells: Mapping[str, str]
    #: ``sums(vals)`` sets every computed total of the list; ``holds(vals)`` tells whether
    #: every equation that is not a total holds (see :func:`_compile`)
    sums: Callable[[list[Value]], None]
    holds: Callable[[list[Value]], bool]
    #: per sheet, the total cells to compare with what the file shows: (row, column, index)
    shown_totals: tuple[tuple[str, tuple[tuple[int, int, int], ...]], ...]
    #: the checks that can fail within one report, in check order: an equation with its
    #: one-level terms as (sign, index in keys), or an R5 cell check (None, None); totals' own
    #: checks always hold here
    checks: tuple[tuple[Check, tuple[tuple[int, int], ...] | None, tuple[tuple[int, int], ...] | None], ...]


def _compile(
    name: str,
    totals: Sequence[tuple[int, Sequence[tuple[int, int]]]],
    equations: Sequence[tuple[Sequence[tuple[int, int]], Sequence[tuple[int, int]]]],
) -> tuple[Callable[[list[Value]], None], Callable[[list[Value]], bool]]:
    """The totals and equations of a format as two straight-line functions over a list of values.

    ``totals`` are (index, terms) in dependency order, terms (sign, index). Generated code with
    list indexes, not a loop over dict lookups: a tuple key is hashed anew at every lookup,
    and the 400 lookups of a workbook were a tenth of the reader's own time (measured). The
    source holds only integers worked out from the format, nothing read from a file.
    """

    def expr(terms: Sequence[tuple[int, int]]) -> str:
        out = ""
        for sign, i in terms:
            term = f"v[{i}]" if abs(sign) == 1 else f"{abs(sign)} * v[{i}]"
            out += (" - " if sign < 0 else " + ") + term if out else ("-" if sign < 0 else "") + term
        return out or "0"

    lines = ["def sums(v):"]
    lines += [f"    v[{i}] = {expr(terms)}" for i, terms in totals]
    lines += ["    return None", "", "def holds(v):"]
    lines += [f"    if {expr(lhs)} != {expr(rhs)}:\n        return False" for lhs, rhs in equations]
    lines += ["    return True", ""]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), f"<xls-gongkai checks of {name}>", "exec"), namespace)
    return namespace["sums"], namespace["holds"]


# Kind codes for the tight loop (an int compare is cheaper than an enum attribute lookup).
_K_COUNT, _K_SIGNED, _K_OTHER = 0, 1, 2


class TemplateCells(Mapping[str, str]):
    """``"t|r|c"`` → ``"sheet!A1"`` for a workbook read at the template's own positions.

    Every such workbook has the same map, so results share one and a result sent back from a
    worker process carries only the format (pickling 200 addresses per file cost more than
    reading the file's values).
    """

    __slots__ = ("_fmt",)

    def __init__(self, fmt: Format) -> None:
        self._fmt = fmt

    @property
    def _cells(self) -> Mapping[str, str]:
        return _plan(self._fmt).cells

    def __getitem__(self, key: str) -> str:
        return self._cells[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cells)

    def __len__(self) -> int:
        return len(self._cells)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # A built-in format travels by id; a local variant by the path of its YAML file.
        builtin = _builtin(self._fmt)
        return (_template_cells, (self._fmt.id if builtin or not self._fmt.source else self._fmt.source,))

    def __repr__(self) -> str:
        return f"TemplateCells({self._fmt.id!r})"


def _builtin(fmt: Format) -> bool:
    """Whether ``fmt`` is the built-in format of its id (not a local variant of it)."""
    try:
        return get_format(fmt.id) is fmt
    except Exception:
        return False


def _template_cells(name: str) -> TemplateCells:
    return TemplateCells(get_format(name))


def _flat(fmt: Format, side: Iterable[tuple[int, bool, str, str, str]]) -> tuple[Term, ...]:
    out: list[Term] = []
    for sign, _prev, t, r, c in side:
        table = fmt.table(t)
        for rn in table.row_nodes[r].leaves():
            for cn in table.column_nodes[c].leaves():
                out.append((sign, (t, rn.id, cn.id)))
    return tuple(out)


@cache
def _plan(fmt: Format) -> _Plan:
    from xls_gongkai.rules import expand
    from xls_gongkai.spec import RuleKind

    lay = layout_for(fmt)
    computed = computed_cells(fmt)
    order: list[CellKey] = []
    seen: set[CellKey] = set()

    def visit(key: CellKey) -> None:
        # Totals that sum other totals (（七）总计 × 总计) come after the ones they use.
        if key in seen:
            return
        seen.add(key)
        for _s, dep in _flat(fmt, computed[key].rhs):
            if dep in computed:
                visit(dep)
        order.append(key)

    for key in computed:
        visit(key)
    # The built-in format's shared key tuple: a Report read in full then pickles by position.
    shared = cell_order(fmt.id) if _builtin(fmt) else None
    keys = shared if shared is not None else tuple(fmt.cells())
    index = {k: i for i, k in enumerate(keys)}
    by_sheet: dict[str, dict[int, list[tuple[int, int, int]]]] = {}
    inputs: dict[CellKey, tuple[str, int, int, CellKind, str]] = {}
    kinds: dict[CellKey, CellKind] = {}
    positions: dict[CellKey, tuple[str, str]] = {}
    where: dict[CellKey, tuple[str, int, int]] = {}
    for table in fmt.tables:
        tl = lay.tables[table.id]
        for r, c in table.cells():
            key = (table.id, r, c)
            pos = tl.pos(r, c)
            positions[key] = (pos.sheet, pos.a1)
            where[key] = (pos.sheet, pos.row, pos.col)
            kind = kinds[key] = table.cell_kind(r, c)
            if key in computed:
                continue
            inputs[key] = (pos.sheet, pos.row, pos.col, kind, table.unit(r, c))
            code = _K_COUNT if kind is CellKind.COUNT else _K_SIGNED if kind is CellKind.SIGNED else _K_OTHER
            by_sheet.setdefault(pos.sheet, {}).setdefault(pos.row, []).append((pos.col, index[key], code))

    def indexed(terms: Iterable[Term]) -> tuple[tuple[int, int], ...]:
        return tuple((sign, index[k]) for sign, k in terms)

    totals = tuple((key, *where[key], _flat(fmt, computed[key].rhs)) for key in order)
    checks = tuple(
        (ch, None, None)
        if ch.rule.kind is RuleKind.CELLS
        else (ch, indexed(_flat(fmt, ch.lhs)), indexed(_flat(fmt, ch.rhs)))
        for ch in expand(fmt)
        if ch.rule.kind is RuleKind.CELLS or (ch.rule.kind is RuleKind.EQUATION and not ch.rule.computes)
    )
    equations = [(lhs, rhs) for _ch, lhs, rhs in checks if lhs is not None and rhs is not None]
    sums, holds = _compile(fmt.id, [(index[key], indexed(terms)) for key, _s, _r, _c, terms in totals], equations)
    shown: dict[str, list[tuple[int, int, int]]] = {}
    for key, t_sheet, t_row, t_col, _terms in totals:
        shown.setdefault(t_sheet, []).append((t_row, t_col, index[key]))
    return _Plan(
        keys,
        tuple(
            (sheet, tuple((r, tuple(cells)) for r, cells in sorted(rows.items()))) for sheet, rows in by_sheet.items()
        ),
        inputs,
        kinds,
        positions,
        {"|".join(k): f"{s}!{c}" for k, (s, c) in positions.items()},
        sums,
        holds,
        tuple((sheet, tuple(cells)) for sheet, cells in shown.items()),
        checks,
    )


def _failing_checks(plan: _Plan, report: Report, vals: Sequence[Value], cells_ok: bool, locate: Locator) -> list[Issue]:
    """The rule issues of a workbook read at the template's positions, without the rules engine.

    What :func:`check_report` gives (same issues, same order), from the plan's flat terms:
    only the failing checks are turned into issues. One workbook in ten of a real batch has
    some; the engine took 0.4 ms on each.
    """
    out: list[Issue] = []
    for check, lhs, rhs in plan.checks:
        if lhs is None or rhs is None:
            if cells_ok:
                continue
            outcome = evaluate(check, report)
            if outcome.passed:
                continue
        else:
            left: Value = 0
            for sign, i in lhs:
                left += sign * vals[i]
            right: Value = 0
            for sign, i in rhs:
                right += sign * vals[i]
            if left == right:
                continue
            outcome = Outcome(check, False, left, right)
        out.extend(outcome_issues(outcome, report, locate))
    return out


def _cell_ok(kind: CellKind, v: Value) -> bool:
    """R5 for one value: whole and non-negative counts, whole signed counts, non-negative amounts."""
    if kind is CellKind.TEXT:
        return True
    if type(v) is not int:
        return kind is CellKind.AMOUNT and v >= 0
    return v >= 0 or kind is CellKind.SIGNED


def _read_values_fast(
    reading: _Reading, strict: bool, plan: _Plan
) -> tuple[dict[CellKey, Value], Mapping[CellKey, tuple[str, str]], bool, list[Value]]:
    """The template's own layout, untouched: read every cell straight from its position.

    Returns the values (totals recomputed), their positions, whether every value obeys its
    kind (R5) — known here for free, so the rules engine is only needed when something fails —
    and the values as a list in ``plan.keys`` order (a blank cell 0) for the plan's checks.
    """
    fmt, sheets, keys = reading.fmt, reading.sheets, plan.keys
    vals: list[Value] = [0] * len(keys)  # a blank cell counts 0 in the sums and checks
    odd: list[tuple[int, Any]] = []
    cells_ok = True
    for sheet, rows in plan.rows:
        grid = sheets.grid(sheet)
        height = len(grid)
        for r, cols in rows:
            line = grid[r] if r < height else ()
            width = len(line)
            for c, i, code in cols:
                raw = line[c] if c < width else ""
                # Numbers typed as numbers are almost every cell: take them without the parser.
                if code != _K_OTHER and type(raw) is float and raw.is_integer():
                    iv = int(raw)
                    vals[i] = iv
                    if iv < 0 and code == _K_COUNT:
                        cells_ok = False
                else:
                    odd.append((i, raw))
    blank: list[int] = []
    if odd:
        cells_ok = _odd_values(reading, strict, plan, odd, vals, blank) and cells_ok
    plan.sums(vals)
    for sheet, cells in plan.shown_totals:
        grid = sheets.grid(sheet)
        height = len(grid)
        for r, c, i in cells:
            line = grid[r] if r < height else ()
            raw = line[c] if c < len(line) else ""
            total = vals[i]
            if raw == "" or raw is None or (type(raw) is float and raw == total):
                continue
            # Text typed over a total ("见附表") is lost from the total: say so, like a wrong number.
            typed = parse_cell(raw, plan.kinds[keys[i]]).value
            if typed != total and not is_blank(raw):
                _total_issue(reading, fmt, keys[i], total, cell_text(raw), sheet, a1(r, c))
    values = dict(zip(keys, vals, strict=True))
    for i in blank:
        del values[keys[i]]  # not filled in: absent from the report, reported as missing
    return values, plan.positions, cells_ok, vals


def _odd_values(
    reading: _Reading, strict: bool, plan: _Plan, odd: Sequence[tuple[int, Any]], vals: list[Value], blank: list[int]
) -> bool:
    ok = True
    for i, raw in odd:
        key = plan.keys[i]
        sheet, r, c, kind, unit = plan.inputs[key]
        parsed = parse_cell(raw, kind, unit)
        if parsed.value is not None:
            vals[i] = parsed.value
            ok = ok and _cell_ok(kind, parsed.value)
        else:
            blank.append(i)
        if parsed.code:
            table = reading.fmt.table(key[0])
            _value_issue(reading, strict, table, key[1], table.column_nodes[key[2]], sheet, a1(r, c), kind, raw, parsed)
    return ok


def _value_issue(
    reading: _Reading,
    strict: bool,
    table: Table,
    rid: str,
    cnode: Node,
    sheet: str,
    cell: str,
    kind: CellKind,
    raw: Any,
    parsed: Any,
) -> None:
    rnode = table.row_nodes[rid]
    common: dict[str, Any] = {
        "sheet": sheet,
        "cell": cell,
        "cells": (cell,),
        "table": table.id,
        "row": rid,
        "column": cnode.id,
        "row_label": rnode.path_text,
        "column_label": cnode.path_text,
    }
    where_text = f"{_table_title(table)}{_where_text(table, rnode, cnode)}（{cell}）"
    if parsed.code == Code.MISSING:
        _add(
            reading,
            Code.MISSING,
            Severity.ERROR if strict else Severity.WARNING,
            f"{where_text}未填写。没有发生的请填 0",
            expected=kind.label,
            **common,
        )
        return
    severity = parsed.severity or Severity.WARNING
    tail = "，请改为只填数字" if severity is Severity.WARNING else ""
    _add(
        reading,
        parsed.code,
        severity,
        f"{where_text}：{parsed.note}{tail}",
        expected=kind.label,
        found=cell_text(raw),
        **common,
    )


def _where_text(table: Table, rnode: Node, cnode: Node) -> str:
    """“行”“列” in words; the column by its path where its label repeats (表四's three 总计)."""
    same = sum(1 for c in table.leaf_columns if c.label == cnode.label)
    column = cnode.path_text if same > 1 else cnode.label
    row = f"“{rnode.path_text}”行" if rnode.path_text else ""
    return f"{row}“{column}”列"


def _total_issue(
    reading: _Reading, fmt: Format, key: CellKey, recomputed: Value, raw_text: str, sheet: str, cell: str
) -> None:
    table = fmt.table(key[0])
    rnode, cnode = table.row_nodes[key[1]], table.column_nodes[key[2]]
    _add(
        reading,
        Code.TOTAL_OVERWRITTEN,
        Severity.ERROR,
        f"{_table_title(table)}{_where_text(table, rnode, cnode)}（{cell}）是合计，"
        f"按明细应为 {format_number(recomputed)}，表中填的是 {raw_text}。"
        "合计由公式自动计算，请核对明细数字，不要手工改写合计",
        sheet=sheet,
        cell=cell,
        cells=(cell,),
        table=key[0],
        row=key[1],
        column=key[2],
        row_label=rnode.path_text,
        column_label=cnode.path_text,
        expected=format_number(recomputed),
        found=raw_text,
    )


def _totals_with_groups(
    fmt: Format, inputs: Mapping[CellKey, Value], group_rows: Sequence[tuple[Table, Node]]
) -> dict[CellKey, Value]:
    """Computed totals when a group was printed as one row (its sub-rows are unknown).

    The group's own value stands in for its sub-rows in every sum, and the totals of the
    unknown sub-rows are left out rather than set to a made-up 0.
    """
    computed = computed_cells(fmt)
    hidden = {(t.id, leaf.id) for t, node in group_rows for leaf in node.leaves()}
    out: dict[CellKey, Value] = dict(inputs)
    memo: dict[CellKey, Value] = {}

    def cell(t: str, r: str, c: str) -> Value:
        if (t, r, c) in out and (t, r, c) not in computed:
            return out[(t, r, c)]
        table = fmt.table(t)
        rnode, cnode = table.row_nodes[r], table.column_nodes[c]
        if not rnode.is_leaf:
            return sum((cell(t, ch.id, c) for ch in rnode.children), start=0)
        if not cnode.is_leaf:
            return sum((cell(t, r, ch.id) for ch in cnode.children), start=0)
        key = (t, r, c)
        if key in computed:
            if key not in memo:
                memo[key] = sum((sign * cell(tt, rr, cc) for sign, _p, tt, rr, cc in computed[key].rhs), start=0)
            return memo[key]
        return out.get(key, 0)

    for key in computed:
        if (key[0], key[1]) in hidden:
            continue
        out[key] = cell(*key)
    return out


def _read_values(reading: _Reading, strict: bool) -> tuple[dict[CellKey, Value], dict[CellKey, tuple[str, str]]]:
    fmt, sheets = reading.fmt, reading.sheets
    computed = computed_cells(fmt)
    inputs: dict[CellKey, Value] = {}
    typed_totals: dict[CellKey, tuple[Value | None, str, str, str]] = {}
    positions: dict[CellKey, tuple[str, str]] = {}
    group_rows: list[tuple[Table, Node]] = []
    for table in fmt.tables:
        loc = reading.located.get(table.id)
        if loc is None:
            continue
        grid = sheets.grid(loc.sheet)
        # A group printed as one row (2021's （六）其他处理 as in 2019): its value is kept on the
        # group; its sub-rows are unknown, not zero.
        row_ids = [r.id for r in table.leaf_rows]
        for rid in loc.rows:
            node = table.row_nodes[rid]
            if not node.is_leaf and not any(leaf.id in loc.rows for leaf in node.leaves()):
                group_rows.append((table, node))
                row_ids = [x for x in row_ids if x not in {leaf.id for leaf in node.leaves()}]
                row_ids.append(rid)
        for rnode in table.leaf_rows:
            if rnode.id not in loc.rows and rnode.id in row_ids:
                _add(
                    reading,
                    Code.LABEL_NOT_FOUND,
                    Severity.ERROR,
                    f"{_table_title(table)}中找不到“{rnode.path_text or '数据'}”这一行，该行数据未能读取",
                    table=table.id,
                    row=rnode.id,
                    row_label=rnode.path_text,
                    sheet=loc.sheet,
                )
        for cnode in table.leaf_columns:
            if cnode.id not in loc.cols:
                _add(
                    reading,
                    Code.LABEL_NOT_FOUND,
                    Severity.ERROR,
                    f"{_table_title(table)}中找不到“{cnode.path_text}”这一列，该列数据未能读取",
                    table=table.id,
                    column=cnode.id,
                    column_label=cnode.path_text,
                    sheet=loc.sheet,
                )
        for rid in row_ids:
            rnode = table.row_nodes[rid]
            for cnode in table.leaf_columns:
                key = (table.id, rid, cnode.id)
                where = loc.pos(rid, cnode.id)
                if where is None:
                    continue
                r, c = where
                cell = a1(r, c)
                positions[key] = (loc.sheet, cell)
                kind = (
                    table.cell_kind(rid, cnode.id) if rnode.is_leaf else table.cell_kind(rnode.leaves()[0].id, cnode.id)
                )
                raw = _at(grid, r, c)
                unit = table.unit(rnode.leaves()[0].id, cnode.id)
                parsed = parse_cell(raw, kind, unit)
                if key in computed:
                    if not parsed.blank:
                        typed_totals[key] = (parsed.value, cell_text(raw), loc.sheet, cell)
                    continue
                if parsed.value is not None:
                    inputs[key] = parsed.value
                if parsed.code:
                    _value_issue(reading, strict, table, rid, cnode, loc.sheet, cell, kind, raw, parsed)
    values = _totals_with_groups(fmt, inputs, group_rows) if group_rows else with_totals(fmt, inputs)
    # Totals that depend on cells we could not read at all stay unknown rather than wrong.
    for key, (typed, raw_text, sheet, cell) in typed_totals.items():
        recomputed = values.get(key, 0)
        if typed != recomputed:
            _total_issue(reading, fmt, key, recomputed, raw_text, sheet, cell)
    for table, node in group_rows:
        _add(
            reading,
            Code.STRUCTURE_CHANGED,
            Severity.WARNING,
            f"{_table_title(table)}“{node.label}”按一行填报，其下各分项（"
            f"{'、'.join(leaf.label for leaf in node.leaves())}）的数字未知，汇总时只能使用合计数",
            table=table.id,
            row=node.id,
            row_label=node.path_text,
        )
    return values, positions


def _read_texts(reading: _Reading, lay: Layout) -> dict[str, str]:
    texts: dict[str, str] = {}
    if reading.by_labels or TEXT_SHEET not in reading.sheets.names:
        return texts
    grid = reading.sheets.grid(TEXT_SHEET)
    for sid, tlay in lay.texts.items():
        text = cell_text(_at(grid, tlay.cell.row, tlay.cell.col)).strip()
        if text:
            texts[sid] = text
        else:
            _add(
                reading,
                Code.TEXT_MISSING,
                Severity.WARNING,
                f"文字说明“{tlay.section.label}”未填写",
                sheet=TEXT_SHEET,
                cell=tlay.cell.a1,
                cells=(tlay.cell.a1,),
            )
    return texts


def _known_cells(lay: Layout) -> dict[str, set[tuple[int, int]]]:
    known: dict[str, set[tuple[int, int]]] = {}
    for tl in lay.tables.values():
        cells = known.setdefault(tl.sheet, set())
        for label in tl.labels:
            for r in range(label.first_row, label.last_row + 1):
                for c in range(label.first_col, label.last_col + 1):
                    cells.add((r, c))
        for pos in tl.checks.values():
            cells.add((pos.row, pos.col))
        for r in tl.rows.values():
            for c in tl.cols.values():
                cells.add((r, c))
    for tlay in lay.texts.values():
        cells = known.setdefault(TEXT_SHEET, set())
        for text_pos in (tlay.label, tlay.prompt, tlay.cell):
            if text_pos is not None:
                cells.add((text_pos.row, text_pos.col))
    return known


_KNOWN_CACHE: dict[str, tuple[dict[str, set[tuple[int, int]]], frozenset[str]]] = {}


def _known(lay: Layout) -> tuple[dict[str, set[tuple[int, int]]], frozenset[str]]:
    got = _KNOWN_CACHE.get(lay.format.id)
    if got is None:
        texts = {normalise(lb.text) for tl in lay.tables.values() for lb in tl.labels}
        texts |= {normalise(t) for t in lay.sheet_titles.values()}
        texts |= {normalise(t.section.label) for t in lay.texts.values()}
        got = (_known_cells(lay), frozenset(texts))
        _KNOWN_CACHE[lay.format.id] = got
    return got


@cache
def _blank_rows(lay: Layout, sheet: str, first: int) -> tuple[int, tuple[tuple[int, Any, Any], ...]]:
    """For the template's rows of ``sheet`` from ``first`` on: what should be blank in each.

    Returns the template's width there and, per row, a getter of the row's unknown cells left
    of that width with the value it gives when they are all empty (no getter: the row has no
    unknown cells). One getter call compares a whole row at C speed.
    """
    known = _known(lay)[0].get(sheet, set())
    if not known:
        return 0, ()
    width = max(c for _r, c in known) + 1
    out: list[tuple[int, Any, Any]] = []
    for r in range(first, max(r for r, _c in known) + 1):
        unknown = [c for c in range(width) if (r, c) not in known]
        # itemgetter of one index gives the value itself, of several a tuple
        blank = ("",) * len(unknown) if len(unknown) > 1 else ""
        out.append((r, itemgetter(*unknown) if unknown else None, blank))
    return width, tuple(out)


def _rows_to_scan(grid: Grid, lay: Layout, sheet: str, first: int) -> Iterable[int]:
    """The rows of a template sheet (rows not moved) that may hold something unrecognised."""
    width, spec = _blank_rows(lay, sheet, first)
    height = len(grid)
    full = len(grid[0]) if grid else 0
    if not spec or full < width or spec[-1][0] >= height:
        return range(first, height)  # not the template's shape: every row, cell by cell
    rows = [r for r, get, blank in spec if get is not None and get(grid[r]) != blank]
    after = spec[-1][0] + 1
    if full > width:  # columns right of the template
        rows += [r for r in range(first, after) if grid[r][width:].count("") != full - width]
    return sorted({*rows, *range(after, height)})


#: Columns of 填报说明 that generate writes (labels in A, values and text in B).
_GUIDE_WIDTH = 2


def _unrecognised(reading: _Reading, lay: Layout, positions: Mapping[CellKey, tuple[str, str]]) -> list[dict[str, str]]:
    """Non-empty cells outside every known cell (kept, reported as 未识别的内容)."""
    known, label_texts = _known(lay)
    out: list[dict[str, str]] = []
    if not reading.by_labels:
        # A table found on a renamed sheet makes that sheet a data sheet (scanned as moved).
        found_on = [loc.sheet for loc in reading.located.values() if loc.sheet not in lay.data_sheets]
        sheets = [s for s in dict.fromkeys((*lay.data_sheets, *found_on, TEXT_SHEET)) if s in reading.sheets.names]
        top = {TEXT_SHEET: min((t.label.row for t in lay.texts.values()), default=0)}
        value_cells: set[tuple[str, str]] | None = None
        for sheet in sheets:
            grid = reading.sheets.grid(sheet)
            moved = any(loc.by_label and loc.sheet == sheet for loc in reading.located.values())
            if moved and value_cells is None:
                value_cells = set(positions.values())
            cells = known.get(sheet, set())
            first = top.get(sheet, FIRST_TABLE_ROW)
            # The common case, nothing outside the known cells: one comparison a row finds the
            # rows worth a look cell by cell.
            scan = range(first, len(grid)) if moved else _rows_to_scan(grid, lay, sheet, first)
            for r in scan:
                line = grid[r]
                for c, v in enumerate(line):
                    # Tight loop over every cell of every sheet: the cheap tests come first.
                    if v == "" or v is None or (not moved and (r, c) in cells) or is_blank(v):
                        continue
                    ref = a1(r, c)
                    # Once rows or columns moved, the template's positions mean nothing here:
                    # what is known is a located value, a label text or a check result.
                    if (
                        moved
                        and value_cells is not None
                        and ((sheet, ref) in value_cells or _is_decoration(v, label_texts))
                    ):
                        continue
                    out.append({"sheet": sheet, "cell": ref, "text": cell_text(v)})
        # 填报说明 holds what generate wrote, in columns A and B; anything right of them was
        # typed by someone.
        if GUIDE_SHEET in reading.sheets.names:
            for r, line in enumerate(reading.sheets.grid(GUIDE_SHEET)):
                if len(line) <= _GUIDE_WIDTH or line.count("") == len(line) - _GUIDE_WIDTH:
                    continue
                for c in range(_GUIDE_WIDTH, len(line)):
                    if not is_blank(line[c]):
                        out.append({"sheet": GUIDE_SHEET, "cell": a1(r, c), "text": cell_text(line[c])})
        # Any other sheet the clerk added is content too (not the ones our own annotated copies
        # and summaries carry: the issue list, merge's detail sheets).
        ours = reading.meta.get("kind", "template") != "template"
        extra_sheets = [
            s for s in reading.sheets.names if s not in (*lay.sheets, *found_on, META_SHEET, "问题清单") and not ours
        ]
        for sheet in extra_sheets:
            for r, row in enumerate(reading.sheets.grid(sheet)):
                for c, v in enumerate(row):
                    if not is_blank(v):
                        out.append({"sheet": sheet, "cell": a1(r, c), "text": cell_text(v)})
        return out
    # A hand-made workbook: only the tables' own rows are looked at (titles and notes around
    # them are the unit's own decoration).
    value_cells = set(positions.values())
    for loc in reading.located.values():
        grid = reading.sheets.grid(loc.sheet)
        first, last, _c0, c1 = loc.region
        for r in range(first, last + 1):
            for c, v in enumerate(grid[r] if r < len(grid) else []):
                if c <= 0 or is_blank(v) or (loc.sheet, a1(r, c)) in value_cells:
                    continue
                if c <= c1 and (not _is_numberish(v)):
                    continue  # a label (header or stub), matched or not
                if _is_decoration(v, label_texts):
                    continue
                out.append({"sheet": loc.sheet, "cell": a1(r, c), "text": cell_text(v)})
    return out


def _is_decoration(v: Any, label_texts: frozenset[str]) -> bool:
    if not isinstance(v, str):
        return False
    t = v.strip()
    return t.startswith(_CHECK_MARKS) or normalise(t) in label_texts or t.startswith("共 ")


# --------------------------------------------------------------------------- batches


def _read_safely(path: str, kwargs: Mapping[str, Any]) -> Result:
    try:
        return read_workbook(path, **kwargs)
    except (WorkbookError, UsageError) as exc:
        return _unreadable(path, str(exc))
    except BaseException as exc:  # one bad file must never stop a batch
        if _interrupt(exc):
            raise
        return _unreadable(
            path,
            f"{Path(path).name}：读取时发生意外错误（{type(exc).__name__}），文件可能已损坏。"
            "请用 Excel 或 WPS 打开后另存为 .xlsx 再提交",
        )


def _unreadable(path: str, message: str) -> Result:
    return Result(
        report=None,
        issues=[Issue(code=Code.FILE_UNREADABLE, severity=Severity.ERROR, message=message, file=path)],
        source=path,
    )


def _worker_start() -> None:
    """The start of a batch's worker process: bounded memory (:func:`confine`), quiet stderr.

    A parser that aborts prints its panic and a fault handler its dump on stderr; the batch
    reports that file in Chinese instead (:func:`xls_gongkai.batch.parallel.crashed`).
    """
    confine()
    import faulthandler
    import sys

    faulthandler.disable()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    # Fresh stream objects: a worker forked while the parent's progress-bar thread was writing
    # would otherwise inherit stdout's or stderr's lock held, and hang on its first warning.
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the worker


def _read_kept(keep: Callable[[Result], Result], path: str, kwargs: Mapping[str, Any]) -> Result:
    return keep(_read_safely(path, kwargs))


def read_many(
    paths: Iterable[str | os.PathLike[str]],
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep: Callable[[Result], Result] | None = None,
    **kw: Any,
) -> list[Result]:
    """Read many workbooks, in parallel on all cores, results in the order of ``paths``.

    Never raises for one bad file: it becomes ``Result(report=None, issues=[file-unreadable])``.
    ``jobs`` is the number of worker processes (default: all cores). Where the system can bound
    a process's memory (Linux), the files are always read in worker processes so bounded, even
    with ``jobs`` 1 (see :func:`xls_gongkai.reading.safety.confine`): a file that crashes the parser
    costs one worker and is reported; elsewhere ``jobs`` 1 reads in this process.
    ``progress(done, total)`` is called as files finish. ``keep`` (a module-level function) is
    applied to each result in the worker, to send back only what the caller needs. Other
    keywords go to :func:`read_workbook`.
    """
    func = _read_safely if keep is None else partial(_read_kept, keep)
    sandbox = _worker_start if confinable() else None
    items = [str(p) for p in paths]
    return map_files(func, items, dict(kw), on_crash=crashed, jobs=jobs, progress=progress, sandbox=sandbox)
