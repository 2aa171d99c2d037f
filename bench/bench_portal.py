"""Load on the collection portal: N units each upload a filled workbook to a real ``portal serve``.

A second process (this one) drives ``xls-gongkai portal serve`` on 127.0.0.1 with a bounded
request loop: each unit opens its private link (a session), loads its page (the CSRF token),
uploads its workbook and waits for the result page. Printed: the upload-to-result time (POST
sent → result page received) at p50/p95/max, throughput, and then a check that nothing was
lost — every upload is a version in the database with the SHA-256 of the file sent, and the
stored file has that hash. Exits 1 when anything is missing.

    .venv/bin/python bench/bench_portal.py                # 300 units, 8 at a time
    .venv/bin/python bench/bench_portal.py --units 50 --concurrency 4
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.portal.http import Browser, Server, cli, links  # noqa: E402

from xls_gongkai import Unit, format_for_year  # noqa: E402
from xls_gongkai.sample import broken, random_report  # noqa: E402
from xls_gongkai.workbook.writer import write_workbook  # noqa: E402

YEAR = 2024


@dataclass(frozen=True)
class Sent:
    code: str
    sha256: str
    seconds: float
    status: int
    result_ok: bool


def roster(folder: Path, n: int) -> tuple[Path, list[Unit]]:
    units = [Unit(f"4101{i:05d}", f"测试单位{i:03d}", "压测县") for i in range(1, n + 1)]
    path = folder / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["代码", "名称", "上级"])
        writer.writerows([u.code, u.name, u.parent] for u in units)
    return path, units


def workbooks(folder: Path, units: list[Unit]) -> dict[str, Path]:
    """One filled workbook per unit; every tenth with an R1 error, as in a real January."""
    fmt = format_for_year(YEAR)
    rnd = random.Random(2024)
    out: dict[str, Path] = {}
    for i, u in enumerate(units):
        report = random_report(fmt, u, YEAR, rnd, {"s1": "总体情况", "s5": "问题", "s6": "无"})
        if i % 10 == 0:
            report = broken(report, ("t3", "carry_next", "natural"), 2)
        path = folder / f"{u.code}.xlsx"
        write_workbook(path, report)
        out[u.code] = path
    return out


def one_unit(base: str, link: str, path: Path, deadline: float) -> Sent | None:
    if time.monotonic() > deadline:
        return None  # bounded: past the time budget no new upload starts
    browser = Browser(base)
    page = browser.get(link)
    assert page.status == 200, page.status
    data = path.read_bytes()
    started = time.monotonic()
    response = browser.post("/unit/upload/", {}, {"file": (path.name, data)}, token_from="/unit/")
    result = browser.get(response.location) if response.status == 303 else response
    seconds = time.monotonic() - started
    ok = result.status == 200 and ("检查结果" in result.text)
    return Sent(path.stem, hashlib.sha256(data).hexdigest(), seconds, response.status, ok)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def verify(directory: Path, sent: list[Sent]) -> list[str]:
    """Every upload a version with its hash, every stored file with that hash."""
    problems: list[str] = []
    with sqlite3.connect(directory / "db.sqlite3") as con:
        rows = con.execute(
            "select u.code, v.sha256, v.stored_name from portal_version v join portal_unit u on u.id = v.unit_id"
        ).fetchall()
    by_code = {code: (sha, stored) for code, sha, stored in rows}
    if len(rows) != len(sent):
        problems.append(f"{len(sent)} 次上传，数据库中有 {len(rows)} 个版本")
    for s in sent:
        found = by_code.get(s.code)
        if found is None:
            problems.append(f"{s.code}：没有版本")
            continue
        if found[0] != s.sha256:
            problems.append(f"{s.code}：哈希不符")
        stored = directory / "files" / found[1]
        if not stored.is_file() or hashlib.sha256(stored.read_bytes()).hexdigest() != s.sha256:
            problems.append(f"{s.code}：保存的文件缺失或内容不符")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8, help="clerks uploading at the same time")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds in which uploads may start")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-portal-") as tmp:
        folder = Path(tmp)
        roster_path, units = roster(folder, args.units)
        t = time.monotonic()
        books = workbooks(folder, units)
        print(f"{len(books)} workbooks written in {time.monotonic() - t:.1f} s")
        directory = folder / "inst"
        cli(
            "portal",
            "init",
            str(directory),
            "--year",
            str(YEAR),
            "--roster",
            str(roster_path),
            "--password",
            "bench-pass-1",
        )
        server = Server(directory, threads=args.concurrency)
        try:
            paths = links(directory, server.base)
            deadline = time.monotonic() + args.budget
            started = time.monotonic()
            with ThreadPoolExecutor(args.concurrency) as pool:
                futures = [pool.submit(one_unit, server.base, paths[u.code], books[u.code], deadline) for u in units]
                sent = [s for f in futures if (s := f.result()) is not None]
            wall = time.monotonic() - started
        finally:
            server.stop()
        times = [s.seconds for s in sent]
        failed = [s for s in sent if s.status != 303 or not s.result_ok]
        print(
            f"{len(sent)} uploads by {args.units} units, {args.concurrency} at a time, in {wall:.1f} s ({len(sent) / wall * 60:.0f} per minute)"
        )
        print(
            f"upload-to-result: p50 {statistics.median(times):.2f} s, p95 {percentile(times, 95):.2f} s, max {max(times):.2f} s"
        )
        problems = verify(directory, sent) + [f"{s.code}: HTTP {s.status}" for s in failed]
        if len(sent) < args.units:
            problems.append(f"only {len(sent)} of {args.units} uploads started within {args.budget:.0f} s")
        if problems:
            print("LOST OR FAILED:", *problems[:20], sep="\n  ")
            return 1
        print(f"nothing lost: {len(sent)} versions, each with the SHA-256 of the file sent, each stored file intact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
