"""Pictures of generated templates: workbook → PDF (LibreOffice) → PNG (pdftoppm), for the README.

For each format it writes a template for a sample unit filled with consistent random data and
one deliberate mistake (so that a red ✘ check and the highlighted input cells show), converts
all of them to PDF in ONE LibreOffice call with a private profile, and turns the pages that a
clerk prints into PNG pictures:

* ``template-<year>-guide.png``  — the 填报说明 page;
* ``template-<year>-table3.png`` — the 表三 page (the largest table, with its checks);
* ``template-<year>-table2.png`` — the 表二 page.

Usage::

    .venv/bin/python scripts/picture.py                     # into docs/images/, 70 dpi
    .venv/bin/python scripts/picture.py --out /tmp/pics --dpi 100 --blank

Needs ``soffice`` (LibreOffice) and ``pdftoppm``/``pdftotext`` (poppler-utils) on the PATH.
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

from xls_gongkai.report import Report, Unit  # noqa: E402
from xls_gongkai.sample import broken  # noqa: E402
from xls_gongkai.spec import get_format  # noqa: E402
from xls_gongkai.workbook.layout import layout_for  # noqa: E402
from xls_gongkai.workbook.writer import WriteOptions, write_workbook  # noqa: E402

UNIT = Unit("410102001", "城关镇", "河洛县")
YEARS = (2020, 2024)
TEXTS = {
    "s1": "本年度，城关镇认真贯彻落实《中华人民共和国政府信息公开条例》，从主动公开、依申请公开、"
    "政府信息管理、平台建设、监督保障五个方面推进政务公开工作。",
    "s5": "主要问题：部分栏目更新不及时。改进措施：建立月度检查制度。",
    "s6": "本年度未收取信息处理费。",
}


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"错误：找不到 {tool}。请安装 LibreOffice（soffice）和 poppler-utils（pdftoppm、pdftotext）。")
    return path


def workbooks(folder: Path, blank: bool) -> list[Path]:
    out = []
    for year in YEARS:
        fmt = get_format(year)
        if blank:
            report = Report(UNIT, year, fmt)
        else:
            report = realistic(fmt, UNIT, year, random.Random(year), TEXTS)
            t3 = fmt.table("t3")
            # one slip: a new application counted without its outcome, so R1 fails in one column
            report = broken(report, ("t3", t3.leaf_rows[0].id, t3.leaf_columns[0].id), 2)
        opts = WriteOptions(
            deadline="2025年2月20日", contact="县政务公开办 张三 0371-12345678", generated_at="2025-01-05T09:00:00"
        )
        out.append(write_workbook(folder / f"template-{year}.xlsx", report, opts))
    return out


def to_pdf(paths: list[Path], outdir: Path) -> list[Path]:
    soffice = _need("soffice")
    profile = Path(tempfile.mkdtemp(prefix="xls_gongkai_pic_lo_"))
    try:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(outdir),
                *map(str, paths),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return [outdir / f"{p.stem}.pdf" for p in paths]


def page_of(pdf: Path, needle: str) -> int | None:
    """The first page (1-based) whose text contains ``needle``."""
    text = subprocess.run(
        [_need("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    for i, page in enumerate(text.split("\f"), start=1):
        if needle in page.replace(" ", ""):
            return i
    return None


def to_png(pdf: Path, page: int, target: Path, dpi: int) -> Path:
    stem = target.with_suffix("")
    subprocess.run(
        [
            _need("pdftoppm"),
            "-png",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(stem),
        ],
        check=True,
    )
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description="生成模板的图片（工作簿 → PDF → PNG），用于 README。")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="输出目录（默认 docs/images）")
    parser.add_argument("--dpi", type=int, default=70, help="PNG 分辨率（默认 70）")
    parser.add_argument("--blank", action="store_true", help="画空白模板（默认：填了示例数据并故意错一处）")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xls_gongkai_pic_") as tmp:
        work = Path(tmp)
        pdfs = to_pdf(workbooks(work, args.blank), work)
        for year, pdf in zip(YEARS, pdfs, strict=True):
            lay = layout_for(get_format(year))
            first, second = lay.data_sheets[:2]  # the picture names follow the official sheet order
            pages = {
                "guide": 1,
                "table2": page_of(pdf, lay.sheet_titles[first].replace(" ", "")),
                "table3": page_of(pdf, lay.sheet_titles[second].replace(" ", "")),
            }
            for name, page in pages.items():
                if page is None:
                    print(f"未在 {pdf.name} 中找到 {name} 页，跳过")
                    continue
                png = to_png(pdf, page, args.out / f"template-{year}-{name}.png", args.dpi)
                print(f"{png}  （{pdf.name} 第 {page} 页）")


if __name__ == "__main__":
    main()
