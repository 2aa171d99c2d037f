"""Pictures of a county summary for the README: its 表三 (汇总) and 报送情况 sheets as PNG.

The sample units of ``samples/roster.csv`` fill their workbooks (random consistent figures;
two units do not report, one reports twice, one has an error), ``merge`` adds them up, and the
summary workbook goes through LibreOffice to PDF (one call, private profile) and pdftoppm to
PNG. The pages are found by their text (pdftotext), so the pictures follow the workbook even
when its page breaks change.

Usage::

    .venv/bin/python scripts/merge_picture.py                  # → docs/images/summary-*.png
    .venv/bin/python scripts/merge_picture.py demo-out/汇总.xlsx  # pictures of an existing summary
    .venv/bin/python scripts/merge_picture.py --out /tmp/pics --dpi 80

Writes ``<out>/summary-t3.png`` (the summed 表三 with its live checks) and
``<out>/summary-status.png`` (报送情况), and keeps the summary as ``<out>/summary-sample.xlsx``
only with ``--keep``. Needs ``soffice`` (LibreOffice), ``pdftoppm`` and ``pdftotext``
(poppler-utils) on the PATH.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from xls_gongkai.batch.merge import merge, write_summary  # noqa: E402
from xls_gongkai.batch.roster import load_roster  # noqa: E402
from xls_gongkai.report import Unit  # noqa: E402
from xls_gongkai.sample import broken, random_report  # noqa: E402
from xls_gongkai.spec import get_format  # noqa: E402
from xls_gongkai.workbook.writer import write_workbook  # noqa: E402

YEAR = 2024
TEXTS = {
    "s1": "本年度认真贯彻落实《中华人民共和国政府信息公开条例》，主动公开、依申请公开工作有序开展。",
    "s5": "存在的主要问题：公开的及时性有待提高。改进措施：建立月度检查制度。",
    "s6": "本年度未收取信息处理费。",
}

#: (page picture name, a text that only its first page holds)
PAGES = (("summary-t3", "三、收到和处理政府信息公开申请情况"), ("summary-status", "报送情况"))


def sample_summary(folder: Path, out: Path) -> Path:
    """Fill the sample units' workbooks and merge them into ``out``."""
    roster = load_roster(ROOT / "samples" / "roster.csv")
    units = list(roster.units)
    fmt = get_format(YEAR)
    rnd = random.Random(2024)
    county = units[0].parent or "示范县"
    missing = {units[-1].code, units[-3].code}
    folder.mkdir(parents=True, exist_ok=True)
    for n, u in enumerate(units):
        if u.code in missing:
            continue
        report = random_report(fmt, u, YEAR, rnd, TEXTS)
        if n == 2:
            report = broken(report, ("t3", "new", "natural"), 2)  # a unit whose 表三 does not add up
        write_workbook(folder / f"{u.code}-{u.name}.xlsx", report)
        if n == 4:  # the same unit sends its workbook twice
            write_workbook(folder / f"{u.code}-{u.name}（修改后）.xlsx", report)
    merged = merge([folder], roster=units, unit=Unit("", f"{county}汇总"))
    return write_summary(merged, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="汇总表 → PDF → PNG：生成 README 中汇总表和报送情况的图片。")
    parser.add_argument(
        "summary",
        nargs="?",
        type=Path,
        help="已有的汇总工作簿（如 make demo 的输出）；省略时用样例名册现做一份。",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="输出目录（默认 docs/images）。")
    parser.add_argument("--dpi", type=int, default=96, help="PNG 分辨率（默认 96）。")
    parser.add_argument("--keep", action="store_true", help="同时保留汇总工作簿 summary-sample.xlsx。")
    args = parser.parse_args(argv)

    tools = {name: shutil.which(name) for name in ("soffice", "pdftoppm", "pdftotext")}
    if not all(tools.values()):
        missing = "、".join(name for name, path in tools.items() if path is None)
        print(f"需要 LibreOffice（soffice）和 poppler-utils（pdftoppm、pdftotext）：缺少 {missing}。", file=sys.stderr)
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xls_gongkai_merge_pic_") as tmp_name:
        tmp = Path(tmp_name)
        if args.summary is not None:
            if not args.summary.is_file():
                print(f"找不到汇总工作簿 {args.summary}。", file=sys.stderr)
                return 2
            summary = tmp / "summary-sample.xlsx"
            shutil.copy(args.summary, summary)
        else:
            # A plain folder name, since 报送情况 shows it above the list of files.
            units = Path(tempfile.gettempdir()) / "河洛县2024年度报表"
            shutil.rmtree(units, ignore_errors=True)
            try:
                summary = sample_summary(units, tmp / "summary-sample.xlsx")
            finally:
                shutil.rmtree(units, ignore_errors=True)
        subprocess.run(
            [
                str(tools["soffice"]),
                f"-env:UserInstallation=file://{tmp / 'profile'}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(tmp),
                str(summary),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        pdf = tmp / "summary-sample.pdf"
        pages = _page_texts(str(tools["pdftotext"]), pdf)
        for name, marker in PAGES:
            page = next((i for i, text in enumerate(pages, 1) if marker in text), None)
            if page is None:
                print(f"PDF 中找不到“{marker}”所在的页。", file=sys.stderr)
                return 1
            x, y, w, h = _content_box(str(tools["pdftotext"]), pdf, page, args.dpi)
            subprocess.run(
                [
                    str(tools["pdftoppm"]),
                    *("-png", "-r", str(args.dpi), "-f", str(page), "-l", str(page), "-singlefile"),
                    *("-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h)),
                    str(pdf),
                    str(out / name),
                ],
                check=True,
            )
            print(f"{out / (name + '.png')}  （PDF 第 {page} 页）")
        if args.keep:
            shutil.copy(summary, out / summary.name)
    return 0


def _content_box(pdftotext: str, pdf: Path, page: int, dpi: int) -> tuple[int, int, int, int]:
    """The page's text area plus a margin, in pixels at ``dpi`` — the picture without the blank paper."""
    html = subprocess.run(
        [pdftotext, "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    boxes = [
        tuple(float(v) for v in m)
        for m in re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', html)
    ]
    # Leave out the footer (page number line) so the picture ends with the table.
    height = max((float(v) for v in re.findall(r'<page width="[\d.]+" height="([\d.]+)"', html)), default=842.0)
    body = [b for b in boxes if b[1] < height - 60] or boxes
    margin = 14.0
    x0 = max(0.0, min(b[0] for b in body) - margin)
    y0 = max(0.0, min(b[1] for b in body) - margin)
    # Table borders and centred ✔ cells reach further right than their text.
    x1 = max(b[2] for b in body) + 3 * margin
    y1 = max(b[3] for b in body) + margin
    scale = dpi / 72
    return round(x0 * scale), round(y0 * scale), round((x1 - x0) * scale), round((y1 - y0) * scale)


def _page_texts(pdftotext: str, pdf: Path) -> list[str]:
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")


if __name__ == "__main__":
    raise SystemExit(main())
