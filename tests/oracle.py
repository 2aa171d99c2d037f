"""The verdict oracle: does the clerk's recalculated sheet say what ``check`` says?

"One verdict" (DESIGN.md): for any filled workbook, the check cells that fail in the sheet after
a spreadsheet program recalculates it are exactly the rule failures ``check`` reports (same rule,
same table, same row/column), and both name the same offending cells. This module makes that
testable on workbooks a clerk could really send:

1. **Cases as data.** A :class:`Case` is a base report (a consistent random report, optionally
   with one planted slip) plus 0-4 :class:`Perturbation` s — each a frozen record of *what was
   written where*: a number typed as text (ASCII ``"12"``, full-width ``"１２"``, padded
   ``" 12 "``, with a thousands separator ``"1,200"``), a blank, a negative, a decimal or a huge
   value in a count cell, an error value (``#REF!``, ``#DIV/0!``, ``#N/A``), a formula typed over
   an input (``=5+7``, ``=D8+1``), a constant typed over a computed total. :func:`case_strategy`
   draws them with hypothesis; :func:`draw_cases` collects a reproducible batch.
2. **Files.** :class:`Filler` loads the generated blank template once per format with openpyxl
   and, per case, writes the base values and the perturbations into the value cells and saves a
   new file (the one ``check`` reads). openpyxl keeps every formula, data validation,
   conditional format, protection, defined name and the very-hidden ``_meta`` sheet, but drops
   every cached formula result (it writes ``<f>`` without ``<v>``) and writes strings inline; so
   a spreadsheet program must recalculate, and a Python reader sees formula cells as empty.
   A second copy for the engines carries *probe* cells: for every input cell, the formula of
   each conditional format that colours it (red: R5 "bad value"; yellow: "covered by a failing
   check"), translated to that cell, so the engine itself tells which cells it would colour.
3. **Recalculate in batches** in two independent engines: LibreOffice (``tests/lo.py``, one
   ``soffice`` call per batch, recalc-on-load profile) and Gnumeric (``ssconvert --recalc``; it
   converts exactly one file per process, so files are spread over worker threads).
4. **Read the sheet's verdict** (:func:`sheet_verdict`) from each recalculated file with a small
   XML reader of our own (independent of python-calamine, which shows error values as ``""``):
   every check cell's displayed value, CHECK_FAILURES, the summary line and the probe cells.
5. **Read check's verdict** (:func:`check_verdict`): ``read_workbook`` on the same file, its rule
   issues (R1-R5) mapped back to check keys, the cells they name.
6. **Compare** (:func:`compare`): one :class:`Disagreement` per check key, count cell, or
   coloured cell on which the two differ, with the perturbations that touch it and a category
   string for the report (:func:`summarise`).

Everything is usable from a script (``scripts/verdict_report.py``) and from tests
(``tests/test_verdict.py``)::

    cases = draw_cases(2024, 200, seed=0)
    run = run_cases(cases, tmp_path)            # files, both engines, verdicts, disagreements
    assert not run.disagreements, summarise(run.disagreements)
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import iterparse

import openpyxl
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import range_boundaries

from tests.lo import SOFFICE
from tests.lo import convert as lo_convert
from xls_gongkai.numbers import Value, format_number
from xls_gongkai.reading.reader import read_workbook
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import Check, computed_cells, evaluate, expand, with_totals
from xls_gongkai.sample import random_report
from xls_gongkai.spec import CellKey, CellKind, Each, Format, RuleKind, get_format
from xls_gongkai.workbook import formulas as excel
from xls_gongkai.workbook.layout import Layout, a1, layout_for
from xls_gongkai.workbook.writer import write_workbook

SSCONVERT = shutil.which("ssconvert")

#: (rule id, table id, row or column id or "", equation index) — ``Check.key``
CheckKey = tuple[str, str, str, int]

#: Report years that select each built-in format: 2020 → 2019 trial format, 2024 → 2021 revision.
YEARS = (2020, 2024)

LIBREOFFICE = "LibreOffice"
GNUMERIC = "Gnumeric"
ENGINES = (LIBREOFFICE, GNUMERIC)


def available_engines() -> tuple[str, ...]:
    """The engines installed here (``soffice`` and/or ``ssconvert`` on PATH)."""
    return tuple(e for e, exe in ((LIBREOFFICE, SOFFICE), (GNUMERIC, SSCONVERT)) if exe)


# --------------------------------------------------------------------------- perturbations

TEXT_ASCII = "text-ascii"  # "12"
TEXT_FULLWIDTH = "text-fullwidth"  # "１２"
TEXT_PADDED = "text-padded"  # " 12 "
TEXT_THOUSANDS = "text-thousands"  # "1,200"
BLANK = "blank"  # the value deleted
NEGATIVE = "negative"  # -3
DECIMAL = "decimal"  # 2.5 in a count cell
HUGE = "huge"  # 1e12 (or 1e16, beyond 2**53) in a count cell
ERROR = "error"  # #REF!, #DIV/0!, #N/A typed in (an error-typed cell)
FORMULA_CONST = "formula-const"  # =5+7 over an input
FORMULA_REF = "formula-ref"  # =D8+1 over an input, D8 another input of the sheet
TOTAL_TYPED = "total-typed"  # a constant typed over a computed total, unequal to the sum

KINDS = (
    TEXT_ASCII,
    TEXT_FULLWIDTH,
    TEXT_PADDED,
    TEXT_THOUSANDS,
    BLANK,
    NEGATIVE,
    DECIMAL,
    HUGE,
    ERROR,
    FORMULA_CONST,
    FORMULA_REF,
    TOTAL_TYPED,
)
TEXT_KINDS = frozenset({TEXT_ASCII, TEXT_FULLWIDTH, TEXT_PADDED, TEXT_THOUSANDS})
FORMULA_KINDS = frozenset({FORMULA_CONST, FORMULA_REF})
ERROR_VALUES = ("#REF!", "#DIV/0!", "#N/A")
HUGE_VALUES = (10**12, 10**16)

_FULLWIDTH = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


@dataclass(frozen=True)
class Perturbation:
    """One thing a clerk did to one cell: ``written`` is exactly what was put into it.

    ``written`` is ``None`` for a blank, a ``str`` for text, an error value (``"#REF!"``: openpyxl
    stores a string that is an error code as an error-typed cell) or a formula (``"=5+7"``), else
    a number. ``key`` is the value cell's (table, row, column); ``sheet``/``cell`` where it sits.
    ``value`` is what the text or formula means as a number (``"１２"`` → 12), None when nothing.
    """

    kind: str
    key: CellKey
    sheet: str
    cell: str
    written: object
    value: Value | None = None
    refers_to: CellKey | None = None  # formula-ref: the other input it reads

    def describe(self) -> str:
        return f"{self.sheet}!{self.cell}={self.written!r} ({self.kind})"


@dataclass(frozen=True)
class Case:
    """A base report (seed, optional slip) and the perturbations applied to its workbook."""

    year: int
    seed: int
    slip: tuple[CellKey, int] | None = None  # an input cell and the amount added to it
    perturbations: tuple[Perturbation, ...] = ()
    name: str = ""

    @property
    def format(self) -> Format:
        return get_format(self.year)

    def report(self) -> Report:
        """The base report as the writer would fill it (totals recomputed after the slip)."""
        return base_report(self.year, self.seed, self.slip)

    def describe(self) -> str:
        slip = f" slip {self.slip[0]}+{self.slip[1]}" if self.slip else ""
        ps = "; ".join(p.describe() for p in self.perturbations) or "no perturbation"
        return f"{self.name or '?'} (year {self.year}, seed {self.seed}{slip}): {ps}"


@cache
def _base(year: int, seed: int) -> Report:
    import random

    fmt = get_format(year)
    return random_report(fmt, Unit("410102001", "城关镇"), year, random.Random(seed))


def base_report(year: int, seed: int, slip: tuple[CellKey, int] | None = None) -> Report:
    rep = _base(year, seed)
    if slip is None:
        return rep
    values = dict(rep.values)
    values[slip[0]] = values.get(slip[0], 0) + slip[1]
    return replace(rep, values=with_totals(rep.format, values))


@cache
def input_keys(year: int) -> tuple[CellKey, ...]:
    """Numeric input cells of the year's format (computed totals and text cells excluded)."""
    fmt = get_format(year)
    computed = computed_cells(fmt)
    return tuple(
        k for k in fmt.cells() if k not in computed and fmt.table(k[0]).cell_kind(k[1], k[2]) is not CellKind.TEXT
    )


