"""Pictures of a county summary for the README: its 表三 (汇总) and 报送情况 sheets as PNG.

The sample units of ``samples/roster.csv`` report random consistent figures (two units do not
report, one reports twice, one has an error); the summary workbook of that collection goes
through LibreOffice to PDF (one call, private profile) and pdftoppm to PNG. The pages are found
by their text (pdftotext), so the pictures follow the workbook even when its page breaks change.

The collection (:class:`~xls_gongkai.collection.Merged`) is made here from the reports, the way
``merge`` records it, so the pictures show the summary workbook and nothing else; file names
and times are fixed, so the pictures do not change from run to run.

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
import datetime as dt
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from realistic import realistic  # noqa: E402  (scripts/realistic.py)

from xls_gongkai.batch.roster import load_roster  # noqa: E402
from xls_gongkai.collection import Entry, Merged, Status, Submission  # noqa: E402
from xls_gongkai.issues import CATALOGUE, Code  # noqa: E402
from xls_gongkai.report import Report, Unit  # noqa: E402
from xls_gongkai.rules import check_report, engine  # noqa: E402
from xls_gongkai.sample import broken  # noqa: E402
from xls_gongkai.spec import get_format  # noqa: E402
from xls_gongkai.workbook.layout import layout_for  # noqa: E402
from xls_gongkai.workbook.summary import write_summary  # noqa: E402

YEAR = 2024
TEXTS = {
    "s1": "本年度认真贯彻落实《中华人民共和国政府信息公开条例》，主动公开、依申请公开工作有序开展。",
    "s5": "存在的主要问题：公开的及时性有待提高。改进措施：建立月度检查制度。",
    "s6": "本年度未收取信息处理费。",
}
FOLDER = "/tmp/河洛县2024年度报表"
SENT = dt.datetime(2025, 2, 18, 9, 0).timestamp()

#: (page picture name, a text that only its first page holds)
PAGES = (("summary-t3", "三、收到和处理政府信息公开申请情况"), ("summary-status", "报送情况"))


def sample_merged() -> Merged:
    """The sample units' collection: two do not report, one sends its workbook twice, one has an error."""
    units = list(load_roster(ROOT / "samples" / "roster.csv").units)
    fmt = get_format(YEAR)
    lay = layout_for(fmt)
    rnd = random.Random(2024)
    missing = {units[-1].code, units[-3].code}
    subs: list[Submission] = []
    entries: list[Entry] = []
    for n, u in enumerate(units):
        if u.code in missing:
            entries.append(Entry(u, Status.MISSING))
            continue
        report = realistic(fmt, u, YEAR, rnd, TEXTS)
        if n == 2:
            report = broken(report, ("t3", "new", "natural"), 2)  # a unit whose 表三 does not add up
        files = [f"{FOLDER}/{u.code}_{u.name}_{YEAR}.xlsx"]
        if n == 4:  # the same unit sends its workbook twice; the newer one counts
            files.append(f"{FOLDER}/{u.code}_{u.name}_{YEAR}（修改后）.xlsx")
        times = tuple(SENT + 600 * (n + i) for i in range(len(files)))
        issues = tuple(check_report(report, locate=lay.locate, locate_text=lay.locate_text))
        sub = Submission(u, report, files[-1], times[-1], issues, included=True)
        subs.append(sub)
        status = Status.DUPLICATE if len(files) > 1 else Status.ERRORS if sub.errors else Status.SUBMITTED
        note = "重复报送，按较新的文件计入" if len(files) > 1 else "有错误，已计入汇总" if sub.errors else ""
        entries.append(Entry(u, status, tuple(files), times, sub.errors, sub.warnings, True, note))
    values: dict = {}
    for s in subs:
        for k, v in s.report.values.items():
            values[k] = values.get(k, 0) + v
    county = Unit(units[0].code[:6], f"{units[0].parent or '示范县'}汇总")
    total = Report(county, YEAR, fmt, engine(fmt).with_totals(values), units=len(subs))
    not_submitted = CATALOGUE[Code.NOT_SUBMITTED]
    return Merged(
        report=total,
        entries=tuple(entries),
        submissions=tuple(subs),
        total_issues=tuple(check_report(total, locate=lay.locate)),
        merge_issues=tuple(
            not_submitted.make(name=e.unit.name, code=e.unit.code, unit_code=e.unit.code, unit_name=e.unit.name)
            for e in entries
            if e.status is Status.MISSING
        ),
        generated_at=dt.datetime.fromtimestamp(max(s.mtime for s in subs), dt.UTC),
        roster=tuple(units),
    )


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
            summary = write_summary(sample_merged(), tmp / "summary-sample.xlsx")
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
