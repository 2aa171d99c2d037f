"""``xls-gongkai generate``: blank, locked, self-checking templates for one unit or a roster."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xls_gongkai.cli.common import FormatOpt, fail, format_option, visible

if TYPE_CHECKING:
    from xls_gongkai.report import Unit
    from xls_gongkai.spec import Format
    from xls_gongkai.workbook.writer import WriteOptions


def _pick(year: int | None, format_name: str | None) -> tuple[int, Format]:
    from xls_gongkai.errors import UsageError
    from xls_gongkai.spec import format_for_year

    fmt = format_option(format_name)
    if fmt is not None:
        if year is None:
            # Reports are filed early in the year for the year before.
            year = date.today().year - 1
            if not fmt.covers(year):
                year = fmt.year_to or fmt.year_from
        return year, fmt
    if year is None:
        raise UsageError("请用 --year 指定报告年度（如 --year 2024），或用 --format 指定格式。")
    return year, format_for_year(year)


def future_year_note(year: int, today: date | None = None) -> str:
    """A warning for a report year that has not ended yet and is not the current one.

    Reports are written in January for the year just ended, and a county may prepare the
    current year's templates early; a year after the current one is most likely a slip
    (2042 for 2024) that would produce a whole folder of wrong templates.
    """
    now = (today or date.today()).year
    if year <= now:
        return ""
    return (
        f"注意：{year} 年度还没有开始（今年是 {now} 年），年度报告一般在次年一月编制上一年度的。"
        "请确认 --year 是否填错；模板仍已生成。"
    )


def generate(
    year: Annotated[
        int | None, typer.Option("--year", "-y", help="报告年度（如 2024）；格式由年度自动确定。", show_default=False)
    ] = None,
    roster: Annotated[
        Path | None,
        typer.Option(
            "--roster",
            "-r",
            help="单位名册（CSV：UTF-8 或 GBK；或 XLSX），列：代码、名称，可选 上级。每个单位生成一个模板。",
            show_default=False,
        ),
    ] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", "-u", help="只为一个单位生成：单位名称。", show_default=False)
    ] = None,
    code: Annotated[str, typer.Option("--code", help="与 --unit 一起使用：单位代码。")] = "",
    parent: Annotated[str, typer.Option("--parent", help="与 --unit 一起使用：上级单位。")] = "",
    out: Annotated[Path, typer.Option("--out", "-o", help="输出目录（不存在时自动创建）。")] = Path("."),
    format_name: FormatOpt = None,
    password: Annotated[
        str | None,
        typer.Option("--password", help="工作表保护密码（不设则无密码保护，防误改）。", show_default=False),
    ] = None,
    deadline: Annotated[str, typer.Option("--deadline", help="报送截止时间，写入填报说明（如 2025年2月20日）。")] = "",
    contact: Annotated[str, typer.Option("--contact", help="联系人及电话，写入填报说明。")] = "",
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的同名文件。")] = False,
) -> None:
    """生成填报模板：每个单位一个锁定、带数据验证和自动校验的 Excel 工作簿。

    文件名为 <代码>_<名称>_<年度>.xlsx；已存在的文件不会被覆盖（除非加 --force）。年度晚于今年时提示一行警告（多半是年份填错），模板照常生成。

    示例：

      xls-gongkai generate --year 2024 --roster samples/roster.csv --out out/

      xls-gongkai generate --year 2024 --unit 城关镇 --code 410102001 --out out/

      xls-gongkai generate -y 2024 -r 名册.xlsx -o 模板/ --deadline "2025年2月20日" --contact "政务公开办 0371-1234567"
    """
    from xls_gongkai.batch.roster import load_roster
    from xls_gongkai.errors import UsageError, XlsGongkaiError
    from xls_gongkai.report import Unit
    from xls_gongkai.workbook.writer import WriteOptions

    try:
        if (roster is None) == (unit is None):
            raise UsageError("请用 --roster 指定名册，或用 --unit 指定一个单位（二者选一）。")
        y, fmt = _pick(year, format_name)
        if roster is not None:
            units = load_roster(roster).units
        else:
            assert unit is not None  # checked above
            if not unit.strip():
                raise UsageError("--unit 的单位名称不能为空。")
            units = (Unit(code.strip(), unit.strip(), parent.strip()),)
        if out.exists() and not out.is_dir():
            raise UsageError(f"输出位置 {out} 是一个文件，不是目录。请用 --out 指定一个目录。")
        options = WriteOptions(password=password or None, deadline=deadline, contact=contact)
        paths = _write(units, y, out, fmt, options, force)
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    except OSError as exc:
        # A full disk, a read-only folder, a file held open by Excel/WPS: one line, not a traceback.
        name = exc.filename or out
        raise fail(UsageError(f"无法写入 {name}：{exc.strerror or exc}。请检查输出目录和磁盘空间。")) from exc
    if note := future_year_note(y):
        typer.echo(note, err=True)
    if len(paths) == 1:
        typer.echo(f"已生成 {visible(str(paths[0]))}（{y} 年度，格式 {fmt.name}）")
    else:
        typer.echo(f"已生成 {len(paths)} 个模板（{y} 年度，格式 {fmt.name}），保存在 {visible(str(out))}")


def _write(
    units: tuple[Unit, ...], year: int, out: Path, fmt: Format, options: WriteOptions, force: bool
) -> list[Path]:
    """The templates, with a progress bar when there are several."""
    from xls_gongkai.workbook.writer import generate_templates

    if len(units) == 1:
        return generate_templates(units, year, out, fmt=fmt, options=options, force=force)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("生成模板"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=len(units))

        def advance(u: Unit, _path: Path) -> None:
            bar.update(task, advance=1, description=u.name)

        return generate_templates(units, year, out, fmt=fmt, options=options, force=force, progress=advance)
