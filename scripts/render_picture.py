"""Render report documents to DOCX, then through LibreOffice to PDF and PNG pictures.

The README shows a page of the generated Word document; this script makes those pictures, so
anyone can see (and re-check) that the DOCX opens in LibreOffice with its merged table headers
and Chinese fonts intact.

Usage::

    .venv/bin/python scripts/render_picture.py                 # the 坡头镇 2020 fixture + a random 2024 report
    .venv/bin/python scripts/render_picture.py report.json ... # your own Report JSON files
    .venv/bin/python scripts/render_picture.py --out docs/images --dpi 80

Writes ``<out>/report-<name>-<page>.png`` (one per page); with ``--keep`` also the ``.docx`` and
``.pdf`` it made (otherwise they live in a temporary folder).
Needs ``soffice`` (LibreOffice) and ``pdftoppm`` (poppler-utils) on the PATH. All DOCX files
are converted in ONE LibreOffice call with a private profile (start-up costs ~1.4 s).
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from realistic import realistic  # noqa: E402  (scripts/realistic.py)

from xls_gongkai.documents.render import render_docx  # noqa: E402
from xls_gongkai.report import Report, Unit  # noqa: E402
from xls_gongkai.spec import get_format  # noqa: E402

_DEMO_TEXTS = {
    "s1": "2024年，示范镇认真贯彻落实《中华人民共和国政府信息公开条例》，围绕主动公开、依申请公开、"
    "政府信息管理、平台建设、监督保障五个方面推进政务公开工作。全年受理政府信息公开申请情况见表三。",
    "s5": "存在的主要问题：公开内容的及时性有待提高。改进措施：建立月度检查制度，按期更新各栏目。",
    "s6": "本年度未收取信息处理费。",
}


def _default_reports() -> list[tuple[str, Report]]:
    fixture = ROOT / "tests" / "data" / "potouzhen_2020.json"
    reports = [("potouzhen-2020", Report.from_json(fixture.read_text(encoding="utf-8")))]
    demo = realistic(get_format(2024), Unit("320000001", "示范镇人民政府"), 2024, random.Random(7), _DEMO_TEXTS)
    reports.append(("demo-2024", demo))
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="DOCX → PDF → PNG：生成年报文稿的页面图片（LibreOffice + pdftoppm）。")
    parser.add_argument("reports", nargs="*", type=Path, help="Report JSON 文件；省略时用内置示例。")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="输出目录（默认 docs/images）。")
    parser.add_argument("--dpi", type=int, default=70, help="PNG 分辨率（默认 70）。")
    parser.add_argument("--pages", type=int, default=2, help="每份文稿最多输出几页（默认 2）。")
    parser.add_argument("--keep", action="store_true", help="同时保留生成的 .docx 和 .pdf。")
    args = parser.parse_args(argv)

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftoppm = shutil.which("pdftoppm")
    if soffice is None or pdftoppm is None:
        print("需要 LibreOffice（soffice）和 pdftoppm（poppler-utils）。", file=sys.stderr)
        return 2

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.reports:
        named = [(p.stem, Report.from_json(p.read_text(encoding="utf-8"))) for p in args.reports]
    else:
        named = _default_reports()
    work = out if args.keep else Path(tempfile.mkdtemp(prefix="xls_gongkai_render_"))
    docx_files = [render_docx(report, work / f"report-{name}.docx") for name, report in named]

    profile = Path(tempfile.mkdtemp(prefix="xls_gongkai_render_lo_"))
    try:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(work),
                *map(str, docx_files),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)

    for docx in docx_files:
        pdf = docx.with_suffix(".pdf")
        if not pdf.exists():
            print(f"LibreOffice 没有生成 {pdf}", file=sys.stderr)
            return 1
        for old in out.glob(f"{docx.stem}-*.png"):
            old.unlink()
        subprocess.run(
            [pdftoppm, "-png", "-r", str(args.dpi), "-l", str(args.pages), str(pdf), str(out / docx.stem)],
            check=True,
            timeout=120,
        )
        pngs = sorted(out.glob(f"{docx.stem}-*.png"))
        print(f"{docx.name} → {pdf.name} → {', '.join(p.name for p in pngs)}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
