"""``xls-gongkai check``: read returned workbooks, name every problem by cell, mark up copies."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xls_gongkai.cli.common import (
    CodeOpt,
    FilesArg,
    FormatOpt,
    JobsOpt,
    PreviousOpt,
    RosterOpt,
    StrictOpt,
    UnitOpt,
    WarningsOpt,
    YearOpt,
    check_year,
    console,
    counts_text,
    fail,
    format_option,
    not_an_input,
    print_issues,
    progress_bar,
    roster_option,
    shown,
    unit_option,
    variants,
    who,
)

if TYPE_CHECKING:
    from rich.console import Console

    from xls_gongkai.batch.pipeline import Batch

ReportOpt = Annotated[
    Path | None,
    typer.Option(
        "--report", "-o", help="把检查结果写入文件：.xlsx（汇总+问题清单）、.csv 或 .json。", show_default=False
    ),
]
AnnotateOpt = Annotated[
    Path | None,
    typer.Option(
        "--annotate",
        "-a",
        help="为每个有问题的单位生成标注问题的新工作簿（由模板重新生成，不改动原文件），放入此文件夹。",
        show_default=False,
    ),
]
DeadlineOpt = Annotated[str, typer.Option("--deadline", help="退回件“填报说明”中的改正截止时间（默认沿用模板中的）。")]
ContactOpt = Annotated[str, typer.Option("--contact", help="退回件“填报说明”中的联系人（默认沿用模板中的）。")]
IndicatorsOpt = Annotated[
    bool, typer.Option("--indicators", help="在每个文件下列出它的指标（办结率、实质公开率等；检查报告中总是列出）。")
]
_GOOD = {"已报送": "green", "有警告": "yellow"}


def check(
    files: FilesArg,
    report: ReportOpt = None,
    annotate: AnnotateOpt = None,
    roster: RosterOpt = None,
    previous: PreviousOpt = None,
    year: YearOpt = None,
    unit: UnitOpt = None,
    code: CodeOpt = None,
    format_name: FormatOpt = None,
    strict: StrictOpt = False,
    warnings: WarningsOpt = False,
    show_indicators: IndicatorsOpt = False,
    deadline: DeadlineOpt = "",
    contact: ContactOpt = "",
    jobs: JobsOpt = None,
) -> None:
    """读取并校验填好的工作簿：逐个单元格指出问题，可输出检查报告和标注问题的工作簿。

    屏幕上先列每个文件的全部错误，警告加 --warnings 显示。退出码：0 没有错误（只有警告也算通过）；
    1 发现错误；2 有文件无法读取，或用法错误。

    示例：

      xls-gongkai check 回收/                          # 检查文件夹中的全部工作簿

      xls-gongkai check 回收/ --roster 名册.csv --report 检查结果.xlsx --annotate 退回/

      xls-gongkai check 手工表.xlsx --unit 城关镇 --code 001 --year 2024

      xls-gongkai check 回收/ --previous 去年汇总.xlsx          # 加上与上一年度的核对
    """
    from xls_gongkai.batch.check import check_files
    from xls_gongkai.batch.export import check_report_path, write_check_report
    from xls_gongkai.errors import UsageError, XlsGongkaiError

    out = console()
    try:
        if report is not None:
            check_report_path(report)
        if annotate is not None and annotate.exists() and not annotate.is_dir():
            raise UsageError(f"{annotate} 是一个文件，不是文件夹。请为 --annotate 指定一个文件夹")
        outputs = not_an_input([report], files)
        fmt = format_option(format_name)
        check_year(year, fmt)
        with progress_bar("读取校验") as step:
            batch = check_files(
                files,
                fmt=fmt,
                formats=variants(fmt),
                year=year,
                unit=unit_option(unit, code),
                roster=roster_option(roster),
                strict=strict,
                previous=previous or (),
                exclude=outputs,
                jobs=jobs,
                progress=step,
            )
        _print_batch(out, batch, warnings=warnings, show_indicators=show_indicators)
        if report is not None:
            out.print(f"检查报告：{shown(str(write_check_report(batch, report)))}")
        if annotate is not None:
            from xls_gongkai.workbook.annotate import annotate_all
            from xls_gongkai.workbook.writer import WriteOptions

            copies = annotate_all(batch.results, annotate, options=WriteOptions(deadline=deadline, contact=contact))
            out.print(f"标注问题的工作簿 {len(copies)} 份：{shown(str(annotate))}")
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    raise typer.Exit(batch.exit_code)


def _print_batch(out: Console, batch: Batch, *, warnings: bool, show_indicators: bool) -> None:
    """Each file's status line and issues (errors first), what was not read, who sent nothing."""
    from xls_gongkai.rules import indicators

    for item in batch.items:
        res = item.result
        style = _GOOD.get(item.status.value, "red")
        out.print(
            f"[{style}]{item.status.value}[/] {shown(res.source)}  {shown(who(res, item.unit))}  "
            f"{counts_text(res.issues, batch.explanation)}"
        )
        print_issues(out, res.issues, warnings, explain=batch.explanation)
        if show_indicators and res.report is not None:
            figures = "，".join(f"{v.indicator.name} {v.text}" for v in indicators(res.report))
            out.print(f"  [dim]指标：[/]{figures}")
    for s in batch.skipped:
        out.print(f"[yellow]未读取[/] {shown(str(s.path))}  {shown(s.reason)}")
    if batch.missing:
        names = "、".join(u.name for u in batch.missing)
        out.print(f"[red]名册中 {len(batch.missing)} 个单位未报送：[/]{shown(names)}")
    counted = "，".join(f"{s.value} {n}" for s, n in batch.counts().items() if n)
    out.print(f"共 {len(batch.items)} 个文件：{counted}；{counts_text(batch.issues)}")
