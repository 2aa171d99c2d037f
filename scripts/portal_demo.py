"""``make portal``: a demo collection portal on the sample roster, with a few units already at work.

Builds the instance folder (default ``portal-demo/``, made anew), lets some townships upload,
submit, get a report returned or accepted (through the portal's own code, as the web pages
would), prints the officer's address and password and three units' links, then serves it on
127.0.0.1 until Ctrl+C (``--no-serve`` stops after printing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2024
TEXTS = {
    "s1": "{name}认真贯彻落实《中华人民共和国政府信息公开条例》，扎实推进主动公开、依申请公开和平台建设。",
    "s5": "存在的主要问题：公开内容的规范性有待提高。改进措施：加强业务培训，完善公开目录。",
    "s6": "本年度未收取信息处理费。",
}


def _workbook(folder: Path, code: str, name: str, seed: int, *, bad: bool = False, warned: bool = False) -> Path:
    """A filled template; ``warned``: 六、其他需要报告的事项 without 信息处理费 (warning T1) and
    one blank cell (a notice)."""
    from dataclasses import replace

    from xls_gongkai import Unit, format_for_year
    from xls_gongkai.sample import broken, random_report
    from xls_gongkai.workbook.writer import write_workbook

    fmt = format_for_year(YEAR)
    texts = {k: v.format(name=name) for k, v in TEXTS.items()}
    report = random_report(fmt, Unit(code, name, "河洛县"), YEAR, random.Random(seed), texts)
    if bad:
        report = broken(report, ("t3", "carry_next", "natural"), 2)
    if warned:
        values = dict(report.values)
        values.pop(("t2_1", "regulations", "issued"), None)
        report = replace(report, values=values, texts={**report.texts, "s6": "无。"})
    path = folder / f"{code}_{name}_{YEAR}.xlsx"
    write_workbook(path, report)
    return path


def _as_upload(path: Path) -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(path.name, path.read_bytes())


def activity(folder: Path) -> None:
    """Some units at every stage: accepted, submitted with a 说明, returned, errors, opened, untouched."""
    from xls_gongkai.portal import intake
    from xls_gongkai.portal.models import Unit
    from xls_gongkai.portal.sheetview import explainable
    from xls_gongkai.portal.states import Event

    officer = intake.Actor("县政务公开办（officer）", "127.0.0.1")

    def clerk(unit: Unit) -> intake.Actor:
        return intake.Actor(f"{unit.name}（单位）", "127.0.0.1")

    units = {u.code: u for u in Unit.objects.all()}
    plan = [
        ("410102001", "accept"),
        ("410102002", "errors"),
        ("410102003", "submit-explained"),
        ("410102101", "return"),
        ("410102102", "accept"),
        ("410102103", "ready"),
        ("410102201", "visit"),
        ("410102901", "submit"),
        ("410102902", "visit"),
    ]
    for seed, (code, what) in enumerate(plan, start=1):
        unit = units[code]
        intake.visit(unit, clerk(unit))
        if what == "visit":
            continue
        path = _workbook(
            folder, code, unit.name, seed, bad=what in ("errors", "return"), warned=what == "submit-explained"
        )
        version = intake.upload(unit, _as_upload(path), clerk(unit))  # type: ignore[arg-type]
        if what == "submit-explained":
            allowed = explainable(intake.shown(version))
            text = "本年度未收取信息处理费，第六部分漏写，已在正式报告中补上。"
            intake.explain(unit, version.number, "T1", text, clerk(unit), allowed)
        if what in ("errors", "ready"):
            continue
        if what == "return":
            fixed = _workbook(folder, code, unit.name, seed + 100)
            version = intake.upload(unit, _as_upload(fixed), clerk(unit))  # type: ignore[arg-type]
        intake.submit(unit, version.number, clerk(unit))
        if what == "accept":
            intake.decide(unit, version.number, Event.ACCEPT, officer)
        elif what == "return":
            intake.decide(unit, version.number, Event.RETURN, officer, "表四“行政诉讼”一栏请与法制部门核对后重新填报。")


def build(directory: Path, *, port: int) -> tuple[str, list[tuple[str, str]]]:
    """The demo instance; returns the officer's password and three units' links."""
    from xls_gongkai.portal import ops

    if directory.exists():
        shutil.rmtree(directory)
    deadline = dt.date.today() + dt.timedelta(days=30)
    created = ops.cli_init(
        directory,
        year=YEAR,
        roster=ROOT / "samples" / "roster.csv",
        name="河洛县",
        deadline=f"{deadline.year}年{deadline.month}月{deadline.day}日",
        contact="县政务公开办 0000-1234567",
        password=None,
        database=None,
    )
    with tempfile.TemporaryDirectory() as tmp:
        activity(Path(tmp))
    base = f"http://127.0.0.1:{port}"
    rows = {r.code: r for r in ops.link_rows(base)}
    picks = [("410102002", "有错误待改"), ("410102103", "待提交"), ("410102202", "未访问")]
    return created.password, [(f"{rows[c].name}（{why}）", rows[c].url) for c, why in picks]


def main() -> int:
    parser = argparse.ArgumentParser(description="示例收集平台（示例名册，部分单位已上传）")
    parser.add_argument("directory", nargs="?", default="portal-demo", type=Path)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-serve", action="store_true", help="只建立实例并显示地址，不启动")
    args = parser.parse_args()
    password, links = build(args.directory, port=args.port)
    print()
    print(f"示例收集平台：{args.directory.resolve()}")
    print(f"县政务公开办：http://127.0.0.1:{args.port}/officer/   用户名 officer   密码 {password}")
    print("三个单位的专属链接：")
    for label, url in links:
        print(f"  {label}  {url}")
    if args.no_serve:
        return 0
    from xls_gongkai.portal import ops

    ops.cli_serve(args.directory, host="127.0.0.1", port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