@cache
def total_keys(year: int) -> tuple[CellKey, ...]:
    return tuple(computed_cells(get_format(year)))


def _kind(year: int, key: CellKey) -> CellKind:
    return get_format(year).table(key[0]).cell_kind(key[1], key[2])


def _candidates(year: int, kind: str) -> tuple[CellKey, ...]:
    if kind == TOTAL_TYPED:
        return total_keys(year)
    keys = input_keys(year)
    if kind in (DECIMAL, HUGE):
        return tuple(k for k in keys if _kind(year, k) is CellKind.COUNT)
    return keys


def _number_text(v: Value) -> str:
    return format_number(v)


def make_perturbation(
    year: int, kind: str, key: CellKey, current: Value, param: Any = None, refers_to: CellKey | None = None
) -> Perturbation:
    """The perturbation of ``kind`` at ``key`` whose cell now holds ``current``.

    ``param`` chooses among variants: for text kinds the number to write (default: the cell's
    own value, so only its *type* changes), for negatives the magnitude, for decimals and
    huge values the value, for errors the error code, for a typed-over total the (non-zero)
    amount added to the sum.
    """
    pos = layout_for(get_format(year)).pos(*key)
    n: Value = current if param is None else param
    written: object
    value: Value | None
    if kind == TEXT_ASCII:
        written, value = _number_text(n), n
    elif kind == TEXT_FULLWIDTH:
        written, value = _number_text(n).translate(_FULLWIDTH), n
    elif kind == TEXT_PADDED:
        written, value = f" {_number_text(n)} ", n
    elif kind == TEXT_THOUSANDS:
        n = param if param is not None else max(int(current), 1000) + 200
        written, value = f"{n:,}", n
    elif kind == BLANK:
        written, value = None, None
    elif kind == NEGATIVE:
        m = param if param is not None else 3
        written, value = -m, -m
    elif kind == DECIMAL:
        d = param if param is not None else Decimal("2.5")
        written, value = float(d), Decimal(str(d))
    elif kind == HUGE:
        h = param if param is not None else HUGE_VALUES[0]
        written, value = h, h
    elif kind == ERROR:
        written, value = (param or ERROR_VALUES[0]), None
    elif kind == FORMULA_CONST:
        a, b = param if param is not None else (5, 7)
        written, value = f"={a}+{b}", a + b
    elif kind == FORMULA_REF:
        if refers_to is None:
            raise ValueError("formula-ref needs the cell it refers to")
        ref = layout_for(get_format(year)).pos(*refers_to)
        if ref.sheet != pos.sheet:
            raise ValueError("formula-ref refers to a cell of the same sheet")
        written, value = f"={ref.a1}+1", None
    elif kind == TOTAL_TYPED:
        delta = param if param is not None else 7
        if not delta:
            raise ValueError("a typed-over total differs from the sum")
        written = int(current + delta) if isinstance(current, int) else float(current + delta)
        value = current + delta
    else:
        raise ValueError(f"unknown perturbation kind {kind!r}")
    return Perturbation(kind, key, pos.sheet, pos.a1, written, value, refers_to)


@st.composite
def case_strategy(draw: st.DrawFn, year: int, max_perturbations: int = 4) -> Case:
    """A :class:`Case`: a random consistent report, maybe one slip, 0-``max_perturbations``
    perturbations at distinct random cells (inputs, or computed totals for ``total-typed``)."""
    seed = draw(st.integers(0, 2**31 - 1), label="seed")
    slip = None
    if draw(st.integers(0, 3), label="slip?") == 0:
        slip = (draw(st.sampled_from(input_keys(year))), draw(st.integers(1, 9)))
    values = base_report(year, seed, slip).values
    n = draw(st.integers(0, max_perturbations), label="perturbations")
    used: set[CellKey] = set()
    out: list[Perturbation] = []
    for _ in range(n):
        kind = draw(st.sampled_from(KINDS))
        cells = [k for k in _candidates(year, kind) if k not in used]
        key = draw(st.sampled_from(cells))
        used.add(key)
        current = values.get(key, 0)
        param: Any = None
        refers: CellKey | None = None
        if kind in (TEXT_ASCII, TEXT_FULLWIDTH, TEXT_PADDED):
            # Mostly the cell's own number (only its type changes), sometimes another one.
            if draw(st.integers(0, 3)) == 0:
                param = draw(st.integers(0, 999))
        elif kind == TEXT_THOUSANDS:
            param = draw(st.integers(1000, 999_999))
        elif kind == NEGATIVE:
            param = draw(st.integers(1, 50))
        elif kind == DECIMAL:
            param = Decimal(draw(st.integers(0, 99))) + Decimal("0.5")
        elif kind == HUGE:
            param = draw(st.sampled_from(HUGE_VALUES))
        elif kind == ERROR:
            param = draw(st.sampled_from(ERROR_VALUES))
        elif kind == FORMULA_CONST:
            param = (draw(st.integers(0, 50)), draw(st.integers(0, 50)))
        elif kind == FORMULA_REF:
            sheet = layout_for(get_format(year)).pos(*key).sheet
            lay = layout_for(get_format(year))
            # Another input of the sheet, not itself a formula (no circular references).
            formula_cells = {p.key for p in out if p.kind in FORMULA_KINDS}
            others = [k for k in input_keys(year) if k != key and lay.pos(*k).sheet == sheet and k not in formula_cells]
            refers = draw(st.sampled_from(others))
        elif kind == TOTAL_TYPED:
            param = draw(st.integers(-50, 50).filter(bool))
        out.append(make_perturbation(year, kind, key, current, param, refers))
    # A later formula-ref must not be referred to by an earlier one (A=B+1, B=A+1).
    for i, p in enumerate(out):
        if p.kind in FORMULA_KINDS and any(q.refers_to == p.key for q in out[:i]):
            out[i] = make_perturbation(year, FORMULA_CONST, p.key, values.get(p.key, 0), (1, 2))
    return Case(year, seed, slip, tuple(out))


