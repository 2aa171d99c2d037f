"""``xls-gongkai check``: read returned workbooks, name every problem by cell, mark up copies."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from xls_gongkai.errors import XlsGongkaiError
from xls_gongkai.issues import Issue
from xls_gongkai.report import Unit

if TYPE_CHECKING:
    from xls_gongkai.batch.check import Batch

#: How many issues per file the terminal shows (the --report file has them all).
SHOWN_PER_FILE = 20

FilesArg = Annotated[
    list[Path],
    typer.Argument(help="工作簿文件或文件夹（文件夹中的 .xlsx .xlsm .xls .xlsb .ods 全部读取）。", show_default=False),
]
YearOpt = Annotated[
    int | None,
    typer.Option(
        "--year", "-y", help="报告年度；与文件中的年度不一致时报错。手工制作的工作簿用它补上年度。", show_default=False
    ),
]
UnitOpt = Annotated[
    str | None,
    typer.Option("--unit", "-u", help="单位名称（文件中没有单位时使用，如手工制作的工作簿）。", show_default=False),
]
CodeOpt = Annotated[str | None, typer.Option("--code", help="单位代码（与 --unit 同用）。", show_default=False)]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format", "-f", help="要求的格式（gongkai-2019 / gongkai-2021 或年度）；不符时报错。", show_default=False
    ),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="严格模式：空白的填报单元格算作错误（默认是警告）。")]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", help="并行读取的进程数（默认：全部 CPU 核）。", show_default=False)
]
RosterOpt = Annotated[
    Path | None,
    typer.Option(
        "--roster",
        "-r",
        help="单位名册（CSV 或 XLSX，列：代码、名称）：核对单位、找出重复和未报送的单位。",
        show_default=False,
    ),
]


def unit_option(name: str | None, code: str | None) -> Unit | None:
    if name is None and code is None:
        return None
    return Unit(code or "", name or "")


def run_checks(
    paths: Sequence[Path],
    roster: Path | None,
    format_name: str | None,
    year: int | None,
    unit: str | None,
    code: str | None,
    strict: bool,
    jobs: int | None,
    progress: Callable[[int, int], None],
    previous: Sequence[Path] = (),
) -> Batch:
    """What ``check`` and ``read`` share: the options turned into a checked batch.

    A roster that cannot be used, an unknown format or a year no format covers is one usage
    error, not one per file.
    """
    from xls_gongkai.batch.check import check_files

    units = None
    if roster is not None:
        from xls_gongkai.batch.roster import load_roster

        units = load_roster(roster)
    fmt = None
    if format_name:
        from xls_gongkai.spec import get_format

        fmt = get_format(format_name)
    if year is not None:
        from xls_gongkai.spec import format_for_year

        format_for_year(year)
    return check_files(
        paths,
        fmt=fmt,
        year=year,
        unit=unit_option(unit, code),
        roster=units,
        strict=strict,
        jobs=jobs,
        progress=progress,
        previous=previous,
    )


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for batches (nothing for one file)."""
    console = Console(stderr=True)
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=total < 2,
    ) as bar:
        task = bar.add_task(label, total=total)

        def step(done: int, _total: int) -> None:
            bar.update(task, completed=done)

        yield step


def print_issues(console: Console, issues: Sequence[Issue], show_warnings: bool) -> None:
    shown = [i for i in issues if i.is_error or show_warnings]
    hidden = len(issues) - len(shown)
    for issue in shown[:SHOWN_PER_FILE]:
        where = f"{issue.sheet}!{issue.cell}" if issue.sheet and issue.cell else (issue.sheet or "—")
        style = "red" if issue.is_error else "yellow"
        console.print(
            f"  [{style}]{issue.severity.label}[/] [dim]{issue.code}[/] {escape(where)}  {escape(issue.message)}",
            highlight=False,
        )
    more = len(shown) - SHOWN_PER_FILE
    notes = []
    if more > 0:
        notes.append(f"另有 {more} 项")
    if hidden:
        notes.append(f"{hidden} 项警告未显示（加 --warnings 显示）")
    if notes:
        console.print(f"  [dim]……{'；'.join(notes)}，完整清单见 --report 输出[/]", highlight=False)


