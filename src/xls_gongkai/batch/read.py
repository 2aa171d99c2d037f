"""Read many workbooks (and documents) in parallel, in memory-bounded worker processes.

A crafted or damaged file can make a parser abort its process or ask for tens of gigabytes;
batches are therefore read in worker processes confined by :func:`~xls_gongkai.reading.safety.confine`
(Linux), so such a file costs one worker and is reported, and the rest of the batch is read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from xls_gongkai.batch.parallel import crashed, map_files
from xls_gongkai.issues import Result
from xls_gongkai.reading.reader import read_safely
from xls_gongkai.reading.safety import confinable, confine

__all__ = ["import_many", "quiet", "read_many"]

Progress = Callable[[int, int], None]
#: import_many starts worker processes from this many documents on (a document takes
#: milliseconds; starting the workers about a second).
DOCUMENTS_PARALLEL_FROM = 256


def _worker_start() -> None:
    """The start of a batch's worker process: bounded memory, quiet stderr."""
    confine()
    quiet()


def quiet() -> None:
    """Silence this (child) process's stderr and stdout for good.

    A parser that aborts prints its panic and a fault handler its dump on stderr; the caller
    reports that file in Chinese instead (:func:`xls_gongkai.batch.parallel.crashed`).
    """
    import faulthandler

    faulthandler.disable()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    # Fresh stream objects: a worker forked while the parent's progress-bar thread was writing
    # would otherwise inherit stdout's or stderr's lock held, and hang on its first warning.
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the worker


def _read_kept(keep: Callable[[Result], Result], path: str, kwargs: dict[str, Any]) -> Result:
    return keep(read_safely(path, kwargs))


def read_many(
    paths: Iterable[str | os.PathLike[str]],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    keep: Callable[[Result], Result] | None = None,
    **kw: Any,
) -> list[Result]:
    """Read many workbooks on all cores; results in the order of ``paths``.

    Never raises for one bad file: it becomes a ``file-unreadable`` result. ``jobs`` is the
    number of worker processes (default: all cores). Where the system can bound a process's
    memory (Linux), files are always read in such workers, even with ``jobs`` 1.
    ``progress(done, total)`` is called as files finish; ``keep`` (a module-level function) is
    applied to each result in the worker, to send back only what the caller needs. Other
    keywords go to :func:`~xls_gongkai.reading.reader.read_workbook`.
    """
    func = read_safely if keep is None else partial(_read_kept, keep)
    sandbox = _worker_start if confinable() else None
    return map_files(
        func, [str(p) for p in paths], dict(kw), on_crash=crashed, jobs=jobs, progress=progress, sandbox=sandbox
    )


def _import_one(path: str, kw: dict[str, Any]) -> Result:
    from xls_gongkai.documents.importer import import_safely

    return import_safely(path, **kw)


def import_many(
    paths: Iterable[str | os.PathLike[str]], *, jobs: int | None = None, progress: Progress | None = None, **kw: Any
) -> list[Result]:
    """Import many published reports, in parallel when there are many; results in input order."""
    items = [str(p) for p in paths]
    return map_files(
        _import_one,
        items,
        dict(kw),
        on_crash=crashed,
        jobs=jobs,
        progress=progress,
        parallel_from=DOCUMENTS_PARALLEL_FROM,
    )
