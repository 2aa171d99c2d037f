"""Run one per-file function over many files on all cores, keeping the input order."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, TypeVar

from xls_gongkai.issues import Result, unreadable

T = TypeVar("T")


def _chunk(func: Callable[[str, dict[str, Any]], T], kw: dict[str, Any], paths: list[str]) -> list[T]:
    return [func(p, kw) for p in paths]


def crashed(path: str) -> Result:
    """The result for a file whose reading killed the worker process (a crash inside a parser)."""
    message = (
        f"文件 {path} 无法读取：读取时程序异常退出，文件可能已损坏或被改动。"
        "请让填报单位用 Excel、WPS 或 LibreOffice 重新另存为 .xlsx 后再发送。"
    )
    return unreadable(path, message)


def _isolated(
    func: Callable[[str, dict[str, Any]], T],
    kw: dict[str, Any],
    path: str,
    on_crash: Callable[[str], T],
    sandbox: Callable[[], object] | None,
) -> T:
    # After a crash the pool is gone; each remaining file gets a process of its own, so that
    # one file that kills its process is reported and the rest are still read.
    with ProcessPoolExecutor(max_workers=1, initializer=sandbox) as pool:
        try:
            return pool.submit(func, path, kw).result()
        except BrokenProcessPool:
            return on_crash(path)


def map_files(
    func: Callable[[str, dict[str, Any]], T],
    items: Sequence[str],
    kw: dict[str, Any],
    *,
    on_crash: Callable[[str], T],
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    parallel_from: int = 4,
    sandbox: Callable[[], object] | None = None,
) -> list[T]:
    """``[func(path, kw) for path in items]``, in worker processes when there are enough files.

    ``func`` must be a module-level function (it is pickled) that never raises for one bad
    file; ``on_crash(path)`` gives the result for a file whose worker process died (a parser
    that aborts the process cannot be caught by ``func``). ``jobs`` is the number of processes
    (default: all cores; 1 runs in this process); below ``parallel_from`` files starting
    processes costs more than it saves. ``progress(done, total)`` is called as files finish.
    With ``sandbox`` (run first in every worker, e.g. to bound its memory) the files are only
    ever handled in worker processes, however few: even one file, even with ``jobs`` 1.
    """
    total = len(items)
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    results: list[T] = []
    if sandbox is None and (workers <= 1 or total < parallel_from):
        for p in items:
            results.append(func(p, kw))
            if progress:
                progress(len(results), total)
        return results
    # Chunks amortise the cost of sending results between processes; small enough that the
    # progress bar moves and the cores stay busy to the end.
    if total == 0:
        return results
    workers = max(1, workers)
    size = max(1, min(32, total // (workers * 4) or 1))
    chunks = [list(items[i : i + size]) for i in range(0, total, size)]
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), initializer=sandbox) as pool:
        futures = [pool.submit(partial(_chunk, func, kw), chunk) for chunk in chunks]
        for chunk, future in zip(chunks, futures, strict=True):
            try:
                results.extend(future.result())
            except BrokenProcessPool:
                results.extend(_isolated(func, kw, p, on_crash, sandbox) for p in chunk)
            if progress:
                progress(len(results), total)
    return results
