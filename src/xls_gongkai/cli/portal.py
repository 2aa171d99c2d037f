"""``xls-gongkai portal``: the collection portal (init, links, serve, backup, restore, password).

Django is imported inside the commands only: ``xls-gongkai --help`` stays fast, and every
other command works without the optional ``portal`` dependencies installed.
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from xls_gongkai.errors import XlsGongkaiError

app = typer.Typer(
    name="portal",
    help=(
        "收集平台：在一台办公电脑上用浏览器收集、检查、审核各单位的年报并汇总（需安装 xls-gongkai[portal]）。\n\n"
        "示例：\n\n"
        "  xls-gongkai portal init 年报2024 --year 2024 --roster 名册.csv --deadline 2025年2月20日\n\n"
        "  xls-gongkai portal links 年报2024 --base-url http://192.168.1.5:8000 --csv 链接.csv\n\n"
        "  xls-gongkai portal serve 年报2024 --host 0.0.0.0 --port 8000"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

INSTALL_HINT = "收集平台需要安装可选组件：pip install 'xls-gongkai[portal]'（在本仓库中：make test 或 pip install -e '.[portal]'）。"

Dir = Annotated[Path, typer.Argument(help="实例文件夹：数据库、上传的文件和密钥都在这里。", show_default=False)]


def _ops() -> ModuleType:
    """The portal's operations, imported only now (they need Django)."""
    try:
        import django  # noqa: F401
        import waitress  # noqa: F401
    except ImportError as exc:
        typer.echo(f"错误：{INSTALL_HINT}", err=True)
        raise typer.Exit(2) from exc
    from xls_gongkai.portal import ops

    return ops


def _fail(exc: XlsGongkaiError) -> typer.Exit:
    typer.echo(f"错误：{exc}", err=True)
    return typer.Exit(exc.exit_code)


@app.command("init")
def init(
    directory: Dir,
    year: Annotated[int, typer.Option("--year", "-y", help="报告年度（如 2024）。", show_default=False)],
    roster: Annotated[
        Path,
        typer.Option("--roster", "-r", help="单位名册（CSV 或 XLSX，列：代码、名称，可选 上级）。", show_default=False),
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="县（市、区）名称；默认取名册的“上级”。", show_default=False)
    ] = None,
    deadline: Annotated[
        str, typer.Option("--deadline", help="报送截止时间（如 2025年2月20日），写入模板并用于判断逾期。")
    ] = "",
    contact: Annotated[str, typer.Option("--contact", help="联系人及电话，写入模板和催报文字。")] = "",
    password: Annotated[
        str | None,
        typer.Option("--password", help="县政务公开办的登录密码；不给时自动生成并显示。", show_default=False),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="使用 PostgreSQL 而不是本机 SQLite：postgresql://用户:密码@主机:端口/库名。",
            show_default=False,
        ),
    ] = None,
) -> None:
    """建立收集平台的实例文件夹：数据库、上传文件夹、密钥、名册中的每个单位和登录账号。

    示例：xls-gongkai portal init 年报2024 --year 2024 --roster samples/roster.csv --deadline 2025年2月20日
    """
    ops = _ops()
    try:
        created = ops.cli_init(
            directory,
            year=year,
            roster=roster,
            name=name,
            deadline=deadline,
            contact=contact,
            password=password,
            database=database,
        )
    except XlsGongkaiError as exc:
        raise _fail(exc) from exc
    typer.echo(f"已建立收集平台：{directory}（{created.units} 个单位）")
    typer.echo(f"县政务公开办登录：用户名 {ops.OFFICER_USERNAME}")
    if created.generated:
        typer.echo(f"密码：{created.password}    （只显示这一次，请记下；忘记时用 xls-gongkai portal password 重设）")
    typer.echo(f"下一步：xls-gongkai portal links {directory} --base-url http://本机地址:8000 --csv 链接.csv")


