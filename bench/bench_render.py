"""Benchmark: rendering report documents, against the obvious way and against a floor.

N random reports (default 100, both formats) are rendered, side by side in one process and in
alternating blocks so that a busy shared machine slows every variant alike:

* **docx, xls-gongkai** — ``render_docx``: the whole document, every table with its merged
  headers (python-docx's ``_Cell.merge`` on cells taken once), fonts, widths, header-row repeat;
* **docx, raw WordprocessingML (before)** — the table rows written as WordprocessingML text
  and parsed in, as render did before it used python-docx's cell merges (kept here to measure
  what the public API costs);
* **docx, obvious** — the same document, but each merge done with python-docx's
  ``table.cell(r, c).merge(...)`` (``table.cell`` rebuilds the cell grid on every call, which
  makes a 表三 quadratic); this is what ``render_docx`` did first;
* **docx, floor** — python-docx writing the same paragraphs and tables with every cell's text
  but no merges, fonts or widths: the least a DOCX writer of these tables must do;
* **md / html** — ``render_markdown`` / ``render_html`` against ``pandas.DataFrame.to_html``
  / ``to_markdown``-free baseline: the tidy frame of the report written with ``to_html`` (a
  flat table, no merges) — the common "just dump the data" approach.

Printed: reports per second for each and the ratios. Best of ``--repeat`` runs.

Run::

    .venv/bin/python bench/bench_render.py --n 100
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xls_gongkai.documents import render as R
from xls_gongkai.report import Report, Unit
from xls_gongkai.sample import random_report
from xls_gongkai.spec import builtin_formats

BLOCK = 10
TEXTS = {"s1": "总体情况。" * 20, "s5": "存在问题及改进。" * 10, "s6": "本年度未收取信息处理费。"}


def _reports(n: int) -> list[Report]:
    rnd = random.Random(2024)
    fmts = builtin_formats()
    out = []
    for i in range(n):
        fmt = fmts[i % len(fmts)]
        out.append(random_report(fmt, Unit(f"{i:04d}", f"第{i}镇人民政府"), fmt.year_from + 1, rnd, TEXTS))
    return out


def _obvious_docx(report: Report, path: Path) -> None:
    """render_docx's first version: merges through table.cell(r, c) (quadratic in the table size)."""
    import docx
    from docx.shared import Pt

    doc = docx.Document()
    doc.add_paragraph(R.document_title(report), style="Title")
    for kind, section, payload in R._blocks(report):
        if kind == "heading":
            doc.add_paragraph(section.label, style="Heading 1")
        elif kind == "text":
            assert isinstance(payload, str)
            for para in payload.split("\n"):
                doc.add_paragraph(para)
        else:
            assert isinstance(payload, tuple)
            grid = payload[0]
            table = doc.add_table(rows=grid.rows, cols=grid.cols)
            table.style = "Table Grid"
            for cell in grid.cells:
                target = table.cell(cell.row, cell.col)
                if cell.rowspan > 1 or cell.colspan > 1:
                    target = target.merge(table.cell(cell.row + cell.rowspan - 1, cell.col + cell.colspan - 1))
                target.paragraphs[0].add_run(cell.text).font.size = Pt(9)
    doc.save(str(path))


def _floor_docx(report: Report, path: Path) -> None:
    """Paragraphs and tables with every cell's text, no merges: the least work for the same content."""
    import docx

    doc = docx.Document()
    doc.add_paragraph(R.document_title(report))
    for kind, section, payload in R._blocks(report):
        if kind == "heading":
            doc.add_paragraph(section.label)
        elif kind == "text":
            assert isinstance(payload, str)
            doc.add_paragraph(payload)
        else:
            assert isinstance(payload, tuple)
            grid = payload[0]
            table = doc.add_table(rows=grid.rows, cols=grid.cols)
            rows = [[*row._tr.tc_lst] for row in table.rows]
            from docx.table import _Cell

            for cell in grid.cells:
                _Cell(rows[cell.row][cell.col], table).paragraphs[0].add_run(cell.text)
    doc.save(str(path))


_TWIPS_PER_CM = 567