@contextmanager
def _no_local_constants() -> Iterator[None]:
    """Hypothesis (6.131 on) also draws literal constants it finds in every *loaded* local
    module, so one seed gives other cases in a full test run than in a script. Switch that off
    while drawing, so that a seed means the same cases everywhere (a no-op on a hypothesis
    without it)."""
    try:
        from hypothesis.internal.conjecture import providers

        empty = providers.Constants()
        cache = providers.CONSTANTS_CACHE
        saved = providers._get_local_constants
    except (ImportError, AttributeError):  # pragma: no cover - older or newer hypothesis
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = saved
        cache.cache.clear()


def draw_cases(year: int, n: int, seed: int = 0, max_perturbations: int = 4) -> list[Case]:
    """``n`` distinct cases for ``year``, drawn by hypothesis reproducibly from ``seed``.

    Hypothesis is used as the generator (its examples are varied and include the simple edge
    cases first), not as the test runner: recalculating a workbook costs a spreadsheet
    program's time, so the whole batch is drawn first and recalculated together.
    """
    out: list[Case] = []
    seen: set[Case] = set()
    round_ = 0
    while len(out) < n and round_ < 20:
        # Every round starts with hypothesis's simplest example (seed 0, nothing perturbed),
        # a duplicate after the first round: ask for a few more than are missing.
        @settings(
            max_examples=n - len(out) + (10 if round_ else 0),
            database=None,
            phases=[Phase.generate],
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis_seed(seed * 1000 + round_)
        @given(case_strategy(year, max_perturbations))
        def collect(case: Case) -> None:
            if case not in seen and len(out) < n:
                seen.add(case)
                out.append(case)

        with _no_local_constants():
            collect()
        round_ += 1
    return [replace(c, name=f"y{year}_{seed}_{i:04d}") for i, c in enumerate(out)]


def catalogue(year: int, seed: int = 7) -> dict[str, Case]:
    """One deterministic case per situation: ``"consistent"``, ``"slip"``, and one per kind.

    Each kind is applied to a 表三 count cell whose value is not 0 (so that reading it as 0
    changes an equation); text kinds and formulas keep the cell's own number (``=N-1+1``, or
    ``=D8+1`` where D8 holds N-1); a typed-over total is a 表三 total that is not 0.
    """
    rep = base_report(year, seed)
    v = rep.values
    inputs = [k for k in input_keys(year) if k[0] == "t3" and v.get(k, 0) not in (0, None)]
    totals = [k for k in total_keys(year) if k[0] == "t3" and v.get(k, 0)]
    target = inputs[0]
    # Formulas that evaluate to the cell's own number: the sheet's equations still hold.
    ref_target, ref_other = next(
        (a, b) for a in inputs for b in input_keys(year) if b[0] == "t3" and b != a and v.get(b, 0) + 1 == v[a]
    )
    out = {
        "consistent": Case(year, seed, name=f"y{year}_consistent"),
        "slip": Case(year, seed, (target, 3), name=f"y{year}_slip"),
    }
    params: dict[str, Any] = {
        TEXT_THOUSANDS: 1200,
        NEGATIVE: 3,
        HUGE: HUGE_VALUES[0],
        ERROR: "#REF!",
        FORMULA_CONST: (int(v[target]) - 1, 1),
    }
    for kind in KINDS:
        key = totals[0] if kind == TOTAL_TYPED else ref_target if kind == FORMULA_REF else target
        p = make_perturbation(
            year, kind, key, v.get(key, 0), params.get(kind), ref_other if kind == FORMULA_REF else None
        )
        out[kind] = Case(year, seed, None, (p,), name=f"y{year}_{kind}")
    return out


# --------------------------------------------------------------------------- making the files


#: Probe cells stand below the cell whose colour they compute, in the same column: the probe
#: of the sheet's ``slot``-th conditional-format rule ``(slot + 1) * PROBE_ROWS`` rows down (a
#: cell coloured by several rules has one probe per rule). Every sheet ends above that row.
PROBE_ROWS = 200

RED = "red"  # the R5 conditional format: a value that breaks its cell's kind
YELLOW = "yellow"  # the cells covered by a failing check


@dataclass(frozen=True)
class Probe:
    colour: str
    sheet: str
    row: int  # 0-based, of the coloured cell
    col: int
    formula: str  # the conditional format's formula translated to the cell (without "=")
    slot: int = 0  # which rule of the sheet

    @property
    def at(self) -> tuple[str, int, int]:
        return (self.sheet, self.row + (self.slot + 1) * PROBE_ROWS, self.col)


def _classify(formula: str) -> str | None:
    """Red: the R5 "bad value" rule; yellow: ``LEFT($K7,1)="✘"`` (a check cell of the row or
    column fails). The ✔/✘ colours of the check cells themselves are "begins with" rules."""
    if "ISBLANK(" in formula:
        return RED
    if formula.startswith("LEFT(") and "$" in formula and f'="{excel.FAIL}"' in formula:
        return YELLOW
    return None


def conditional_probes(wb: Any, lay: Layout) -> list[Probe]:
    """The red and yellow conditional formats of the data sheets, one probe per cell they cover.

    The formula of a rule is relative to the top-left cell of its first range (how Excel,
    LibreOffice and Gnumeric anchor it); :class:`openpyxl.formula.translate.Translator` moves
    it to each cell, as the engine does when it decides that cell's colour.
    """
    probes: list[Probe] = []
    for sheet in lay.data_sheets:
        ws = wb[sheet]
        slot = -1
        for cf in ws.conditional_formatting:
            ranges = [r.coord for r in cf.sqref.ranges]
            for rule in cf.rules:
                if rule.type != "expression" or not rule.formula:
                    continue
                colour = _classify(rule.formula[0])
                if colour is None:
                    continue
                slot += 1
                c0, r0, _c1, _r1 = range_boundaries(ranges[0])
                origin = f"{openpyxl.utils.get_column_letter(c0)}{r0}"
                for rng in ranges:
                    cmin, rmin, cmax, rmax = range_boundaries(rng)
                    for r in range(rmin, rmax + 1):
                        for c in range(cmin, cmax + 1):
                            dest = f"{openpyxl.utils.get_column_letter(c)}{r}"
                            f = Translator("=" + rule.formula[0], origin=origin).translate_formula(dest)
                            probes.append(Probe(colour, sheet, r - 1, c - 1, f[1:], slot))
    at = [p.at for p in probes]
    if len(set(at)) != len(at) or max(tl.bottom for tl in lay.tables.values()) >= PROBE_ROWS:
        raise AssertionError("probe cells collide, or a sheet reaches the probe rows")
    return probes


class Filler:
    """Writes case workbooks from one generated template per format, with openpyxl.

    The blank template is written once by the project's writer and loaded once; per case every
    input cell gets the base report's value, every total its formula back, then the case's
    perturbations are applied and the workbook is saved under a new name. This is the same
    as loading a freshly written filled workbook and changing its cells (openpyxl drops every
    cached result either way) at a third of the cost.
    """

    def __init__(self, year: int, workdir: Path) -> None:
        self.year = year
        self.fmt = get_format(year)
        self.lay = layout_for(self.fmt)
        workdir.mkdir(parents=True, exist_ok=True)
        self.template = write_workbook(
            workdir / f"template_{year}.xlsx", Report(Unit("410102001", "城关镇"), year, self.fmt)
        )
        self.wb = openpyxl.load_workbook(self.template)
        self.computed = computed_cells(self.fmt)
        self.formulas: dict[CellKey, object] = {}
        for key in self.computed:
            pos = self.lay.pos(*key)
            self.formulas[key] = self.wb[pos.sheet].cell(pos.row + 1, pos.col + 1).value
        self.probes = conditional_probes(self.wb, self.lay)

    def _cell(self, key: CellKey) -> Any:
        pos = self.lay.pos(*key)
        return self.wb[pos.sheet].cell(pos.row + 1, pos.col + 1)

    def fill(self, case: Case, path: Path, engine_copy: Path | None = None) -> None:
        """Save ``case`` to ``path`` (for check) and, with probe cells, to ``engine_copy``."""
        if case.year != self.year:
            raise ValueError("case of another year")
        report = case.report()
        for key in input_keys(self.year):
            v = report.values.get(key)
            self._cell(key).value = float(v) if isinstance(v, Decimal) else v
        for key, formula in self.formulas.items():
            self._cell(key).value = formula
        for p in case.perturbations:
            self._cell(p.key).value = p.written
        self.wb.save(path)
        if engine_copy is not None:
            placed = []
            for probe in self.probes:
                s, r, c = probe.at
                cell = self.wb[s].cell(r + 1, c + 1)
                cell.value = f"=IF({probe.formula},1,0)"
                placed.append((s, r + 1, c + 1))
            self.wb.save(engine_copy)
            for s, r, c in placed:
                self.wb[s]._cells.pop((r, c), None)


# --------------------------------------------------------------------------- recalculation


@dataclass
class EngineRun:
    engine: str
    outputs: dict[str, Path] = field(default_factory=dict)  # case name -> recalculated file
    failed: dict[str, str] = field(default_factory=dict)  # case name -> why no output
    seconds: float = 0.0  # busy time of the engine's processes (summed over workers)
    files: int = 0
    calls: int = 0


def recalc_libreoffice(paths: Sequence[Path], outdir: Path, run: EngineRun, timeout: float = 900) -> None:
    """One ``soffice`` call (recalc-on-load profile) converts all ``paths`` to ``outdir``."""
    t = time.perf_counter()
    try:
        outs = lo_convert(paths, "xlsx", outdir, recalc=True, timeout=timeout)
        for p, o in zip(paths, outs, strict=True):
            run.outputs[p.stem] = o
    except Exception as exc:  # a batch that fails is recorded per file, never lost silently
        for p in paths:
            o = outdir / f"{p.stem}.xlsx"
            if o.exists():
                run.outputs[p.stem] = o
            else:
                run.failed[p.stem] = f"LibreOffice: {exc}"[:300]
    run.seconds += time.perf_counter() - t
    run.files += len(paths)
    run.calls += 1


def recalc_gnumeric(path: Path, outdir: Path, run: EngineRun, timeout: float = 120) -> None:
    """``ssconvert --recalc in.xlsx out.xlsx`` (one file per process: ssconvert has no batch
    mode; ``-M`` merges many files into one workbook, which is not what we want)."""
    assert SSCONVERT is not None
    out = outdir / f"{path.stem}.xlsx"
    out.unlink(missing_ok=True)
    t = time.perf_counter()
    try:
        proc = subprocess.run(
            [SSCONVERT, "--recalc", str(path), str(out)], capture_output=True, text=True, timeout=timeout, check=False
        )
        if out.exists():
            run.outputs[path.stem] = out
        else:
            run.failed[path.stem] = f"ssconvert exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    except subprocess.TimeoutExpired:
        run.failed[path.stem] = "ssconvert timed out"
    run.seconds += time.perf_counter() - t
    run.files += 1
    run.calls += 1


# --------------------------------------------------------------------------- reading cells


@dataclass(frozen=True)
class ErrorValue:
    """An error value as a cell shows it (``#VALUE!``)."""

    code: str

    def __str__(self) -> str:
        return self.code


Shown = str | float | bool | ErrorValue | None

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    rels = {}
    for _ev, el in iterparse(z.open("xl/_rels/workbook.xml.rels")):
        if el.tag == f"{_PKG_REL}Relationship":
            target = el.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            rels[el.get("Id")] = target
    out = {}
    for _ev, el in iterparse(z.open("xl/workbook.xml")):
        if el.tag == f"{_MAIN}sheet":
            out[el.get("name", "")] = rels.get(el.get(f"{_REL}id", ""), "")
    return out


def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in z.namelist():
        return []
    out: list[str] = []
    for _ev, el in iterparse(z.open("xl/sharedStrings.xml")):
        if el.tag == f"{_MAIN}si":
            out.append("".join(t.text or "" for t in el.iter(f"{_MAIN}t")))
            el.clear()
    return out


def read_cells(path: Path, wanted: Mapping[str, Iterable[tuple[int, int]]]) -> dict[tuple[str, int, int], Shown]:
    """The displayed values of the ``wanted`` cells ({sheet: [(row, col)]}, 0-based).

    What a cell shows: a string, a number (float), a bool, an :class:`ErrorValue`, or None
    (empty, or a formula without a stored result). Reads the sheet XML directly, so error
    values keep their code.
    """
    out: dict[tuple[str, int, int], Shown] = {}
    with zipfile.ZipFile(path) as z:
        parts = _sheet_parts(z)
        sst = _shared_strings(z)
        for sheet, cells in wanted.items():
            want = {a1(r, c): (r, c) for r, c in cells}
            for r, c in want.values():
                out[(sheet, r, c)] = None
            part = parts.get(sheet)
            if not part or part not in z.namelist():
                continue
            for _ev, el in iterparse(z.open(part)):
                if el.tag != f"{_MAIN}c":
                    if el.tag == f"{_MAIN}row":
                        el.clear()
                    continue
                ref = el.get("r", "")
                if ref in want:
                    out[(sheet, *want[ref])] = _cell_value(el, sst)
    return out


def _cell_value(el: Any, sst: Sequence[str]) -> Shown:
    t = el.get("t", "n")
    v = el.find(f"{_MAIN}v")
    text = v.text if v is not None else None
    if t == "inlineStr":
        return "".join(x.text or "" for x in el.iter(f"{_MAIN}t"))
    if text is None or text == "":
        return None
    if t == "s":
        return sst[int(text)]
    if t in ("str", "inlineStr"):
        return text
    if t == "e":
        return ErrorValue(text)
    if t == "b":
        return text == "1"
    return float(text)


# --------------------------------------------------------------------------- verdicts


def shown_text(v: Shown) -> str:
    if v is None:
        return "(empty)"
    if isinstance(v, float):
        return format_number(Decimal(repr(v))) if v == v else "NaN"
    return str(v)


def state(v: Shown) -> str:
    """A check cell's verdict: ✔, ✘, or the error value / "(empty)" it shows instead."""
    if v == excel.PASS:
        return "✔"
    if isinstance(v, str) and v.startswith(excel.FAIL):
        return "✘"
    return shown_text(v)


@dataclass(frozen=True)
class SheetVerdict:
    """What an engine shows after recalculating: check cells, the count, the colours."""

    engine: str
    shown: Mapping[CheckKey, Shown]
    failures: Shown  # the CHECK_FAILURES cell
    summary: Shown  # 共 N 项校验，X 项未通过
    red: frozenset[tuple[str, str]]  # (sheet, A1) the engine would colour red (R5)
    yellow: frozenset[tuple[str, str]]  # (sheet, A1) coloured as covered by a failing check
    probe_errors: Mapping[tuple[str, str], Shown] = field(default_factory=dict)  # probe → error

    @property
    def failing(self) -> frozenset[CheckKey]:
        """Every check cell that does not show exactly ✔ (error values and blanks included)."""
        return frozenset(k for k, v in self.shown.items() if v != excel.PASS)


def sheet_verdict(path: Path, year: int, engine: str, probes: Sequence[Probe] = ()) -> SheetVerdict:
    lay = layout_for(get_format(year))
    wanted: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for pos in lay.checks.values():
        wanted[pos.sheet].add((pos.row, pos.col))
    for pos in (lay.failures_cell, lay.summary_cell):
        wanted[pos.sheet].add((pos.row, pos.col))
    for pr in probes:
        s, r, c = pr.at
        wanted[s].add((r, c))
    cells = read_cells(path, wanted)
    shown = {k: cells[(p.sheet, p.row, p.col)] for k, p in lay.checks.items()}
    fc, sc = lay.failures_cell, lay.summary_cell
    red: set[tuple[str, str]] = set()
    yellow: set[tuple[str, str]] = set()
    errors: dict[tuple[str, str], Shown] = {}
    for pr in probes:
        v = cells[pr.at]
        where = (pr.sheet, a1(pr.row, pr.col))
        if isinstance(v, float) and v == 1:
            (red if pr.colour == RED else yellow).add(where)
        elif not (isinstance(v, float) and v == 0):
            errors[where] = v
    return SheetVerdict(
        engine,
        shown,
        cells[(fc.sheet, fc.row, fc.col)],
        cells[(sc.sheet, sc.row, sc.col)],
        frozenset(red),
        frozenset(yellow),
        errors,
    )


@cache
def _issue_index(year: int) -> Mapping[tuple[str, str, str, str], CheckKey]:
    """(rule, table, row, column) as an equation check's issue names them → the check key."""
    out: dict[tuple[str, str, str, str], CheckKey] = {}
    for check in expand(get_format(year)):
        if not check.in_sheet or check.rule.kind is RuleKind.CELLS:
            continue
        _t, first_r, first_c = (check.leaf_keys(check.lhs) + check.leaf_keys(check.rhs))[0]
        row = first_r if check.rule.each is Each.COLUMN else check.index
        col = check.index if check.rule.each is Each.COLUMN else first_c
        k = (check.rule.id, check.table.id, row, col)
        if k in out:
            raise AssertionError(f"two checks give the same issue location {k}")
        out[k] = check.key
    return out


@cache
def _r5_key(year: int) -> Mapping[str, CheckKey]:
    return {c.table.id: c.key for c in expand(get_format(year)) if c.in_sheet and c.rule.kind is RuleKind.CELLS}


@dataclass(frozen=True)
class CheckVerdict:
    """What ``check`` (``read_workbook``) says about a file."""

    failing: frozenset[CheckKey]
    red: frozenset[tuple[str, str]]  # cells R5 issues name
    yellow: frozenset[tuple[str, str]]  # cells the R1-R4 issues name
    texts: Mapping[CheckKey, str]  # what each check cell would show for check's numbers
    other: Mapping[tuple[str, str], tuple[str, ...]]  # (sheet, A1) → codes of its non-rule issues
    count: int  # failing in-sheet checks (check's CHECK_FAILURES)


def check_verdict(path: Path, year: int) -> CheckVerdict:
    fmt = get_format(year)
    result = read_workbook(path)
    idx, r5 = _issue_index(year), _r5_key(year)
    failing: set[CheckKey] = set()
    red: set[tuple[str, str]] = set()
    yellow: set[tuple[str, str]] = set()
    other: dict[tuple[str, str], list[str]] = defaultdict(list)
    for issue in result.issues:
        if issue.code == "R5":
            failing.add(r5[issue.table])
            red.add((issue.sheet, issue.cell))
        elif issue.code in ("R1", "R2", "R3", "R4"):
            failing.add(idx[(issue.code, issue.table, issue.row, issue.column)])
            yellow.update((issue.sheet, c) for c in issue.cells)
        elif issue.sheet and issue.cell:
            other[(issue.sheet, issue.cell)].append(issue.code)
    texts: dict[CheckKey, str] = {}
    report = result.report
    if report is not None:
        for check in expand(fmt):
            if check.in_sheet:
                texts[check.key] = excel.check_display(evaluate(check, report))
    return CheckVerdict(
        frozenset(failing),
        frozenset(red),
        frozenset(yellow),
        texts,
        {k: tuple(v) for k, v in other.items()},
        len(failing),
    )


# --------------------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Disagreement:
    """One place where an engine's sheet and ``check`` differ.

    ``what``: ``"check"`` (a check cell's verdict), ``"count"`` (CHECK_FAILURES), ``"red"`` /
    ``"yellow"`` (a cell coloured by one side only), ``"text"`` (both ✘ but a different 差 —
    not a verdict disagreement, reported apart).
    """

    case: str
    engine: str
    what: str
    key: CheckKey | None
    where: str  # sheet!A1 of the check cell or value cell
    sheet_shows: str
    check_says: str
    perturbations: tuple[Perturbation, ...]
    category: str


@cache
def _dependents(year: int) -> Mapping[CellKey, frozenset[CellKey]]:
    """Cell → every computed total that depends on it, directly or through other totals."""
    fmt = get_format(year)
    computed = computed_cells(fmt)
    direct: dict[CellKey, set[CellKey]] = defaultdict(set)
    for total, check in computed.items():
        for dep in check.leaf_keys(check.rhs):
            direct[dep].add(total)
    out: dict[CellKey, frozenset[CellKey]] = {}
    for key in fmt.cells():
        seen: set[CellKey] = set()
        todo = [key]
        while todo:
            for t in direct.get(todo.pop(), ()):
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        out[key] = frozenset(seen)
    return out


@cache
def _checks(year: int) -> Mapping[CheckKey, Check]:
    return {c.key: c for c in expand(get_format(year)) if c.in_sheet}


def touching(case: Case, key: CheckKey) -> tuple[Perturbation, ...]:
    """The perturbations whose cell (or a total computed from it) the check covers."""
    check = _checks(case.year)[key]
    deps = _dependents(case.year)
    if check.rule.kind is RuleKind.CELLS:
        return tuple(p for p in case.perturbations if p.key[0] == check.table.id and p.kind != TOTAL_TYPED)
    cells = set(check.leaf_keys(check.lhs) + check.leaf_keys(check.rhs))
    out = []
    for p in case.perturbations:
        affected = {p.key} | deps[p.key]
        if p.refers_to is not None:
            affected |= {p.refers_to} | deps[p.refers_to]
        if affected & cells:
            out.append(p)
    return tuple(out)


#: Kinds whose number both sides read alike (a blank is 0 in SUM and in check): when one of
#: these and another kind touch a disagreeing check, the other kind names the category.
SAME_MEANING = frozenset({BLANK, NEGATIVE, DECIMAL, HUGE})


def _kinds(ps: Iterable[Perturbation]) -> str:
    ks = sorted({p.kind for p in ps})
    return "+".join(ks) if ks else "no perturbation (base data)"


def _cause(ps: Sequence[Perturbation], same: frozenset[str] = SAME_MEANING) -> tuple[Perturbation, ...]:
    """The touching perturbations that can explain a difference (see :data:`SAME_MEANING`)."""
    gap = tuple(p for p in ps if p.kind not in same)
    return gap or tuple(ps)


def _notes(case: Case, ps: Iterable[Perturbation], cv: CheckVerdict) -> str:
    codes = sorted({c for p in ps for c in cv.other.get((p.sheet, p.cell), ())})
    return f" [check at the cell: {', '.join(codes)}]" if codes else ""


def compare(case: Case, sv: SheetVerdict, cv: CheckVerdict, *, cached: bool = False) -> list[Disagreement]:
    """Every difference between one engine's sheet and check's verdict on one case.

    ``cached``: check read a file with cached results (as the engine saved it), where a
    formula typed over an input reads as its number on both sides.
    """
    same = SAME_MEANING | FORMULA_KINDS if cached else SAME_MEANING
    lay = layout_for(case.format)
    out: list[Disagreement] = []
    for key, shown in sv.shown.items():
        s_fail = shown != excel.PASS
        c_fail = key in cv.failing
        ps = touching(case, key)
        pos = lay.checks[key]
        where = f"{pos.sheet}!{pos.a1}"
        rule = key[0]
        if s_fail != c_fail:
            ps = _cause(ps, same)
            cat = f"{_kinds(ps)}: sheet {rule} {state(shown)}, check {rule} {'✘' if c_fail else '✔'}{_notes(case, ps, cv)}"
            out.append(
                Disagreement(
                    case.name,
                    sv.engine,
                    "check",
                    key,
                    where,
                    shown_text(shown),
                    cv.texts.get(key, "?") if c_fail else excel.PASS,
                    ps,
                    cat,
                )
            )
        elif s_fail and isinstance(shown, str) and shown != cv.texts.get(key):
            ps = _cause(ps, same)
            cat = f"{_kinds(ps)}: both {rule} ✘, different text"
            out.append(Disagreement(case.name, sv.engine, "text", key, where, shown, cv.texts.get(key, "?"), ps, cat))
    fc = lay.failures_cell
    fwhere = f"{fc.sheet}!{fc.a1}"
    n_fail = len(sv.failing)
    count_cat = ""
    if not isinstance(sv.failures, float):  # an error value, empty, or text
        count_cat = f"{sv.engine}: CHECK_FAILURES shows {shown_text(sv.failures)}"
    elif int(sv.failures) != cv.count:
        count_cat = (
            f"{sv.engine}: CHECK_FAILURES = the sheet's failing check cells, ≠ check's count"
            if int(sv.failures) == n_fail
            else f"{sv.engine}: CHECK_FAILURES ≠ the sheet's failing check cells (cells not ✔ nor ✘ are not counted)"
        )
    if count_cat:
        shown_count = shown_text(sv.failures)
        out.append(
            Disagreement(
                case.name, sv.engine, "count", None, fwhere, shown_count, str(cv.count), case.perturbations, count_cat
            )
        )
    by_cell = {(p.sheet, p.cell): p for p in case.perturbations}
    disagreeing = [
        _checks(case.year)[d.key] for d in out if d.what == "check" and d.key is not None and d.key[0] != "R5"
    ]
    errors = [
        _checks(case.year)[k]
        for k, v in sv.shown.items()
        if k[0] != "R5" and v != excel.PASS and not (isinstance(v, str) and v.startswith(excel.FAIL))
    ]
    for colour, sheet_set, check_set in ((RED, sv.red, cv.red), (YELLOW, sv.yellow, cv.yellow)):
        for cell in sorted(sheet_set ^ check_set):
            p = by_cell.get(cell)
            ps: tuple[Perturbation, ...] = (p,) if p else ()
            in_sheet = cell in sheet_set
            sides = f"in sheet {'yes' if in_sheet else 'no'}, named by check {'no' if in_sheet else 'yes'}"
            if colour == RED:
                cat = f"{p.kind if p else 'unperturbed cell'}: R5 red {sides}"
            else:
                # A cell is yellow when a check covering it fails: a verdict disagreement on that
                # check shows up here again. Say so, rather than count it as a second finding.
                key = {ref: k for k, ref in lay.cell_refs.items()}.get((cell[0], cell[1]))
                follows = [ch for ch in disagreeing if key in ch.leaf_keys(ch.lhs) + ch.leaf_keys(ch.rhs)]
                errored = [ch for ch in errors if key in ch.leaf_keys(ch.lhs) + ch.leaf_keys(ch.rhs)]
                if follows:
                    ps = _cause(tuple(dict.fromkeys(q for ch in follows for q in touching(case, ch.key))), same)
                    rules = "/".join(sorted({ch.rule.id for ch in follows}))
                    cat = f"{_kinds(ps)}: yellow {sides} (follows the {rules} verdict disagreement)"
                elif errored and not in_sheet:
                    ps = _cause(tuple(dict.fromkeys(q for ch in errored for q in touching(case, ch.key))), same)
                    rules = "/".join(sorted({ch.rule.id for ch in errored}))
                    cat = (
                        f"{_kinds(ps)}: yellow {sides} (the {rules} check cell covering it shows an error value, "
                        'which the yellow rule LEFT(cell,1)="✘" does not match)'
                    )
                else:
                    cat = f"{p.kind if p else 'unperturbed cell'}: yellow {sides} (not explained by a verdict)"
            out.append(
                Disagreement(
                    case.name,
                    sv.engine,
                    colour,
                    None,
                    f"{cell[0]}!{cell[1]}",
                    "coloured" if in_sheet else "not coloured",
                    "named" if cell in check_set else "not named",
                    ps,
                    cat,
                )
            )
    return out


def compare_engines(case: Case, a: SheetVerdict, b: SheetVerdict) -> list[Disagreement]:
    """Check cells (and the count) on which two engines show different verdicts or texts."""
    lay = layout_for(case.format)
    out = []
    for key, va in a.shown.items():
        vb = b.shown[key]
        if va != vb:
            pos = lay.checks[key]
            ps = touching(case, key)  # every kind: "same meaning" is about sheet vs check
            cat = f"{_kinds(ps)}: {a.engine} {key[0]} {state(va)}, {b.engine} {key[0]} {state(vb)}"
            if state(va) == state(vb):
                cat += " (texts differ)"
            out.append(
                Disagreement(
                    case.name,
                    f"{a.engine}≠{b.engine}",
                    "engines",
                    key,
                    f"{pos.sheet}!{pos.a1}",
                    shown_text(va),
                    shown_text(vb),
                    ps,
                    cat,
                )
            )
    return out


# --------------------------------------------------------------------------- one run


@dataclass
class CaseResult:
    case: Case
    path: Path  # the file check reads
    check: CheckVerdict
    sheets: dict[str, SheetVerdict] = field(default_factory=dict)  # engine → verdict
    check_saved: dict[str, CheckVerdict] = field(default_factory=dict)  # check on the engine's file
    disagreements: list[Disagreement] = field(default_factory=list)
    saved_disagreements: list[Disagreement] = field(default_factory=list)
    engine_disagreements: list[Disagreement] = field(default_factory=list)


@dataclass
class Run:
    results: list[CaseResult]
    engines: dict[str, EngineRun]
    seconds: float
    prepare_seconds: float

    @property
    def disagreements(self) -> list[Disagreement]:
        return [d for r in self.results for d in r.disagreements]

    @property
    def verdict_disagreements(self) -> list[Disagreement]:
        """The disagreements the requirement forbids (texts of two ✘ aside)."""
        return [d for d in self.disagreements if d.what != "text"]

    @property
    def missing(self) -> list[str]:
        return [f"{e.engine}: {name}: {why}" for e in self.engines.values() for name, why in e.failed.items()]


def run_cases(
    cases: Sequence[Case],
    workdir: Path,
    engines: Sequence[str] | None = None,
    *,
    lo_processes: int = 2,
    gn_processes: int = 1,
    lo_batch: int = 50,
    check_saved: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Run:
    """Make every case's files, recalculate them in each engine, read and compare verdicts.

    Files are written in the calling thread. Every ``lo_batch`` files make one LibreOffice call
    (``soffice`` start-up is ~1.4 s), up to ``lo_processes`` calls at a time; Gnumeric converts
    each file in its own ``ssconvert`` process as soon as it is written, ``gn_processes`` at a
    time. The calling thread then reads each engine's results as they arrive, so on a 2-core
    machine both cores stay busy. ``check_saved`` also runs check on each engine's saved file
    (cached results present, as in a workbook the clerk's own program saved).
    """
    t0 = time.perf_counter()
    engines = tuple(engines if engines is not None else available_engines())
    workdir.mkdir(parents=True, exist_ok=True)
    filled, to_engine = workdir / "filled", workdir / "engine_in"
    filled.mkdir(exist_ok=True)
    to_engine.mkdir(exist_ok=True)
    outdirs = {e: workdir / f"out_{e.lower()}" for e in engines}
    for d in outdirs.values():
        d.mkdir(exist_ok=True)
    runs = {e: EngineRun(e) for e in engines}
    fillers: dict[int, Filler] = {}
    lo_pool = ThreadPoolExecutor(lo_processes, thread_name_prefix="lo") if LIBREOFFICE in engines else None
    gn_pool = ThreadPoolExecutor(gn_processes, thread_name_prefix="gn") if GNUMERIC in engines else None
    futures: dict[Future[None], tuple[str, list[str]]] = {}  # → engine, case names
    pending_lo: list[Path] = []
    paths: dict[str, Path] = {}
    lock = threading.Lock()

    def lo_job(batch: list[Path]) -> None:
        run = EngineRun(LIBREOFFICE)
        recalc_libreoffice(batch, outdirs[LIBREOFFICE], run)
        with lock:
            _merge(runs[LIBREOFFICE], run)

    def gn_job(p: Path) -> None:
        run = EngineRun(GNUMERIC)
        recalc_gnumeric(p, outdirs[GNUMERIC], run)
        with lock:
            _merge(runs[GNUMERIC], run)

    def submit_lo() -> None:
        if lo_pool is not None and pending_lo:
            batch = list(pending_lo)
            futures[lo_pool.submit(lo_job, batch)] = (LIBREOFFICE, [p.stem for p in batch])
            pending_lo.clear()

    tp = time.perf_counter()
    for i, case in enumerate(cases):
        if case.year not in fillers:
            fillers[case.year] = Filler(case.year, workdir / "templates")
        path, eng = filled / f"{case.name}.xlsx", to_engine / f"{case.name}.xlsx"
        fillers[case.year].fill(case, path, eng)
        paths[case.name] = path
        if lo_pool is not None:
            pending_lo.append(eng)
            if len(pending_lo) >= lo_batch:
                submit_lo()
        if gn_pool is not None:
            futures[gn_pool.submit(gn_job, eng)] = (GNUMERIC, [case.name])
        if progress and (i + 1) % 50 == 0:
            progress(f"written {i + 1}/{len(cases)}")
    submit_lo()
    prepare = time.perf_counter() - tp
    results = {c.name: CaseResult(c, paths[c.name], check_verdict(paths[c.name], c.year)) for c in cases}
    for fut in as_completed(futures):
        fut.result()
        engine, names = futures[fut]
        for name in names:
            res = results[name]
            with lock:
                out = runs[engine].outputs.get(name)
            if out is None:
                continue
            sv = sheet_verdict(out, res.case.year, engine, fillers[res.case.year].probes)
            res.sheets[engine] = sv
            res.disagreements += compare(res.case, sv, res.check)
            if check_saved:
                cs = check_verdict(out, res.case.year)
                res.check_saved[engine] = cs
                res.saved_disagreements += compare(res.case, sv, cs, cached=True)
            if len(res.sheets) == 2:
                a, b = (res.sheets[e] for e in engines)
                res.engine_disagreements += compare_engines(res.case, a, b)
        if progress and engine == LIBREOFFICE:
            progress(f"{engine}: batch of {len(names)} read")
    for pool in (lo_pool, gn_pool):
        if pool is not None:
            pool.shutdown()
    return Run([results[c.name] for c in cases], runs, time.perf_counter() - t0, prepare)


def _merge(into: EngineRun, part: EngineRun) -> None:
    into.outputs.update(part.outputs)
    into.failed.update(part.failed)
    into.seconds += part.seconds
    into.files += part.files
    into.calls += part.calls


# --------------------------------------------------------------------------- engine semantics

#: What the probe workbook puts in column A (row 2 on): a label and what is written.
PROBE_INPUTS: tuple[tuple[str, object], ...] = (
    ("text number", "12"),
    ("full-width text", "１２"),
    ("padded text", " 12 "),
    ("thousands text", "1,200"),
    ("blank", None),
    ("error value", "#REF!"),
    ("formula over input", "=5+7"),
    ("formula referencing an input", "={ref}+1"),  # {ref}: the last input, 3
    ("huge 1e12", 10**12),
    ("huge 1e16", 10**16),
    ("decimal 2.5", 2.5),
    ("negative -3", -3),
    ("(referenced input) 3", 3),
)
#: Per input: formulas with ``{c}`` standing for its cell.
PROBE_PER_INPUT: tuple[str, ...] = (
    "=SUM({c})",
    "={c}+0",
    "=ISNUMBER({c})",
    "=ISBLANK({c})",
    "=ISTEXT({c})",
    "=IF(ISBLANK({c}),FALSE,IF(ISNUMBER({c}),OR({c}<0,{c}<>INT({c})),TRUE))",  # the R5 red conditional format
    "=ROUND(({c}+1)-{c},6)",
    "=VALUE({c})",  # candidate coercions, should text numbers count in the sheet
    "=N({c})",
)
#: Check-cell ranges: E2:E5 clean (2 ✘), F2:F5 with one ✘ and two error values.
PROBE_CHECK_CELLS = {"E": ("✔", "✘ 差 1", "✔", "✘ 2处数值不合规"), "F": ("✔", "✘ 差 1", "=1/0", "=NA()")}
PROBE_FORMULAS: tuple[tuple[str, str], ...] = (
    ("failure count today, clean range", '=SUMPRODUCT(--(LEFT(E2:E5,1)="✘"))'),
    ("COUNTIF, clean range", '=COUNTIF(E2:E5,"✘*")'),
    ("failure count today, errors among", '=SUMPRODUCT(--(LEFT(F2:F5,1)="✘"))'),
    ("COUNTIF ✘*, errors among", '=COUNTIF(F2:F5,"✘*")'),
    ("not ✔ (errors counted), errors among", '=ROWS(F2:F5)-COUNTIF(F2:F5,"✔")'),
    ("errors in range", "=SUMPRODUCT(--ISERROR(F2:F5))"),
    ("IFERROR(1/0)", '=IFERROR(1/0,"x")'),
    ("IFERROR around today's count", '=IFERROR(SUMPRODUCT(--(LEFT(F2:F5,1)="✘")),-1)'),
    ("COUNTIF <>✔, errors among", '=COUNTIF(F2:F5,"<>✔")'),
    ("numbers among the inputs, plain formula", "=SUM(IF(ISNUMBER(A2:A14),1,0))"),
    ("numbers among the inputs, array formula", "{=SUM(IF(ISNUMBER(A2:A14),1,0))}"),
    ("numbers among the inputs, SUMPRODUCT", "=SUMPRODUCT(--ISNUMBER(A2:A14))"),
)


@dataclass(frozen=True)
class ProbeRow:
    label: str
    formula: str
    shown: Mapping[str, str]  # engine → displayed value
    check: str = ""  # for inputs: how check's reader takes the cell


def semantics_probe(workdir: Path, engines: Sequence[str] | None = None) -> list[ProbeRow]:
    """Recalculate a small workbook of single-formula experiments in each engine.

    Answers "what does each engine do with a text number, a blank, an error value, a formula
    over an input, SUMPRODUCT(--(LEFT(range,1)="✘")), COUNTIF(range,"✘*"), IFERROR, an array
    formula" without a template in the way. Inputs also show how ``check``'s reader takes them
    (python-calamine's raw value, then :func:`xls_gongkai.values.parse_cell` for a count cell).
    """
    from openpyxl.worksheet.formula import ArrayFormula
    from python_calamine import CalamineWorkbook

    from xls_gongkai.parsing.values import parse_cell

    engines = tuple(engines if engines is not None else available_engines())
    workdir.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "probe"
    cells: list[tuple[str, str, int, int, str]] = []  # label, formula, row, col (0-based), kind
    last = f"A{len(PROBE_INPUTS) + 1}"
    for i, (label, written) in enumerate(PROBE_INPUTS):
        r = i + 1
        ws.cell(r + 1, 1).value = written.format(ref=last) if isinstance(written, str) else written
        ws.cell(r + 1, 2).value = label
        for j, f in enumerate(PROBE_PER_INPUT):
            ws.cell(r + 1, 8 + j).value = f.format(c=f"A{r + 1}")
            cells.append((label, f, r, 7 + j, "per-input"))
    for col, values in PROBE_CHECK_CELLS.items():
        for i, v in enumerate(values):
            ws[f"{col}{i + 2}"] = v
    base = len(PROBE_INPUTS) + 3
    for i, (label, f) in enumerate(PROBE_FORMULAS):
        r = base + i
        ref = f"C{r + 1}"
        if f.startswith("{"):
            ws[ref] = ArrayFormula(ref, f[1:-1])
        else:
            ws[ref] = f
        ws[f"B{r + 1}"] = label
        cells.append((label, f, r, 2, "formula"))
    src = workdir / "semantics_probe.xlsx"
    wb.save(src)
    outs: dict[str, Path] = {}
    if LIBREOFFICE in engines:
        outs[LIBREOFFICE] = lo_convert([src], "xlsx", workdir / "probe_lo", recalc=True)[0]
    if GNUMERIC in engines:
        run = EngineRun(GNUMERIC)
        (workdir / "probe_gn").mkdir(exist_ok=True)
        recalc_gnumeric(src, workdir / "probe_gn", run)
        outs[GNUMERIC] = run.outputs[src.stem]
    wanted = {"probe": [(r, c) for _l, _f, r, c, _k in cells]}
    read = {e: read_cells(p, wanted) for e, p in outs.items()}
    grid = CalamineWorkbook.from_path(str(src)).get_sheet_by_name("probe").to_python(skip_empty_area=False)
    rows: list[ProbeRow] = []
    for label, f, r, c, kind in cells:
        shown = {e: shown_text(read[e][("probe", r, c)]) for e in outs}
        note = ""
        if kind == "per-input" and f == PROBE_PER_INPUT[0]:
            raw = grid[r][0] if r < len(grid) and grid[r] else None
            parsed = parse_cell(raw, CellKind.COUNT)
            note = f"calamine {raw!r} → {parsed.value!r} {parsed.code or '(no issue)'}"
        rows.append(ProbeRow(label, f, shown, note))
    return rows


# --------------------------------------------------------------------------- reporting


@dataclass(frozen=True)
class CategoryRow:
    category: str
    engine: str
    what: str
    workbooks: int
    occurrences: int
    example: Disagreement


def summarise(disagreements: Iterable[Disagreement]) -> list[CategoryRow]:
    """Disagreements grouped by (engine, category): how many workbooks, one example each."""
    groups: dict[tuple[str, str, str], list[Disagreement]] = defaultdict(list)
    for d in disagreements:
        groups[(d.engine, d.what, d.category)].append(d)
    rows = [
        CategoryRow(cat, eng, what, len({d.case for d in ds}), len(ds), ds[0])
        for (eng, what, cat), ds in groups.items()
    ]
    rows.sort(key=lambda r: (-r.workbooks, r.engine, r.category))
    return rows


def format_rows(rows: Sequence[CategoryRow], limit: int | None = None) -> str:
    lines = []
    for r in rows[:limit]:
        ex = r.example
        key = "/".join(map(str, ex.key)) if ex.key else ""
        lines.append(
            f"{r.workbooks:4d} wb {r.occurrences:5d}×  [{r.engine}] [{r.what}] {r.category}\n"
            f"          e.g. {ex.case} {ex.where} {key}: sheet {ex.sheet_shows!r} | check {ex.check_says!r}"
            + (f" | {'; '.join(p.describe() for p in ex.perturbations)}" if ex.perturbations else "")
        )
    if limit is not None and len(rows) > limit:
        lines.append(f"… and {len(rows) - limit} more categories")
    return "\n".join(lines)


def category_names(rows: Sequence[CategoryRow]) -> list[str]:
    return sorted({r.category for r in rows})


__all__ = [
    "ENGINES",
    "ERROR_VALUES",
    "GNUMERIC",
    "KINDS",
    "LIBREOFFICE",
    "SSCONVERT",
    "YEARS",
    "Case",
    "CaseResult",
    "CategoryRow",
    "CheckVerdict",
    "Disagreement",
    "EngineRun",
    "ErrorValue",
    "Filler",
    "Perturbation",
    "Run",
    "SheetVerdict",
    "available_engines",
    "base_report",
    "case_strategy",
    "catalogue",
    "check_verdict",
    "compare",
    "compare_engines",
    "conditional_probes",
    "draw_cases",
    "format_rows",
    "make_perturbation",
    "read_cells",
    "recalc_gnumeric",
    "recalc_libreoffice",
    "run_cases",
    "semantics_probe",
    "sheet_verdict",
    "summarise",
    "touching",
]