def check(
    files: FilesArg,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", "-o", help="把检查结果写入文件：.xlsx（汇总+问题清单）、.csv 或 .json。", show_default=False
        ),
    ] = None,
    annotate: Annotated[
        Path | None,
        typer.Option(
            "--annotate",
            "-a",
            help="为每个有问题的单位生成标注问题的新工作簿（由模板重新生成，不改动原文件），放入此文件夹。",
            show_default=False,
        ),
    ] = None,
    roster: RosterOpt = None,
    previous: Annotated[
        list[Path] | None,
        typer.Option(
            "--previous",
            "-p",
            help="上一年度各单位的工作簿（或报告 JSON）文件或文件夹，可多次给出：逐单位核对跨年衔接（R6–R8，警告）。",
            show_default=False,
        ),
    ] = None,
    year: YearOpt = None,
    unit: UnitOpt = None,
    code: CodeOpt = None,
    format_name: FormatOpt = None,
    strict: StrictOpt = False,
    warnings: Annotated[bool, typer.Option("--warnings", "-w", help="在屏幕上也列出警告（默认只列错误）。")] = False,
    jobs: JobsOpt = None,
) -> None:
    """读取并校验填好的工作簿：逐个单元格指出问题，可输出检查报告和标注问题的工作簿。

    退出码：0 没有错误（只有警告也算通过）；1 发现错误；2 有文件无法读取，或用法错误。

    示例：

      xls-gongkai check 回收/                          # 检查文件夹中的全部工作簿

      xls-gongkai check 回收/ --roster 名册.csv --year 2024 --report 检查结果.xlsx --annotate 退回/

      xls-gongkai check 手工表.xlsx --unit 城关镇 --code 001 --year 2024

      xls-gongkai check 回收/ --previous 去年回收/                 # 加上跨年衔接核对
    """
    from xls_gongkai.batch.check import collect_files, summary_rows, write_check_report
    from xls_gongkai.cli import fail
    from xls_gongkai.workbook.annotate import annotate_all

    # soft_wrap: a long path or message stays one line (a terminal wraps it, a log keeps it whole).
    console = Console(highlight=False, soft_wrap=True)
    try:
        paths = collect_files(files)
        with progress_bar(len(paths), "读取校验") as step:
            batch = run_checks(paths, roster, format_name, year, unit, code, strict, jobs, step, previous or ())
        for res, row in zip(batch.results, summary_rows(batch), strict=True):
            status = row[6]
            style = {"通过": "green", "有警告": "yellow"}.get(status, "red")
            who = f"{row[2]}（{row[3]}）" if row[3] else (row[2] or "")
            console.print(f"[{style}]{status}[/] {escape(res.source)}  {escape(who)}  错误 {row[7]}，警告 {row[8]}")
            print_issues(console, res.issues, warnings)
        if batch.missing:
            console.print(
                f"[red]名册中 {len(batch.missing)} 个单位未报送：[/]" + escape("、".join(u.name for u in batch.missing))
            )
        table = RichTable(title="检查结果")
        for col in ("文件数", "通过", "有警告", "有错误", "无法读取", "错误", "警告"):
            table.add_column(col)
        statuses = [r[6] for r in summary_rows(batch)]
        n_err = sum(1 for i in batch.issues if i.is_error)
        table.add_row(
            str(len(batch.results)),
            *(str(statuses.count(s)) for s in ("通过", "有警告", "有错误", "无法读取")),
            str(n_err),
            str(len(batch.issues) - n_err),
        )
        console.print(table)
        if report is not None:
            written = write_check_report(batch, report)
            console.print(f"检查报告：{escape(str(written))}")
        if annotate is not None:
            copies = annotate_all(batch.results, annotate)
            console.print(f"标注问题的工作簿 {len(copies)} 份：{escape(str(annotate))}")
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    raise typer.Exit(batch.exit_code)