def _rows_xml(grid: R.Grid, widths: list[float], size_pt: float) -> str:
    """The table rows as WordprocessingML, merges written as w:gridSpan / w:vMerge directly.

    python-docx's ``merge`` re-walks the table for every merge; writing the rows at once is
    several times faster and gives the same markup. Child order follows the schema (Word
    rejects a file whose w:tcPr or w:rPr children are out of order). Fonts come from the
    Normal style (w:eastAsia set there).
    """
    from xml.sax.saxutils import escape

    cover: dict[tuple[int, int], R.GridCell] = {}
    for g in grid.cells:
        for r in range(g.row, g.row + g.rowspan):
            for c in range(g.col, g.col + g.colspan):
                cover[(r, c)] = g
    half_points = round(size_pt * 2)
    out: list[str] = []
    for r in range(grid.rows):
        tr = ["<w:tr><w:trPr><w:cantSplit/>"]
        if r < grid.header_rows:
            tr.append("<w:tblHeader/>")
        tr.append("</w:trPr>")
        c = 0
        while c < grid.cols:
            cell = cover.get((r, c))
            span = cell.colspan if cell is not None and cell.col == c else 1
            width = round(sum(widths[c : c + span]) * _TWIPS_PER_CM)
            tc = [f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>']
            if span > 1:
                tc.append(f'<w:gridSpan w:val="{span}"/>')
            if cell is not None and cell.rowspan > 1:
                tc.append('<w:vMerge w:val="restart"/>' if cell.row == r else "<w:vMerge/>")
            tc.append('<w:vAlign w:val="center"/></w:tcPr>')
            if cell is not None and cell.row == r:
                ppr = '<w:pPr><w:jc w:val="center"/></w:pPr>' if cell.header or cell.key is not None else ""
                bold = "<w:b/>" if cell.block else ""
                text = escape(cell.text)
                tc.append(
                    f'<w:p>{ppr}<w:r><w:rPr>{bold}<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>'
                    f'</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'
                )
            else:
                tc.append("<w:p/>")
            tc.append("</w:tc>")
            tr.append("".join(tc))
            c += span
        tr.append("</w:tr>")
        out.append("".join(tr))
    return "".join(out)


def _raw_grid(doc: Any, grid: R.Grid, size_pt: float, stub: int) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import parse_xml
    from docx.shared import Cm

    widths = R._column_widths(grid, stub)
    table = doc.add_table(rows=0, cols=grid.cols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    # LibreOffice lays out by the grid columns (w:tblGrid), Word by the cell widths: set both.
    for column, w in zip(table.columns, widths, strict=False):
        column.width = Cm(w)
    rows = parse_xml(f'<w:tbl xmlns:w="{R._W_NS}">{_rows_xml(grid, widths, size_pt)}</w:tbl>')
    tbl = table._tbl
    for tr in list(rows):
        tbl.append(tr)
    doc.add_paragraph()


def _raw_docx(report: Report, path: Path) -> None:
    """render_docx as it was before this version: table rows written as raw WordprocessingML."""
    original = R._docx_grid
    R._docx_grid = _raw_grid
    try:
        R.render_docx(report, path)
    finally:
        R._docx_grid = original


def _pandas_html(report: Report) -> str:
    return report.to_frame().to_html(index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    reports = _reports(args.n)
    out = Path(tempfile.mkdtemp(prefix="bench_render_"))
    variants: dict[str, Callable[[Report, Path], object]] = {
        "docx xls-gongkai": lambda r, p: R.render_docx(r, p),
        "docx raw WordprocessingML (before)": _raw_docx,
        "docx obvious (table.cell merges)": _obvious_docx,
        "docx floor (no merges, no fonts)": _floor_docx,
        "md xls-gongkai": lambda r, p: R.render_markdown(r),
        "html xls-gongkai": lambda r, p: R.render_html(r),
        "html pandas to_html (flat)": lambda r, p: _pandas_html(r),
    }
    best = dict.fromkeys(variants, float("inf"))
    try:
        for _ in range(args.repeat):
            spent = dict.fromkeys(variants, 0.0)
            for start in range(0, len(reports), BLOCK):
                block = reports[start : start + BLOCK]
                for name, fn in variants.items():
                    t = time.perf_counter()
                    for i, r in enumerate(block):
                        fn(r, out / f"{start + i}.docx")
                    spent[name] += time.perf_counter() - t
            for name in variants:
                best[name] = min(best[name], spent[name])
    finally:
        shutil.rmtree(out, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"render {args.n} reports (both formats), best of {args.repeat}; load average {load:.1f}")
    for name, secs in best.items():
        print(f"  {name:36s} {args.n / secs:8.1f} reports/s  ({secs * 1000 / args.n:7.2f} ms each)")
    d = best["docx xls-gongkai"]
    obvious = best["docx obvious (table.cell merges)"]
    floor = best["docx floor (no merges, no fonts)"]
    pandas = best["html pandas to_html (flat)"]
    raw = best["docx raw WordprocessingML (before)"]
    print(f"  docx: xls-gongkai (python-docx merges) takes {d / raw:.2f}x the raw-XML writer's time")
    print(f"  docx: xls-gongkai is {obvious / d:.1f}x faster than the table.cell merges")
    print(f"  docx: xls-gongkai takes {d / floor:.2f}x the floor's time")
    print(f"  html: xls-gongkai is {pandas / best['html xls-gongkai']:.1f}x faster than pandas to_html (flat)")


if __name__ == "__main__":
    main()
