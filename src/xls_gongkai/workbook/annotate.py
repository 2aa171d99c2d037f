"""Marked-up copies to send back: the unit's figures in a fresh template, every problem commented.

The copy is built from the template by :func:`xls_gongkai.workbook.writer.write_workbook` with the
values that were read — never by re-saving the unit's own file, which would drop its
validations, protection and formulas (and could carry over whatever else it holds). Each issue
that names a cell gets a comment on that cell, and a 问题清单 sheet lists them all with links.

A workbook read by its labels (rows moved, a hand-made copy of the official tables) has its
problems at *its* addresses; in the fresh template the same value sits elsewhere, so every issue
about a value cell is moved to the template's cell for that (table, row, column). Issues about
other places of the unit's file (未识别的内容 in a hand-made sheet) keep their words but no link.
Where the reader found each value is :attr:`~xls_gongkai.issues.Result.cells`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from xls_gongkai.errors import UsageError
from xls_gongkai.issues import HINT_CODES, Issue, Result
from xls_gongkai.report import CellKey
from xls_gongkai.spec import Severity
from xls_gongkai.workbook.layout import Layout, layout_for
from xls_gongkai.workbook.writer import WriteOptions, write_workbook

__all__ = ["annotate", "annotate_all", "annotated_name", "relocate"]

SUFFIX = "审核意见"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def _cells_by_address(result: Result) -> dict[tuple[str, str], CellKey]:
    """(sheet, A1) in the unit's file → the value cell the reader found there."""
    return {where: key for key, where in result.cells.items()}


def _template_cell(lay: Layout, key: CellKey) -> tuple[str, str] | None:
    tl = lay.tables.get(key[0])
    if tl is None or key[1] not in tl.rows or key[2] not in tl.cols:
        return None  # a group printed as one row, or a table the format does not have
    pos = tl.pos(key[1], key[2])
    return pos.sheet, pos.a1


def relocate(result: Result) -> list[Issue]:
    """The result's issues with their cells moved to where the fresh template has them.

    An issue about a value cell points at the template's cell for its (table, row, column).
    Another issue keeps its address when the workbook is our template (文字说明, a note), and
    loses it when the workbook was read by labels (its message still says where it was).
    """
    if result.report is None:
        return list(result.issues)
    # The reader may relocate single tables of our template by label and still report the
    # workbook as "template": value cells are always moved through the reader's own map.
    by_template = result.located_by in ("template", "")
    lay = layout_for(result.report.format)
    by_address = _cells_by_address(result)
    out: list[Issue] = []
    for issue in result.issues:
        if not issue.cell:
            out.append(issue)
            continue
        first: tuple[str, str] | None = None
        if issue.table and issue.row and issue.column:
            first = _template_cell(lay, (issue.table, issue.row, issue.column))
        moved: list[str] = []
        for a1 in issue.cells or (issue.cell,):
            key = by_address.get((issue.sheet, a1))
            where = _template_cell(lay, key) if key else None
            if where is not None:
                moved.append(where[1])
                if first is None:
                    first = where
        if first is None and by_template and not issue.table:
            out.append(issue)  # a place of our template outside the tables (文字说明, a note)
        elif first is None:
            out.append(replace(issue, sheet="", cell="", cells=()))
        else:
            out.append(replace(issue, sheet=first[0], cell=first[1], cells=tuple(moved) or (first[1],)))
    return out


def annotated_name(result: Result) -> str:
    """``<代码>_<名称>_审核意见.xlsx`` (the source file's stem when the unit is unknown)."""
    parts: list[str] = []
    if result.report is not None:
        parts = [p for p in (result.report.unit.code, result.report.unit.name) if p]
    if not parts:
        parts = [Path(result.source).stem or "工作簿"]
    stem = _UNSAFE.sub("_", "_".join(parts)).strip(" .") or "工作簿"
    return f"{stem}_{SUFFIX}.xlsx"


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTICE: 2}


def _wanted(issues: Iterable[Issue], min_severity: Severity) -> list[Issue]:
    # Which cell is probably wrong goes with the errors it explains, whatever else is left out.
    return [i for i in issues if _RANK[i.severity] <= _RANK[min_severity] or i.code in HINT_CODES]


def _options(result: Result, options: WriteOptions | None) -> WriteOptions:
    """The caller's options as an annotated copy; a deadline or contact it does not set is
    carried over from the unit's workbook (its ``_meta``, written when it was generated)."""
    opts = replace(options or WriteOptions(), kind="annotated")
    return replace(
        opts,
        deadline=opts.deadline or result.meta.get("deadline", ""),
        contact=opts.contact or result.meta.get("contact", ""),
    )


def annotate(
    result: Result,
    outdir: str | os.PathLike[str],
    *,
    name: str | None = None,
    options: WriteOptions | None = None,
    min_severity: Severity = Severity.WARNING,
) -> Path | None:
    """Write the marked-up copy of one result into ``outdir``; None when there is nothing to mark.

    Nothing is written for a file that could not be read (no report: there are no figures to
    put in a template) or that has no issue of at least ``min_severity`` (notices count only
    when it is NOTICE). ``name`` overrides :func:`annotated_name`. ``options`` without a
    deadline or contact take the ones the unit's template was generated with. The unit's own
    file is never opened for writing. Raises
    :class:`~xls_gongkai.errors.UsageError` when ``outdir`` is a file, cannot be created or
    written, or the copy would land on the unit's own file.
    """
    if result.report is None:
        return None
    issues = _wanted(relocate(result), min_severity)
    if not issues:
        return None
    folder = _folder(outdir)
    path = folder / (name or annotated_name(result))
    if result.source and path.resolve() == Path(result.source).resolve():
        raise UsageError(f"标注副本 {path} 会覆盖单位报送的原文件。请为 --annotate 另选一个文件夹")
    return write_workbook(path, result.report, _options(result, options), issues=issues, not_numbers=result.not_numbers)


def _folder(outdir: str | os.PathLike[str]) -> Path:
    folder = Path(outdir)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} 是一个文件，不是文件夹。请为 --annotate 指定一个文件夹")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"无法创建文件夹 {folder}（{exc.strerror or exc}）。请检查路径和权限") from exc
    return folder


def annotate_all(
    results: Sequence[Result],
    outdir: str | os.PathLike[str],
    *,
    options: WriteOptions | None = None,
    min_severity: Severity = Severity.WARNING,
) -> list[Path]:
    """Marked-up copies for every result with issues, in the order of ``results``.

    Two results that would get the same file name (one unit sent two files) are told apart by
    their source file's stem, so no copy overwrites another.
    """
    used: set[str] = set()
    written: list[Path] = []
    for result in results:
        name = annotated_name(result)
        if name in used:
            stem = _UNSAFE.sub("_", Path(result.source).stem) or "工作簿"
            base = name.removesuffix(f"_{SUFFIX}.xlsx")
            name = f"{base}_{stem}_{SUFFIX}.xlsx"
            n = 2
            while name in used:
                name = f"{base}_{stem}_{n}_{SUFFIX}.xlsx"
                n += 1
        path = annotate(result, outdir, name=name, options=options, min_severity=min_severity)
        if path is not None:
            used.add(name)
            written.append(path)
    return written
