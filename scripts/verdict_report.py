"""The verdict report: where the recalculated sheet and ``check`` disagree today.

Draws N perturbed workbooks per format (2019 format via report year 2020, 2021 format via
2024) with ``tests/oracle.py``, recalculates them in LibreOffice and Gnumeric, and prints:

1. the disagreement categories between each engine's sheet and ``check`` on the perturbed file,
   with how many workbooks hit each, per engine and per year, and one concrete example;
2. the same against ``check`` run on the file *as the engine saved it* (cached results present,
   as in a workbook a clerk saves in Excel or WPS);
3. the check cells on which the two engines disagree with each other;
4. per perturbation kind: how many workbooks carry it, how many of those disagree because of it;
5. "details": checks that fail on both sides but with a different 差 (not a verdict disagreement);
6. what each engine does with single formulas (text numbers, blanks, errors, COUNTIF, ...);
7. what each engine keeps of the workbook (validation, conditional formats, protection);
8. the time per workbook for each engine and for the whole run.

Usage::

    .venv/bin/python scripts/verdict_report.py            # 200 per format, both engines
    .venv/bin/python scripts/verdict_report.py --n 20 --keep /tmp/verdict   # keep the files
    .venv/bin/python scripts/verdict_report.py --json verdict.json
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.oracle import (
    GNUMERIC,
    KINDS,
    LIBREOFFICE,
    SAME_MEANING,
    SOFFICE,
    SSCONVERT,
    YEARS,
    Disagreement,
    Run,
    available_engines,
    draw_cases,
    run_cases,
    semantics_probe,
)


def _version(engine: str) -> str:
    try:
        if engine == LIBREOFFICE and SOFFICE:
            return subprocess.run([SOFFICE, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
        if engine == GNUMERIC and SSCONVERT:
            out = subprocess.run([SSCONVERT, "--version"], capture_output=True, text=True, timeout=60).stdout
            return out.splitlines()[0].strip() if out else "?"
    except Exception as exc:
        return f"? ({exc})"
    return "not installed"


def _year(case_name: str) -> str:
    return case_name.split("_", 1)[0].lstrip("y")


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(_w(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c) + " " * (widths[i] - _w(str(c))) for i, c in enumerate(r))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _w(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


def _example(d: Disagreement) -> str:
    key = "/".join(map(str, d.key)) if d.key else ""
    ps = "; ".join(p.describe() for p in d.perturbations)
    a, b = ("LibreOffice", "Gnumeric") if d.what == "engines" else ("sheet", "check")
    return f"{d.case} {d.where} {key}: {a} {d.sheet_shows!r}, {b} {d.check_says!r}" + (f" — {ps}" if ps else "")


def pivot(ds: list[Disagreement], engines: tuple[str, ...]) -> list[dict[str, object]]:
    """Categories with workbook counts per engine (or engine pair) and year, one example each."""
    groups: dict[tuple[str, str], list[Disagreement]] = defaultdict(list)
    for d in ds:
        cat = d.category
        for e in engines:  # "Gnumeric: CHECK_FAILURES shows #VALUE!": the engine has its column
            cat = cat.replace(f"{e}: ", "")
        groups[(d.what, cat)].append(d)
    out = []
    for (what, cat), items in groups.items():
        counts = {
            f"{e} {y}": len({d.case for d in items if d.engine == e and _year(d.case) == str(y)})
            for e in sorted({d.engine for d in items})
            for y in YEARS
        }
        row: dict[str, object] = {
            "what": what,
            "category": cat,
            "occurrences": len(items),
            "workbooks": len({d.case for d in items}),
            "counts": counts,
            "example": _example(items[0]),
        }
        out.append(row)
    order = {"count": 0, "check": 1, "red": 2, "yellow": 3, "text": 4, "engines": 5}
    out.sort(key=lambda r: (order.get(str(r["what"]), 9), -int(str(r["workbooks"])), str(r["category"])))
    return out


def print_pivot(title: str, rows: list[dict[str, object]], limit: int) -> None:
    print(f"\n## {title}\n")
    if not rows:
        print("(none)")
        return
    cols: list[str] = []
    for r in rows:
        for c in r["counts"]:  # type: ignore[attr-defined]
            if c not in cols:
                cols.append(c)
    cols.sort()
    table = [
        [str(r["what"]), *[str(r["counts"].get(c, 0)) for c in cols], str(r["category"])]  # type: ignore[attr-defined]
        for r in rows[:limit]
    ]
    short = [c.replace("LibreOffice", "LO").replace("Gnumeric", "GN") for c in cols]
    print(_table(table, ["what", *short, "category"]))
    print("\nexamples:")
    for r in rows[:limit]:
        print(f"- [{r['what']}] {r['category']}\n    {r['example']}")
    if len(rows) > limit:
        print(f"... {len(rows) - limit} more categories (see --json)")


def _family(kinds: str) -> str:
    """text-ascii+text-padded → "text number"; several families → "mixed: …"."""
    fam = set()
    for k in kinds.split("+"):
        fam.add("text number" if k.startswith("text-") else "formula over input" if k.startswith("formula-") else k)
    return next(iter(fam)) if len(fam) == 1 else "mixed: " + "+".join(sorted(fam))


def _state(v: str) -> str:
    return v if v in ("✔",) else "✘" if v.startswith("✘") else "error value" if v.startswith("#") else v


def headline(ds: list[Disagreement], engines: tuple[str, ...]) -> list[list[str]]:
    """The disagreements folded into a few families: (cause, what, rule, sheet, check)."""
    groups: dict[tuple[str, ...], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for d in ds:
        if d.what == "text":
            continue
        kinds = "+".join(sorted({p.kind for p in d.perturbations})) or "none"
        if d.what == "check":
            assert d.key is not None
            key: tuple[str, ...] = (
                _family(kinds),
                "check cell",
                d.key[0],
                _state(d.sheet_shows),
                _state(d.check_says),
            )
        elif d.what == "count":
            shown = "error value" if d.sheet_shows.startswith("#") else "a number ≠ check's"
            if d.sheet_shows == "#VALUE!" and d.engine == GNUMERIC:
                shown = "#VALUE! (always)"
            key = ("(count cell)", "CHECK_FAILURES", "", shown, "count")
        elif d.what == "red":
            key = (_family(kinds), "red cell", "R5", d.sheet_shows, d.check_says)
        else:
            why = d.category.split("(", 1)[-1].split(" verdict")[0].split(" check cell")[0]
            why = (
                "follows a verdict disagreement"
                if why.startswith("follows")
                else ("covering check cell shows an error" if "error value" in d.category else "unexplained")
            )
            key = ("(yellow)", "yellow cell", "", f"{d.sheet_shows} in sheet", why)
        groups[key][d.engine].add(d.case)
    rows = []
    for key, by_engine in groups.items():
        rows.append([*key, *[str(len(by_engine.get(e, ()))) for e in engines]])
    rows.sort(key=lambda r: (r[1] != "CHECK_FAILURES", r[0], r[1], r[2], -max(int(x) for x in r[5:])))
    return rows


def kind_table(run: Run) -> list[list[str]]:
    """Per perturbation kind: workbooks carrying it, and those where it causes a disagreement."""
    carrying: dict[str, set[str]] = defaultdict(set)
    for r in run.results:
        for p in r.case.perturbations:
            carrying[p.kind].add(r.case.name)
    caused: dict[tuple[str, str], set[str]] = defaultdict(set)
    for d in run.verdict_disagreements:
        if d.what in ("check", "red"):
            for p in d.perturbations:
                caused[(d.engine, p.kind)].add(d.case)
    rows = []
    for k in KINDS:
        rows.append(
            [
                k,
                str(len(carrying[k])),
                *[str(len(caused[(e, k)])) for e in run.engines],
                "same number both sides" if k in SAME_MEANING else "read differently",
            ]
        )
    return rows


def structure_table(run: Run) -> list[list[str]]:
    """What one recalculated workbook keeps: data validations, conditional formats, etc."""
    if not run.results:
        return []
    rows = []
    for year in YEARS:
        res = next((r for r in run.results if r.case.year == year), None)
        if res is None:
            continue
        files = {"openpyxl (input)": res.path}
        for e, er in run.engines.items():
            if res.case.name in er.outputs:
                files[e] = er.outputs[res.case.name]
        for label, path in files.items():
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
                sheets = [n for n in names if n.startswith("xl/worksheets/sheet")]
                xml = "".join(z.read(n).decode("utf-8", "replace") for n in sheets)
                wbx = z.read("xl/workbook.xml").decode("utf-8", "replace")
            meta = re.search(r'<sheet [^>]*name="_meta"[^>]*>', wbx)
            state = re.search(r'state="(\w+)"', meta.group(0)) if meta else None
            rows.append(
                [
                    str(year),
                    label,
                    str(xml.count("<dataValidation ")),
                    str(xml.count("<cfRule ")),
                    str(xml.count("<sheetProtection")),
                    str(len(re.findall(r't="array"', xml))),
                    str(len(re.findall(r"</f>\s*<v>[^<]", xml))),
                    ("CHECK_FAILURES" in wbx and "yes") or "no",
                    state.group(1) if state else ("visible" if meta else "missing"),
                ]
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="workbooks per format (default 200)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--years", type=int, nargs="+", default=list(YEARS))
    ap.add_argument("--engines", nargs="+", default=None, help="LibreOffice and/or Gnumeric (default: installed)")
    ap.add_argument("--keep", type=Path, default=None, help="write the files here and keep them")
    ap.add_argument("--limit", type=int, default=60, help="categories shown per table")
    ap.add_argument("--json", type=Path, default=None, help="also write every disagreement as JSON")
    ap.add_argument("--no-probe", action="store_true", help="skip the single-formula probe")
    args = ap.parse_args(argv)
    engines = tuple(args.engines or available_engines())
    if not engines:
        print("neither soffice nor ssconvert is installed", file=sys.stderr)
        return 2
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="verdict_"))
    print("# Verdict report: recalculated sheet vs check\n")
    for e in engines:
        print(f"- {e}: {_version(e)}")
    t = time.perf_counter()
    cases = [c for y in args.years for c in draw_cases(y, args.n, args.seed)]
    drawn = time.perf_counter() - t
    print(
        f"- {len(cases)} workbooks ({args.n} per format, years {args.years}, seed {args.seed}), drawn in {drawn:.1f} s"
    )
    print(f"- files in {workdir}")
    run = run_cases(cases, workdir, engines, check_saved=True, progress=lambda m: print(f"  … {m}", file=sys.stderr))
    n = len(cases)
    print(f"\n## Time\n\n- whole run (files, both engines, reading, comparing): {run.seconds:.1f} s for {n} workbooks")
    print(
        f"- writing the files (openpyxl, main thread): {run.prepare_seconds:.1f} s ({run.prepare_seconds / n * 1000:.0f} ms each)"
    )
    for e, er in run.engines.items():
        per = er.seconds / max(er.files, 1)
        print(
            f"- {e}: {er.files} files in {er.calls} process(es), busy {er.seconds:.1f} s = {per * 1000:.0f} ms per workbook"
        )
    if run.missing:
        print(f"- MISSING OUTPUTS: {len(run.missing)}: {run.missing[:5]}")

    by_what = defaultdict(int)
    for d in run.verdict_disagreements:
        by_what[d.what] += 1
    agree = {
        e: sum(1 for r in run.results if not [d for d in r.disagreements if d.engine == e and d.what != "text"])
        for e in engines
    }
    print("\n## Overall\n")
    for e in engines:
        print(
            f"- {e}: {agree[e]}/{n} workbooks agree fully with check (check cells, CHECK_FAILURES, red and yellow cells)"
        )
    for e in engines:
        no_count = sum(
            1 for r in run.results if not [d for d in r.disagreements if d.engine == e and d.what in ("check", "red")]
        )
        print(f"- {e}: {no_count}/{n} agree on every check cell's verdict and every red cell (CHECK_FAILURES aside)")

    print("\n## 0. Headline: disagreement families (workbooks per engine, both formats)\n")
    print(
        _table(
            headline(run.verdict_disagreements, engines),
            ["cause", "where", "rule", "sheet shows", "check says", *engines],
        )
    )
    primary = pivot(run.verdict_disagreements, engines)
    print_pivot("1. Sheet vs check on the perturbed file (what the requirement forbids)", primary, args.limit)
    saved = [d for r in run.results for d in r.saved_disagreements if d.what != "text"]
    print("\n## 2a. Headline against check on the file as each engine saved it (cached results present)\n")
    print(
        _table(
            headline(saved, engines),
            ["cause", "where", "rule", "sheet shows", "check says", *engines],
        )
    )
    print_pivot(
        "2. Sheet vs check on the file as each engine saved it (cached results present)",
        pivot(saved, engines),
        args.limit,
    )
    eng = [d for r in run.results for d in r.engine_disagreements]
    print_pivot("3. LibreOffice vs Gnumeric on the same check cells", pivot(eng, engines), args.limit)
    print("\n## 4. Per perturbation kind (workbooks whose check-cell or red-cell disagreement it touches)\n")
    print(_table(kind_table(run), ["kind", "carried by", *[f"{e}" for e in engines], "expected"]))
    details = [d for d in run.disagreements if d.what == "text"]
    print_pivot("5. Details: both ✘, different text (差 or count)", pivot(details, engines), 25)
    if not args.no_probe:
        print("\n## 6. Single formulas in each engine (and how check's reader takes the input)\n")
        rows = semantics_probe(workdir / "probe", engines)
        print(
            _table(
                [[r.label, r.formula, *[r.shown.get(e, "") for e in engines], r.check] for r in rows],
                ["input / case", "formula", *engines, "check reads"],
            )
        )
    print("\n## 7. What survives the round trip (one workbook per format)\n")
    print(
        _table(
            structure_table(run),
            [
                "year",
                "file",
                "validations",
                "cond. formats",
                "protections",
                "array formulas",
                "cached results",
                "CHECK_FAILURES",
                "_meta sheet",
            ],
        )
    )
    if args.json:
        payload = {
            "cases": [c.describe() for c in cases],
            "seconds": run.seconds,
            "engines": {
                e: {"files": er.files, "seconds": er.seconds, "calls": er.calls} for e, er in run.engines.items()
            },
            "primary": primary,
            "saved": pivot(saved, engines),
            "engines_disagree": pivot(eng, engines),
            "disagreements": [
                {
                    "case": d.case,
                    "engine": d.engine,
                    "what": d.what,
                    "key": d.key,
                    "where": d.where,
                    "sheet": d.sheet_shows,
                    "check": d.check_says,
                    "category": d.category,
                    "perturbations": [p.describe() for p in d.perturbations],
                }
                for d in run.disagreements
            ],
        }
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
