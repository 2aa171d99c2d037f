"""The command line: a thin layer over the library (one module per command).

Exit codes: 0 all well; 1 the data has errors; 2 a file could not be used, or a usage error.
Library errors become one Chinese line on stderr, never a traceback. Command modules import
only typer and rich at module level, so ``xls-gongkai --help`` starts fast.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from xls_gongkai import __version__
from xls_gongkai.cli import chinese
from xls_gongkai.cli import formats as formats_cmd
from xls_gongkai.cli import portal as portal_cmd  # typer only: Django is imported inside its commands
from xls_gongkai.cli.check import check
from xls_gongkai.cli.common import fail
from xls_gongkai.cli.generate import generate
from xls_gongkai.cli.importcmd import import_cmd
from xls_gongkai.cli.merge import merge_cmd
from xls_gongkai.cli.read import read
from xls_gongkai.cli.render import render_cmd

__all__ = ["app", "fail", "main"]

chinese.install()

app = typer.Typer(
    name="xls-gongkai",
    help=(
        "政府信息公开工作年度报告：生成填报模板、读取校验、汇总、与报告文本互转。\n\n"
        "示例：\n\n"
        "  xls-gongkai formats                      # 列出内置格式\n\n"
        "  xls-gongkai formats show 2024            # 查看 2024 年度适用格式的表格与勾稽关系"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"xls-gongkai {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="显示版本号并退出。")
    ] = False,
) -> None:
    """政府信息公开工作年度报告工具。"""


app.add_typer(formats_cmd.app, name="formats")
app.command("generate")(generate)
app.command("read")(read)
app.command("check")(check)
app.command("merge")(merge_cmd)
app.command("import")(import_cmd)
app.command("render")(render_cmd)
app.add_typer(portal_cmd.app, name="portal")


def main(args: list[str] | None = None) -> None:
    """Entry point of the ``xls-gongkai`` console script.

    Usage errors (an unknown option, a missing argument, a bad choice) are one Chinese line on
    stderr and exit code 2, like every other error; nothing reaches the user in English.
    """
    from xls_gongkai.errors import XlsGongkaiError

    try:
        code = app(args=args, standalone_mode=False)
    except XlsGongkaiError as exc:
        sys.stderr.write(f"错误：{exc}\n")
        raise SystemExit(exc.exit_code) from exc
    except KeyboardInterrupt:
        sys.stderr.write("已中止。\n")
        raise SystemExit(130) from None
    except Exception as exc:
        if type(exc).__name__ == "Abort":
            sys.stderr.write("已中止。\n")
            raise SystemExit(1) from None
        if not hasattr(exc, "format_message") or not hasattr(exc, "exit_code"):
            raise
        sys.stderr.write(chinese.usage_error(exc) + "\n")
        raise SystemExit(2) from None
    raise SystemExit(code if isinstance(code, int) else 0)
