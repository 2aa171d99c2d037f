"""Run one per-file function over many files on all cores, keeping the input order."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


def _chunk(func: Callable[[str, dict[str, Any]], T], kw: dict[str, Any], paths: list[str]) -> list[T]:
    return [func(p, kw) for p in paths]


def map_files(
    func: Callable[[str, dict[str, Any]], T],
    items: Sequence[str],
    kw: dict[str, Any],
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    parallel_from: int = 4,
) -> list[T]:
    """``[func(path, kw) for path in items]``, in worker processes when there are enough files.

    ``func`` must be a module-level function (it is pickled) that never raises for one bad
    file. ``jobs`` is the number of processes (default: all cores; 1 runs in this process);
    below ``parallel_from`` files starting processes costs more than it saves.
    ``progress(done, total)`` is called as files finish.
    """
    total = len(items)
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    results: list[T] = []
    if workers <= 1 or total < parallel_from:
        for p in items:
            results.append(func(p, kw))
            if progress:
                progress(len(results), total)
        return results
    # Chunks amortise the cost of sending results between processes; small enough that the
    # progress bar moves and the cores stay busy to the end.
    size = max(1, min(32, total // (workers * 4) or 1))
    chunks = [list(items[i : i + size]) for i in range(0, total, size)]
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        for chunk in pool.map(partial(_chunk, func, kw), chunks):
            results.extend(chunk)
            if progress:
                progress(len(results), total)
    return results