@app.command("links")
def links(
    directory: Dir,
    base_url: Annotated[
        str, typer.Option("--base-url", help="各单位访问本机的地址，如 http://192.168.1.5:8000。", show_default=False)
    ],
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="把链接写入 CSV 文件（代码、名称、链接）。", show_default=False)
    ] = None,
    rotate: Annotated[
        str | None, typer.Option("--rotate", help="更换这个单位（代码）的链接，旧链接立即失效。", show_default=False)
    ] = None,
) -> None:
    """列出每个单位的专属填报链接（代码、名称、链接）。链接等于填报权限，请单独发给各单位。

    示例：xls-gongkai portal links 年报2024 --base-url http://192.168.1.5:8000 --csv 链接.csv
    """
    ops = _ops()
    try:
        ops.setup(directory)
        if rotate:
            ops.rotate(rotate)
            typer.echo(f"已更换单位 {rotate} 的链接，旧链接已失效。")
        rows = ops.link_rows(base_url)
    except XlsGongkaiError as exc:
        raise _fail(exc) from exc
    if rotate:
        rows = [r for r in rows if r.code == rotate]
    if csv_out is not None:
        try:
            with csv_out.open("w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(["代码", "名称", "链接"])
                writer.writerows([r.code, r.name, r.url] for r in rows)
        except OSError as exc:
            typer.echo(f"错误：无法写入 {csv_out}（{exc.strerror or exc}）。", err=True)
            raise typer.Exit(2) from exc
        typer.echo(f"已写入 {csv_out}（{len(rows)} 个单位）")
        return
    for r in rows:
        typer.echo(f"{r.code}\t{r.name}\t{r.url}")


@app.command("serve")
def serve(
    directory: Dir,
    host: Annotated[str, typer.Option("--host", help="监听地址；让局域网访问请用本机地址或 0.0.0.0。")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口。")] = 8000,
    threads: Annotated[int, typer.Option("--threads", help="同时处理的请求数。")] = 8,
) -> None:
    """启动收集平台（waitress），按 Ctrl+C 停止。

    示例：xls-gongkai portal serve 年报2024 --host 0.0.0.0 --port 8000
    """
    ops = _ops()
    try:
        ops.cli_serve(directory, host=host, port=port, threads=threads)
    except XlsGongkaiError as exc:
        raise _fail(exc) from exc
    except OSError as exc:
        typer.echo(
            f"错误：无法在 {host}:{port} 启动（{exc.strerror or exc}）。端口可能已被占用，请换一个 --port。", err=True
        )
        raise typer.Exit(2) from exc


@app.command("backup")
def backup(
    directory: Dir,
    out: Annotated[Path, typer.Argument(help="备份文件（.zip）。", show_default=False)],
) -> None:
    """备份：数据库（运行中也能得到一致的快照）、全部上传文件和密钥，写成一个 zip。

    备份中含密钥和全部报表，请像保管原件一样保管。示例：xls-gongkai portal backup 年报2024 备份/2025-01-20.zip
    """
    ops = _ops()
    try:
        instance = ops.setup(directory)
        manifest = ops.backup(instance, out)
    except XlsGongkaiError as exc:
        raise _fail(exc) from exc
    except OSError as exc:
        typer.echo(f"错误：无法写入备份 {out}（{exc.strerror or exc}）。", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"已备份到 {out}（数据库 + {manifest['files']} 个文件）")


@app.command("restore")
def restore(
    archive: Annotated[Path, typer.Argument(help="portal backup 生成的 zip。", show_default=False)],
    directory: Dir,
    database: Annotated[
        str | None,
        typer.Option(
            "--database", help="恢复到这个 PostgreSQL 空数据库（备份来自 PostgreSQL 时必填）。", show_default=False
        ),
    ] = None,
) -> None:
    """从备份恢复到一个新的空实例文件夹。

    示例：xls-gongkai portal restore 备份/2025-01-20.zip 年报2024-恢复
    """
    ops = _ops()
    try:
        manifest = ops.restore(archive, directory, database=database)
    except XlsGongkaiError as exc:
        raise _fail(exc) from exc
    typer.echo(
        f"已恢复到 {directory}（{manifest.get('files', '?')} 个文件，备份时间 {manifest.get('created', '未知')}）"
    )


@app.command("password")
def password(
    directory: Dir,
    new: Annotated[
        str | None, typer.Option("--password", help="新密码；不给时自动生成并显示。", show_default=False)
    ] = None,
) -> None:
    """重设县政务公开办的登录密码。"""
    ops = _ops()
    try:
        ops.setup(directory)
        value = ops.set_password(new)
    except XlsGongkaiError as exc:
        raise _fail(exc) from exc
    typer.echo("已重设密码。" if new else f"新密码：{value}")
