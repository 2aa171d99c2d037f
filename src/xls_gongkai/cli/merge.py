"""``xls-gongkai merge``: add up the units' workbooks into a county (or city) summary."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from xls_gongkai.errors import UsageError, XlsGongkaiError
from xls_gongkai.report import Unit

if TYPE_CHECKING:
    from xls_gongkai.batch.merge import Merged


class OnErrorChoice(StrEnum):
    INCLUDE = "include"
    EXCLUDE = "exclude"
    FAIL = "fail"


class PreferChoice(StrEnum):
    NEWEST = "newest"


def merge_cmd(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="各单位填报的工作簿、文件夹（递归查找 .xlsx/.xls/.ods/.json）、JSON 报告，或下级的汇总表。",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="汇总工作簿的输出路径（.xlsx）。", show_default=False)],
    roster: Annotated[
        Path | None,
        typer.Option(
            "--roster",
            "-r",
            help="单位名册（CSV 或 XLSX，列：代码、名称，可选 上级）：据此列出未报送、不在名单的单位，明细按名册顺序。",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str,
        typer.Option(
            "--name",
            help="汇总单位名称，如“某某县汇总”。默认：名册“上级”列共同的单位名加“汇总”（如“河洛县汇总”），否则“汇总”。",
            show_default=False,
        ),
    ] = "",
    code: Annotated[str, typer.Option("--code", help="汇总单位代码（向上级再汇总时用来识别本级）。")] = "",
    on_error: Annotated[
        OnErrorChoice,
        typer.Option(
            "--on-error",
            help="有错误的单位：include 计入汇总并标出（默认）；exclude 不计入；fail 停止汇总、不写文件。",
            case_sensitive=False,
        ),
    ] = OnErrorChoice.INCLUDE,
    prefer: Annotated[
        PreferChoice | None,
        typer.Option(
            "--prefer",
            help="同一单位有多份文件时：newest 采用最新的一份（默认都不计入，并标为重复）。",
            show_default=False,
        ),
    ] = None,
    previous: Annotated[
        list[Path] | None,
        typer.Option(
            "--previous",
            help="上一年度的汇总表或各单位报表（可重复给出，或给文件夹）：增加跨年度校验（上年结转等）。",
            show_default=False,
        ),
    ] = None,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", help="另存各单位全部数据的长表 CSV（UTF-8，Excel 可直接打开）。", show_default=False),
    ] = None,
    parquet_out: Annotated[
        Path | None,
        typer.Option("--parquet", help="另存同样的长表为 Parquet（供 pandas 等分析）。", show_default=False),
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="并行读取的进程数（默认：全部 CPU 核）。", show_default=False)
    ] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="汇总表工作表保护密码（不设则无密码保护）。", show_default=False)
    ] = None,
) -> None:
    """汇总：把各单位的报表相加成全县（全市）汇总表，并列出报送情况和全部问题。

    汇总表本身就是一份填好的模板（表二、表三、表四为各单位之和，合计与校验实时计算），可以再次读取、校验，并与其他县的汇总表一起向上一级汇总。另有工作表：明细（每单位一行，按名册顺序，带合计）、报送情况（已报送 / 未报送 / 有错误 / 重复 / 不在名单）、问题清单、文字材料（各单位的文字部分并排）、图表。

    同一单位有两份文件时两份都不计入（除非 --prefer newest）；不在名单中的单位不计入。相同输入重复运行得到相同内容；输入文件不会被修改。

    退出码：0 全部报送且无错误；1 有未报送、重复、不在名单、无法读取的文件或数据错误；2 文件无法使用或用法错误。

    示例：

      xls-gongkai merge 收到的报表/ --roster 名册.csv --name 某某县汇总 --out 某某县汇总.xlsx

      xls-gongkai merge 收到的报表/ -r 名册.csv -o 汇总.xlsx --prefer newest --csv 全县明细.csv

      xls-gongkai merge 甲县汇总.xlsx 乙县汇总.xlsx --name 某某市汇总 --out 市汇总.xlsx --previous 上年市汇总.xlsx
    """
    from xls_gongkai.batch.merge import write_summary, write_tidy
    from xls_gongkai.batch.roster import load_roster
    from xls_gongkai.cli import fail

    try:
        if out.suffix.lower() != ".xlsx":
            raise UsageError(f"--out 应是 .xlsx 文件，而不是 {out}。")
        units = load_roster(roster).units if roster is not None else None
        name = name.strip() or _default_name(units)
        if parquet_out is not None and parquet_out.suffix.lower() != ".parquet":
            parquet_out = parquet_out.with_suffix(parquet_out.suffix + ".parquet")
        outputs = [p for p in (out, csv_out, parquet_out) if p is not None]
        merged = _run(inputs, units, name, code, on_error, prefer, previous or [], outputs, jobs)
        # Writing 10,000 units' 明细 takes seconds: say so rather than look stuck.
        with Console(stderr=True).status("正在写出汇总表……"):
            write_summary(merged, out, password=password or None)
            if csv_out is not None:
                write_tidy(merged, csv_out)
            if parquet_out is not None:
                write_tidy(merged, parquet_out)
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    _print(merged, out, [p for p in (csv_out, parquet_out) if p is not None])
    if not merged.complete or any(i.is_error for i in merged.issues):
        raise typer.Exit(1)


def _default_name(units: tuple[Unit, ...] | None) -> str:
    # Counties that all kept the default name could not be told apart one level up.
    parents = {u.parent.strip() for u in units or ()}
    if len(parents) == 1 and (parent := parents.pop()):
        return parent if parent.endswith("汇总") else f"{parent}汇总"
    return "汇总"


def _run(
    inputs: list[Path],
    units: tuple[Unit, ...] | None,
    name: str,
    code: str,
    on_error: OnErrorChoice,
    prefer: PreferChoice | None,
    previous: list[Path],
    outputs: list[Path],
    jobs: int | None,
) -> Merged:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from xls_gongkai.batch.merge import merge

    with Progress(
        TextColumn("读取报表"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    ) as bar:
        task = bar.add_task("", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return merge(
            inputs,
            unit=Unit(code.strip(), name.strip() or "汇总"),
            roster=units,
            on_error=on_error.value,
            prefer="newest" if prefer is PreferChoice.NEWEST else None,
            previous=previous,
            exclude=outputs,
            jobs=jobs,
            progress=step,
        )


def _print(merged: Merged, out: Path, extra: list[Path]) -> None:
    from xls_gongkai.batch.merge import Status

    console = Console(soft_wrap=True)  # paths and names stay on one line
    counts = merged.counts()
    table = RichTable(title="报送情况")
    table.add_column("状态")
    table.add_column("单位数", justify="right")
    for status in Status:
        if counts[status] or status is not Status.UNREADABLE:
            table.add_row(status.value, str(counts[status]))
    console.print(table)
    not_ok = [e for e in merged.entries if e.status is not Status.SUBMITTED]
    for e in not_ok[:20]:
        who = e.unit.name or (Path(e.files[0]).name if e.files else "")
        note = e.note
        if e.status is Status.ERRORS:
            note = f"{e.errors} 个错误，{'已' if e.included else '未'}计入汇总"
        console.print(f"  {e.status.value}：{who}{'（' + note + '）' if note else ''}", highlight=False, markup=False)
    if len(not_ok) > 20:
        console.print(f"  ……另有 {len(not_ok) - 20} 个，见汇总表“报送情况”。", highlight=False)
    errors = sum(1 for i in merged.issues if i.is_error)
    warnings = len(merged.issues) - errors
    failing = [i for i in merged.total_issues if i.is_error]
    console.print(
        f"汇总了 {merged.report.units} 个单位；问题 {errors} 个错误、{warnings} 个警告（见“问题清单”）。"
        + (f"汇总数据有 {len(failing)} 项校验未通过。" if failing else "汇总数据校验全部通过。"),
        highlight=False,
    )
    console.print(f"已写出 {out}" + "".join(f"、{p}" for p in extra), highlight=False, markup=False)
