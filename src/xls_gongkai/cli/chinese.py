"""The command line's own words in Chinese: usage errors, help headings, the help option.

typer (with the click it carries) prints some words through ``gettext`` (given Chinese ones
here), writes others as plain English strings, and raises usage errors whose messages are
English: :func:`usage_error` turns those into one Chinese line, and :func:`install` puts the
Chinese words into the help pages. A test runs every kind of mistake through the real command
and fails if any English comes back (a new typer release would show up there).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

_WORDS: dict[str, str] = {
    "Aborted!": "已中止。",
    "Aborted.": "已中止。",
    "Options": "选项",
    "Positional arguments": "参数",
    "Arguments": "参数",
    "Commands": "命令",
    "Missing command.": "缺少命令。",
    "Usage:": "用法：",
    "Error: {message}": "错误：{message}",
    "Error": "错误",
    "Try '{command} {option}' for help.": "用 '{command} {option}' 查看帮助。",
    "Invalid value: {message}": "取值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "unknown error": "未知错误",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "Invalid start character for option ({option})": "选项的开头字符无效（{option}）",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是/否值，可用：{states}",
    "integer": "整数",
    "float": "数",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 无法写入。",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "default: {default}": "默认：{default}",
    "required": "必需",
    "[required]": "[必需]",
    "[default: {}]": "[默认：{}]",
}

_PLURALS: dict[str, str] = {
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Did you mean {possibility}?": "是否想用 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是否想用其中之一：{possibilities}？）",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{value!r} is not one of {choices}.": "{value!r} 不是可用的取值（可用：{choices}）。",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 1 个。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个值，给了 {len} 个。",
}


def _gettext(message: str) -> str:
    return _WORDS.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    chosen = singular if n == 1 else plural
    return _PLURALS.get(chosen, chosen)


_MODULES = (
    "typer._click.core",
    "typer._click.parser",
    "click.core",
    "click.exceptions",
    "click.parser",
    "click.types",
    "click.formatting",
    "click.decorators",
    "click.termui",
    "click.utils",
    "typer.core",
    "typer.main",
)


HELP_TEXT = "显示本帮助并退出。"
USAGE = "用法："


def install() -> None:
    """Give typer's and click's modules the Chinese words (idempotent)."""
    functions: dict[str, Callable[..., str]] = {"_": _gettext, "gettext": _gettext, "ngettext": _ngettext}
    for name in _MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        for attr, fn in functions.items():
            if attr in vars(module):
                setattr(module, attr, fn)
    _install_help()


def _install_help() -> None:
    """The usage line's prefix and the help option's text, which typer writes as plain strings."""
    try:
        from typer._click import decorators, formatting
    except ImportError:  # a typer without its own click: the gettext words above suffice
        return
    if getattr(decorators.help_option, "_chinese", False):
        return
    english_option = decorators.help_option
    write_usage = formatting.HelpFormatter.write_usage

    def help_option(param_decls: Any) -> Callable[[Any], Any]:
        add = english_option(param_decls)

        def apply(cmd: Any) -> Any:
            cmd = add(cmd)
            cmd.params[-1].help = HELP_TEXT
            return cmd

        return apply

    def chinese_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(
            self,
            prog,
            args.replace("[OPTIONS]", "[选项]").replace("COMMAND", "命令").replace("[ARGS]", "[参数]"),
            USAGE if prefix is None else prefix,
        )

    help_option._chinese = True  # type: ignore[attr-defined]
    decorators.help_option = help_option
    formatting.HelpFormatter.write_usage = chinese_usage  # type: ignore[method-assign]


#: The English of typer's usage errors, and its Chinese (applied in order).
_ERRORS: tuple[tuple[str, str], ...] = (
    (r"No such option: (\S+) \(Possible options: (.+)\)", r"没有 \1 这个选项，是否想用 \2？"),
    (r"No such option: (\S+)", r"没有 \1 这个选项"),
    (r"(?:No such command|没有命令) '(.+?)'[.。]*\s*Did you mean '(.+?)'\?", r"没有 \1 这个命令，是否想用 \2？"),
    (r"(?:No such command|没有命令) '(.+?)'[.。]*", r"没有 \1 这个命令"),
    (r"Missing argument '(.+?)'\.", r"缺少参数 \1"),
    (r"Missing option '(.+?)'\.", r"缺少选项 \1"),
    (r"Missing parameter: (.+)", r"缺少参数 \1"),
    (r"Invalid value for '(.+?)'(?: / '(.+?)')?: ", r"\1 的取值无效："),
    (r"Value error, '(.+?)' is not one of (.+?)\.?$", r"“\1”不是可用的取值（可用：\2）"),
    (r"'(.+?)' is not one of (.+?)\.?$", r"“\1”不是可用的取值（可用：\2）"),
    (r"Input should be a valid integer.*$", r"应为整数"),
    (r"Input should be a valid number.*$", r"应为数字"),
    (r"Path '(.+?)' does not exist\.?", r"路径 \1 不存在"),
    (r"Option '(.+?)' requires an argument\.?", r"选项 \1 后面要写一个值"),
    (r"Option '(.+?)' does not take a value\.?", r"选项 \1 后面不能写值"),
    (r"Got unexpected extra arguments? \((.*)\)", r"多余的参数（\1）"),
    (r"Missing command\.?", r"缺少命令"),
)


def usage_error(exc: Exception) -> str:
    """One Chinese line for a usage error of typer's (an unknown option, a missing argument)."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    for english, chinese in _ERRORS:
        message = re.sub(english, chinese, message)
    # a list of choices as Chinese writes it: docx、md、html
    message = re.sub(
        r"（可用：(.+?)）",
        lambda m: "（可用：" + "、".join(re.findall(r"'([^']*)'", m.group(1)) or [m.group(1)]) + "）",
        message,
    )
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "xls-gongkai"
    message = message.rstrip("。.")
    return f"错误：{message}{'' if message.endswith('？') else '。'}用 {where} -h 查看用法"
