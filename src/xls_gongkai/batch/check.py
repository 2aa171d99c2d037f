"""Check a collection: read every returned workbook and check the batch as a whole.

The same pipeline as ``merge`` and the portal (:func:`xls_gongkai.batch.pipeline.run_batch`),
so a unit that ``check`` calls 有错误 is the unit ``merge`` calls 有错误.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from xls_gongkai.batch.pipeline import Batch, load_previous, run_batch
from xls_gongkai.batch.roster import Roster
from xls_gongkai.report import Unit
from xls_gongkai.spec import Format

__all__ = ["check_files"]


def check_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    fmt: Format | str | int | None = None,
    formats: Sequence[Format] = (),
    year: int | None = None,
    unit: Unit | None = None,
    roster: Roster | None = None,
    strict: bool = False,
    previous: Sequence[str | os.PathLike[str]] = (),
    exclude: Sequence[str | os.PathLike[str]] = (),
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Batch:
    """Read and check every file (folders are searched), then the batch against the roster,
    for duplicates, for files of another year, and (with ``previous``: last year's workbooks,
    summaries or JSON reports) each unit against its own last year. Never raises for a bad file.
    """
    prev = load_previous(previous, formats=formats, jobs=jobs) if previous else []
    return run_batch(
        paths,
        roster=roster,
        formats=formats,
        previous=prev,
        exclude=exclude,
        jobs=jobs,
        progress=progress,
        fmt=fmt,
        year=year,
        unit=unit,
        strict=strict,
    )
