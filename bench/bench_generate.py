"""Benchmark: ``generate`` for N units (default 1,000) against a bare xlsxwriter script writing the same workbooks.

The floor is a plain Python script that calls xlsxwriter directly, one straight line of calls
per workbook: the same labels, merges, formats, column widths, formulas with their cached
results, data validations with their prompts, conditional formats, sheet and workbook
protection, print setup and ``_meta`` sheet — the same content, with none of xls-gongkai's work
(no format, layout, plan, rule engine or roster). It is *generated* from the calls our writer
makes for one unit (recorded through a proxy), with the unit's name, code and parent as
parameters, so both sides write the same cells by construction.

Sides, each timed over all N units, in alternating rounds (best of ``--repeat``) so that a busy
shared machine slows all alike:

* ``library, 1 process`` — ``generate_templates(units, …, jobs=1)``;
* ``library`` — ``generate_templates(units, …)`` as the CLI calls it (worker processes on every
  core once there are enough units);
* ``floor, in process`` — the bare script's ``write`` function, called N times;
* ``CLI`` — ``xls-gongkai generate -y YEAR -r roster.csv -o DIR`` as the user runs it (a new
  process: start-up, roster reading, progress bar included);
* ``floor script`` — ``python floor.py roster.csv DIR`` (a new process: start-up included).

Printed: seconds, templates per second, and the ratios library / floor and CLI / floor script
(the issue's target: within 2×).

Run::

    .venv/bin/python bench/bench_generate.py                 # 1,000 units, format of 2024
    .venv/bin/python bench/bench_generate.py --n 200 --year 2020 --repeat 3
    .venv/bin/python bench/bench_generate.py --keep-floor /tmp/floor.py   # look at the floor script
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xls_gongkai.report import Unit
from xls_gongkai.spec import format_for_year
from xls_gongkai.workbook import writer
from xls_gongkai.workbook.writer import WriteOptions, generate_templates, template_filename

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "xls_gongkai"]
DEADLINE, CONTACT = "2025年2月20日", "县政务公开办 0371-12345678"
#: Stand-ins for the unit's strings while recording; the floor script takes the real ones.
MARKS = {"name": "\ue010NAME\ue011", "code": "\ue010CODE\ue011", "parent": "\ue010PARENT\ue011"}

# --------------------------------------------------------------------------- recording the writer's calls


class _Rec:
    """Forwards every call to a real xlsxwriter object and logs it as a line of Python."""

    def __init__(self, log: list[str], name: str, target: Any) -> None:
        object.__setattr__(self, "_log", log)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_target", target)

    def __setattr__(self, attr: str, value: Any) -> None:
        setattr(self._target, attr, value)
        self._log.append(f"    {self._name}.{attr} = {_src(value)}")

    def __getattr__(self, attr: str) -> Any:
        real = getattr(self._target, attr)
        if not callable(real):
            return real

        def call(*args: Any, **kw: Any) -> Any:
            result = real(*map(_unwrap, args), **{k: _unwrap(v) for k, v in kw.items()})
            text = ", ".join([*map(_src, args), *(f"{k}={_src(v)}" for k, v in kw.items())])
            if attr in ("add_format", "add_worksheet", "add_chart"):
                var = f"v{len(self._log)}"
                self._log.append(f"    {var} = {self._name}.{attr}({text})")
                proxy = _Rec(self._log, var, result)
                _PROXIES[id(result)] = proxy
                return proxy
            self._log.append(f"    {self._name}.{attr}({text})")
            return _PROXIES.get(id(result), result)

        return call


_PROXIES: dict[int, _Rec] = {}


def _unwrap(v: Any) -> Any:
    if isinstance(v, _Rec):
        return v._target
    if isinstance(v, dict):
        return {k: _unwrap(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return type(v)(_unwrap(x) for x in v)
    return v


def _src(v: Any) -> str:
    """Python source for a recorded argument: the unit's strings become parameters."""
    if isinstance(v, _Rec):
        return v._name
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_src(k)}: {_src(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(map(_src, v)) + "]"
    if isinstance(v, tuple):
        return "(" + "".join(f"{_src(x)}, " for x in v) + ")"
    if isinstance(v, str) and "\ue010" in v:
        pieces: list[str | tuple[str]] = [v]
        for param, mark in MARKS.items():
            pieces = [q for p in pieces for q in _split(p, mark, param)]
        return " + ".join(p[0] if isinstance(p, tuple) else repr(p) for p in pieces if p != "")
    if isinstance(v, dt.datetime):
        return f"datetime.datetime.fromisoformat({v.isoformat()!r})"
    return repr(v)


def _split(piece: str | tuple[str], mark: str, param: str) -> list[str | tuple[str]]:
    """A literal split at ``mark`` into literals and the parameter (a 1-tuple of its name)."""
    if isinstance(piece, tuple) or mark not in piece:
        return [piece]
    out: list[str | tuple[str]] = []
    for k, text in enumerate(piece.split(mark)):
        if k:
            out.append((param,))
        out.append(text)
    return out


_FLOOR_HEAD = '''"""A bare xlsxwriter script: the same template, written straight (generated by bench_generate.py)."""
import csv
import datetime
import sys
from pathlib import Path

import xlsxwriter


class Workbook(xlsxwriter.Workbook):
    # workbook structure protection, as the template has it (xlsxwriter has no API for it)
    lock_structure = False
    structure_password = ""

    def _write_workbook_pr(self):
        super()._write_workbook_pr()
        if self.lock_structure:
            self._xml_empty_tag("workbookProtection", [("lockStructure", 1)])


def write(path, name, code, parent):
'''

_FLOOR_MAIN = """

def main():
    roster, out, year = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    out.mkdir(parents=True, exist_ok=True)
    with roster.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))[1:]
    for code, name, parent in rows:
        write(str(out / f"{code}_{name}_{year}.xlsx"), name, code, parent)


if __name__ == "__main__":
    main()
"""


def floor_source(year: int, options: WriteOptions) -> str:
    """The bare script: the calls the writer makes for one blank template, as straight-line code."""
    fmt = format_for_year(year)
    log: list[str] = []
    real = writer.ProtectedWorkbook

    def recording(target: str, opts: dict[str, Any]) -> _Rec:
        log.append(f"    wb = Workbook(path, {_src(opts)})")
        return _Rec(log, "wb", real(target, opts))

    writer.ProtectedWorkbook = recording  # type: ignore[misc,assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            unit = Unit(MARKS["code"], MARKS["name"], MARKS["parent"])
            writer.write_workbook(Path(tmp) / "x.xlsx", writer.Report(unit, year, fmt), options)
    finally:
        writer.ProtectedWorkbook = real  # type: ignore[misc]
        _PROXIES.clear()
    return _FLOOR_HEAD + "\n".join(log) + "\n" + _FLOOR_MAIN


# --------------------------------------------------------------------------- the sides


def _roster(path: Path, units: list[Unit]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["代码", "名称", "上级"])
        w.writerows((u.code, u.name, u.parent) for u in units)


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(n: int, year: int, repeat: int, keep_floor: Path | None) -> None:
    fmt = format_for_year(year)
    units = [Unit(f"4101{i:05d}", f"第{i}镇", "河洛县") for i in range(n)]
    options = WriteOptions(deadline=DEADLINE, contact=CONTACT, generated_at="2025-01-05T09:00:00+00:00")
    work = Path(tempfile.mkdtemp(prefix="bench_generate_"))
    try:
        source = floor_source(year, options)
        floor_py = work / "floor.py"
        floor_py.write_text(source, encoding="utf-8")
        if keep_floor is not None:
            shutil.copy(floor_py, keep_floor)
        namespace: dict[str, Any] = {"__name__": "floor"}
        exec(compile(source, str(floor_py), "exec"), namespace)
        floor_write = namespace["write"]
        roster = work / "roster.csv"
        _roster(roster, units)
        cli_options = ["-y", str(year), "-r", str(roster), "--deadline", DEADLINE, "--contact", CONTACT]

        def fresh(name: str) -> Path:
            folder = work / name
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            return folder

        def floor_in_process() -> None:
            out = fresh("floor")
            for u in units:
                floor_write(str(out / template_filename(u, year)), u.name, u.code, u.parent)

        sides: dict[str, Callable[[], object]] = {
            "library, 1 process": lambda: generate_templates(units, year, fresh("lib1"), options=options, jobs=1),
            "library": lambda: generate_templates(units, year, fresh("lib"), options=options),
            "floor, in process": floor_in_process,
            "CLI": lambda: subprocess.run([*CLI, "generate", *cli_options, "-o", str(fresh("cli"))], check=True),
            "floor script": lambda: subprocess.run(
                [sys.executable, str(floor_py), str(roster), str(fresh("floor_cli")), str(year)], check=True
            ),
        }
        floor_in_process()  # warm-up: imports, the plan of the format
        generate_templates(units[:2], year, fresh("warm"), options=options, jobs=1)
        best = dict.fromkeys(sides, float("inf"))
        for _ in range(repeat):
            for name, fn in sides.items():
                best[name] = min(best[name], _timed(fn))
        written = {name: len(list((work / folder).glob("*.xlsx"))) for name, folder in _FOLDERS.items()}
        size = {
            name: sum(p.stat().st_size for p in (work / folder).glob("*.xlsx")) / n for name, folder in _FOLDERS.items()
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _print(n, fmt.id, year, repeat, best, written, size)


_FOLDERS = {"library": "lib", "floor, in process": "floor", "CLI": "cli", "floor script": "floor_cli"}


def _print(
    n: int, fmt: str, year: int, repeat: int, best: dict[str, float], written: dict[str, int], size: dict[str, float]
) -> None:
    print(f"generate {n} blank templates, format {fmt} (year {year}), best of {repeat}")
    print(f"{'':22}{'seconds':>10}{'templates/s':>14}{'KB/file':>10}")
    for name, seconds in best.items():
        kb = f"{size[name] / 1024:10.1f}" if name in size else f"{'':>10}"
        print(f"{name:22}{seconds:10.2f}{n / seconds:14.1f}{kb}")
    assert all(count == n for count in written.values()), written
    for ours, floor in (
        ("library, 1 process", "floor, in process"),
        ("library", "floor, in process"),
        ("CLI", "floor script"),
    ):
        ratio = best[ours] / best[floor]
        verdict = "OK" if ratio <= 2 else "SLOWER THAN TARGET"
        print(f"ratio {ours} / {floor}: {ratio:.2f}x (target: within 2x) -> {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of units (default 1000)")
    parser.add_argument("--year", type=int, default=2024, help="report year (selects the format)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best time of each side is printed")
    parser.add_argument("--keep-floor", type=Path, help="also save the generated floor script here")
    args = parser.parse_args()
    run(args.n, args.year, args.repeat, args.keep_floor)


if __name__ == "__main__":
    main()
