"""Benchmark: importing published report documents, against only opening and splitting them.

For each document type (plain text, Markdown, HTML, Word), N documents (default 200, rendered
from random reports of both formats, plus the three real reports for text) are read two ways,
side by side in one process, in alternating blocks so that a busy shared machine slows both
alike:

* **xls-gongkai** — ``import_document``: paragraphs and table rows, format and year detection,
  label matching of every row and column, value parsing, all rule checks and R9;
* **floor** — the least any importer must do: read the file and split it into lines
  (text/Markdown), run ``html.parser`` over it (HTML), open it with python-docx and read every
  paragraph's and cell's text (Word), or run ``pdftotext -layout`` on it (PDF, made from the
  Word files by one LibreOffice call; skipped without soffice/pdftotext).

Printed per type: documents per second for both and the ratio xls-gongkai / floor. Best of
``--repeat`` runs.

Run::

    .venv/bin/python bench/bench_import.py --n 200
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

from xls_gongkai.documents.importer import import_document
from xls_gongkai.documents.render import render
from xls_gongkai.report import Unit
from xls_gongkai.sample import random_report
from xls_gongkai.spec import builtin_formats

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
BLOCK = 20


def make_documents(folder: Path, n: int, to: str, real: bool = False) -> list[Path]:
    rnd = random.Random(2024)
    paths: list[Path] = []
    formats = builtin_formats()
    texts = {"s1": "本年度共受理政府信息公开申请若干件。", "s5": "存在的问题。", "s6": "本年度未收取信息处理费。"}
    for i in range(n):
        fmt = formats[i % len(formats)]
        report = random_report(fmt, Unit(f"u{i}", f"第{i}镇人民政府"), fmt.year_from, rnd, texts=texts)
        path = folder / f"r{i:04d}.{to}"
        render(report, to, path)  # type: ignore[arg-type]
        paths.append(path)
    if real:
        paths += sorted(DATA.glob("*.txt"))
    return paths


def floor_text(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


class _Sink(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.n = 0

    def handle_data(self, data: str) -> None:
        self.n += len(data)


def floor_html(path: Path) -> int:
    sink = _Sink()
    sink.feed(path.read_text(encoding="utf-8"))
    sink.close()
    return sink.n


def floor_pdf(path: Path) -> int:
    proc = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return len(proc.stdout)


def make_pdfs(folder: Path, docx: list[Path]) -> list[Path]:
    """The rendered Word files printed to PDF by LibreOffice (one call, its own profile)."""
    out = folder / "pdf"
    profile = Path(tempfile.mkdtemp(prefix="bench_import_lo_"))
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
        ]
        + [str(p) for p in docx],
        capture_output=True,
        check=False,
        timeout=1800,
    )
    shutil.rmtree(profile, ignore_errors=True)
    return [out / f"{p.stem}.pdf" for p in docx if (out / f"{p.stem}.pdf").exists()]


def floor_docx(path: Path) -> int:
    import docx

    document = docx.Document(str(path))
    n = sum(len(p.text) for p in document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            n += sum(len(c.text) for c in row.cells)
    return n


def ours(path: Path) -> int:
    result = import_document(path)
    assert result.report is not None
    return len(result.report.values)


def timed(fn: Callable[[Path], int], paths: list[Path]) -> float:
    start = time.perf_counter()
    for p in paths:
        fn(p)
    return time.perf_counter() - start


def run(paths: list[Path], floor: Callable[[Path], int], repeat: int) -> tuple[float, float]:
    best_ours = best_floor = float("inf")
    for _ in range(repeat):
        t_ours = t_floor = 0.0
        for i in range(0, len(paths), BLOCK):
            block = paths[i : i + BLOCK]
            t_floor += timed(floor, block)
            t_ours += timed(ours, block)
        best_ours, best_floor = min(best_ours, t_ours), min(best_floor, t_floor)
    return best_ours, best_floor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="documents per type (default 200)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per type; the best is printed (default 3)")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_import_"))
    try:
        print(f"{'type':6} {'docs':>5} {'xls-gongkai s':>14} {'docs/s':>8} {'floor s':>9} {'docs/s':>8} {'ratio':>7}")
        docx: list[Path] = []
        for to, floor in (
            ("txt", floor_text),
            ("md", floor_text),
            ("html", floor_html),
            ("docx", floor_docx),
            ("pdf", floor_pdf),
        ):
            sub = folder / to
            sub.mkdir()
            if to == "pdf":
                if not (shutil.which("soffice") and shutil.which("pdftotext")) or not docx:
                    print("pdf    skipped: needs soffice and pdftotext")
                    continue
                paths = make_pdfs(sub, docx)
            else:
                paths = make_documents(sub, args.n, "md" if to == "txt" else to, real=to == "txt")
            if to == "docx":
                docx = paths
            if to == "txt":
                # Markdown rendered under a .txt name reads as plain text (pipe tables, no wrapping fix).
                paths = [p.rename(p.with_suffix(".txt")) if p.suffix == ".md" else p for p in paths]
            t_ours, t_floor = run(paths, floor, args.repeat)
            n = len(paths)
            print(
                f"{to:6} {n:5d} {t_ours:14.3f} {n / t_ours:8.1f} {t_floor:9.3f} {n / t_floor:8.1f} {t_ours / t_floor:7.1f}×"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
