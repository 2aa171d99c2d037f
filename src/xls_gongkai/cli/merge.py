"""``xls-gongkai merge``: add up the units' workbooks into a county (or city) summary."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xls_gongkai.cli.common import (
    CsvOpt,
    FormatOpt,
    JobsOpt,
    JsonOpt,
    ParquetOpt,
    PreviousOpt,
    RosterOpt,
    console,
    counts_text,
    fail,
    format_option,
    not_an_input,
    progress_bar,
    roster_option,
    shown,
    variants,
)

if TYPE_CHECKING:
    from xls_gongkai.collection import Merged
    from xls_gongkai.report import Unit


class OnErrorChoice(StrEnum):
    INCLUDE = "include"
    EXCLUDE = "exclude"
    FAIL = "fail"


class PreferChoice(StrEnum):
    NEWEST = "newest"


InputsArg = Annotated[
    list[Path],
    typer.Argument(
        help="各单位填报的工作簿、文件夹（递归查找 .xlsx/.xls/.ods/.json）、JSON 报告，或下级的汇总表。",
        show_default=False,
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="汇总工作簿的输出路径（.xlsx）。", show_default=False)]
NameOpt = Annotated[
    str,
    typer.Option(
        "--name",
        help="汇总单位名称，如“某某县汇总”。默认：名册“上级”列共同的单位名加“汇总”（如“河洛县汇总”），否则“汇总”。",
        show_default=False,
    ),
]
CodeOpt = Annotated[str, typer.Option("--code", help="汇总单位代码（向上级再汇总时用来识别本级）。")]
OnErrorOpt = Annotated[
    OnErrorChoice,
    typer.Option(
        "--on-error",
        help="有错误的单位：include 计入汇总并标出（默认）；exclude 不计入；fail 停止汇总、不写文件。",
        case_sensitive=False,
    ),
]
PreferOpt = Annotated[
    PreferChoice | None,
    typer.Option(
        "--prefer",
        help="同一单位有多份文件时：newest 采用文件内记录的保存时间最新的一份（默认都不计入，并标为重复）。",
        show_default=False,
    ),
]
PasswordOpt = Annotated[
    str | None, typer.Option("--password", help="汇总表工作表保护密码（不设则无密码保护）。", show_default=False)
]


def merge_cmd(
    inputs: InputsArg,
    out: OutOpt,
    roster: RosterOpt = None,
    name: NameOpt = "",
    code: CodeOpt = "",
    on_error: OnErrorOpt = OnErrorChoice.INCLUDE,
    prefer: PreferOpt = None,
    previous: PreviousOpt = None,
    csv_out: CsvOpt = None,
    parquet_out: ParquetOpt = None,
    json_out: JsonOpt = None,
    format_name: FormatOpt = None,
    jobs: JobsOpt = None,
    password: PasswordOpt = None,
) -> None:
    """汇总：把各单位的报表相加成全县（全市）汇总表，并列出报送情况和全部问题。

    汇总表本身就是一份填好的模板（表二、表三、表四为各单位之和，合计与校验实时计算），可以再次读取、校验，并与其他县的汇总表一起向上一级汇总。另有工作表：明细（每单位一行，按名册顺序，带合计）、报送情况、问题清单、文字材料、图表。

    同一单位有两份文件时两份都不计入（除非 --prefer newest）；不在名单中的单位不计入。相同输入重复运行得到相同内容；输入文件不会被修改。

    退出码：0 全部报送且无错误；1 有未报送、重复、不在名单、无法读取的文件或数据错误；2 文件无法使用或用法错误。

    示例：

      xls-gongkai merge 收到的报表/ --roster 名册.csv --name 某某县汇总 --out 某某县汇总.xlsx

      xls-gongkai merge 收到的报表/ -r 名册.csv -o 汇总.xlsx --prefer newest --csv 全县明细.csv

      xls-gongkai merge 甲县汇总.xlsx 乙县汇总.xlsx --name 某某市汇总 --out 市汇总.xlsx --previous 上年市汇总.xlsx
    """
    from xls_gongkai.batch.export import check_tidy_path, merged_sources, write_tidy
    from xls_gongkai.batch.merge import merge
    from xls_gongkai.errors import UsageError, XlsGongkaiError
    from xls_gongkai.output import staged
    from xls_gongkai.report import Unit
    from xls_gongkai.workbook.summary import write_summary

    try:
        if out.suffix.lower() != ".xlsx" or out.is_dir():
            raise UsageError(f"--out 应是 .xlsx 文件，而不是 {out}。")
        tidy = [check_tidy_path(p) for p in (csv_out, parquet_out, json_out) if p is not None]
        not_an_input([out, *tidy], inputs)
        units = roster_option(roster)
        fmt = format_option(format_name)
        target = Unit(code.strip(), name.strip() or _default_name(units.units if units else None))
        with progress_bar("读取报表") as step:
            merged = merge(
                inputs,
                unit=target,
                roster=units,
                on_error=on_error.value,
                prefer="newest" if prefer is PreferChoice.NEWEST else None,
                previous=previous or [],
                formats=variants(fmt),
                exclude=[out, *tidy],
                jobs=jobs,
                progress=step,
            )
        # Writing 10,000 units' 明细 takes seconds: say so rather than look stuck. All outputs or
        # none: a CSV that cannot be written leaves no new summary behind either.
        with console(True).status("正在写出汇总表……"), staged([out, *tidy]) as temp:
            write_summary(merged, temp[out], password=password or None)
            for path in tidy:
                write_tidy(merged_sources(merged), temp[path])
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    _print(merged, [out, *tidy])
    if not merged.complete or any(i.is_error for i in merged.issues):
        raise typer.Exit(1)


def _default_name(units: tuple[Unit, ...] | None) -> str:
    # Counties that all kept the default name could not be told apart one level up.
    parents = {u.parent.strip() for u in units or ()}
    if len(parents) == 1 and (parent := parents.pop()):
        return parent if parent.endswith("汇总") else f"{parent}汇总"
    return "汇总"


def _print(merged: Merged, written: list[Path]) -> None:
    from xls_gongkai.collection import Status

    out = console()
    counted = "，".join(f"{s.value} {n}" for s, n in merged.counts().items() if n)
    out.print(f"报送情况：{counted}")
    not_ok = [e for e in merged.entries if e.status not in (Status.SUBMITTED, Status.WARNINGS)]
    for e in not_ok[:20]:
        who = e.unit.name or (Path(e.files[0]).name if e.files else "")
        note = f"{e.errors} 个错误，{'已' if e.included else '未'}计入汇总" if e.status is Status.ERRORS else e.note
        out.print(f"  {e.status.value}：{shown(who)}{'（' + shown(note) + '）' if note else ''}")
    if len(not_ok) > 20:
        out.print(f"  ……另有 {len(not_ok) - 20} 个，见汇总表“报送情况”。")
    for path, reason in merged.skipped:
        out.print(f"  未读取：{shown(path)}（{shown(reason)}）")
    failing = [i for i in merged.total_issues if i.is_error]
    out.print(
        f"汇总了 {merged.report.units} 个单位；各单位的问题：{counts_text([i for s in merged.submissions for i in s.issues])}（见“问题清单”）。"
        + (f"汇总数据有 {len(failing)} 项校验未通过。" if failing else "汇总数据校验全部通过。")
    )
    out.print("已写出 " + "、".join(shown(str(p)) for p in written))
