"""A workbook's sheets as grids of raw values (python-calamine), loaded when first looked at.

python-calamine's Rust parser panics on some damaged files; pyo3 raises that as
``PanicException``, a ``BaseException`` that ``except Exception`` lets through. Every call into
the parser is therefore guarded here, so that one damaged file becomes one Chinese line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xls_gongkai.errors import UnreadableWorkbookError
from xls_gongkai.parsing.values import cell_text
from xls_gongkai.reading.safety import explain_failure
from xls_gongkai.workbook.layout import META_SHEET

__all__ = ["META_MARK", "Grid", "Sheets", "interrupt", "open_book"]

#: The first cell of the ``_meta`` sheet our writer makes.
META_MARK = "xls_gongkai_meta"
Grid = list[list[Any]]
RESAVE = "请用 Excel 或 WPS 打开后另存为 .xlsx 再提交"


def interrupt(exc: BaseException) -> bool:
    """Whether an exception must propagate (Ctrl-C, exit), unlike a parser's crash."""
    return isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit)


@dataclass
class Sheets:
    """The workbook's sheets as grids (rows of raw values), each read on first use."""

    book: Any
    path: Path
    names: list[str]
    cache: dict[str, Grid] = field(default_factory=dict)

    def grid(self, name: str) -> Grid:
        if name not in self.cache:
            try:
                self.cache[name] = self.book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except BaseException as exc:
                if interrupt(exc):
                    raise
                explain_failure(self.path)
                raise UnreadableWorkbookError(
                    f"{self.path.name}：工作表“{name}”无法读取（文件可能已损坏）。{RESAVE}"
                ) from exc
        return self.cache[name]

    def data_sheets(self) -> list[str]:
        """The sheets a table may be on (not ``_meta``)."""
        return [s for s in self.names if s != META_SHEET]

    def meta(self) -> dict[str, str]:
        """The ``_meta`` sheet our writer makes, as key → text (empty when there is none)."""
        if META_SHEET not in self.names:
            return {}
        grid = self.grid(META_SHEET)
        if not grid or not grid[0] or cell_text(grid[0][0]) != META_MARK:
            return {}
        out: dict[str, str] = {}
        for row in grid[1:]:
            if row and isinstance(row[0], str) and row[0]:
                out[row[0]] = cell_text(row[1] if len(row) > 1 else "")
        return out


def open_book(path: Path, data: bytes = b"") -> Sheets:
    """The workbook's sheets; ``data`` is the file's bytes when already read (the safety look
    reads them: the file is read once, and a name that is not UTF-8 is no obstacle)."""
    import io

    import python_calamine

    try:
        if data:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        else:
            book = python_calamine.CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
    except python_calamine.PasswordError as exc:
        raise UnreadableWorkbookError(
            f"{path.name}：设置了打开密码（已加密），无法读取。请填报单位取消密码后重新提交"
        ) from exc
    except BaseException as exc:
        if interrupt(exc):
            raise
        explain_failure(path)
        raise UnreadableWorkbookError(
            f"{path.name}：文件已损坏，无法作为电子表格读取（{type(exc).__name__}）。{RESAVE}，或重新获取原文件"
        ) from exc
    if not names:
        raise UnreadableWorkbookError(f"{path.name}：工作簿中没有任何工作表。请重新获取原文件")
    return Sheets(book, path, names)
