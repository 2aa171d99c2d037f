"""A file whose reading kills the worker process is reported; the rest of the batch is read."""

from __future__ import annotations

import os
from typing import Any

from xls_gongkai.batch.parallel import crashed, map_files
from xls_gongkai.issues import Code, Result


def _work(path: str, kw: dict[str, Any]) -> Result:
    if path.endswith("bomb"):
        os._exit(3)  # what a parser that aborts the process looks like from outside
    return Result(report=None, source=path + kw["suffix"])


def test_a_dying_worker_becomes_one_unreadable_result() -> None:
    items = [f"f{i}" for i in range(9)] + ["x.bomb"] + [f"g{i}" for i in range(9)]
    results = map_files(_work, items, {"suffix": "!"}, on_crash=crashed, jobs=2)
    assert len(results) == len(items)
    by_source = {r.source: r for r in results}
    bomb = by_source["x.bomb"]
    assert [i.code for i in bomb.issues] == [Code.FILE_UNREADABLE]
    assert "x.bomb" in bomb.issues[0].message
    # every other file was read, in input order
    assert [r.source for r in results if r.source != "x.bomb"] == [p + "!" for p in items if p != "x.bomb"]


def test_order_is_kept_and_progress_reaches_the_total() -> None:
    seen: list[tuple[int, int]] = []
    items = [f"f{i}" for i in range(40)]
    results = map_files(
        _work, items, {"suffix": ""}, on_crash=crashed, jobs=2, progress=lambda d, t: seen.append((d, t))
    )
    assert [r.source for r in results] == items
    assert seen[-1] == (40, 40)


def _pid(path: str, kw: dict[str, Any]) -> Result:
    return Result(report=None, source=f"{path}:{os.getpid()}")


def _started() -> None:
    os.environ["XLS_GONGKAI_TEST_STARTED"] = "1"


def _sandboxed(path: str, kw: dict[str, Any]) -> Result:
    return Result(report=None, source=os.environ.get("XLS_GONGKAI_TEST_STARTED", "no"))


def test_with_a_sandbox_even_one_file_is_handled_in_a_worker() -> None:
    # jobs=1 and a single file would run in this process; with a sandbox they never do.
    (plain,) = map_files(_pid, ["a"], {}, on_crash=crashed, jobs=1)
    assert plain.source == f"a:{os.getpid()}"
    (boxed,) = map_files(_sandboxed, ["a"], {}, on_crash=crashed, jobs=1, sandbox=_started)
    assert boxed.source == "1"
    assert "XLS_GONGKAI_TEST_STARTED" not in os.environ
    # and a worker that dies is replaced by a sandboxed one for each of its files
    items = ["a", "x.bomb", "b"]
    results = map_files(_work, items, {"suffix": ""}, on_crash=crashed, jobs=1, sandbox=_started)
    assert [r.source for r in results] == ["a", "x.bomb", "b"]
    assert [i.code for i in results[1].issues] == [Code.FILE_UNREADABLE]
