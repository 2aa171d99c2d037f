"""Where formats come from: the built-in definitions, local variants, and one registry of both.

Every format loaded in a process is kept in one registry keyed by its content digest, so the
same definition is always the same :class:`Format` object (the caches of layouts and rule
engines hang on that object), and a worker process asked for a format by digest gets exactly it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from xls_gongkai.errors import SpecError, UsageError
from xls_gongkai.spec.load import parse_format, read_definition
from xls_gongkai.spec.model import Format

_REGISTRY: dict[str, Format] = {}


def _builtin_dir() -> Path:
    # In a wheel the definitions are packaged as xls_gongkai/templates; in a source checkout
    # they live at the top-level templates/ folder, which is where a county officer edits them.
    packaged = resources.files("xls_gongkai").joinpath("templates")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "templates"


def _register(text: str, source: str, builtin: bool) -> Format:
    fmt = parse_format(text, source, builtin=builtin)
    return _REGISTRY.setdefault(fmt.digest, fmt)


@cache
def builtin_formats() -> tuple[Format, ...]:
    """The formats shipped with the package, oldest first (loaded once)."""
    formats = []
    for path in sorted(_builtin_dir().glob("*.yaml")):
        text = read_definition(path)
        fmt = parse_format(text, path.stem, builtin=True)
        formats.append(_REGISTRY.setdefault(fmt.digest, fmt))
    return tuple(sorted(formats, key=lambda f: f.year_from))


def load_format(path: str | Path) -> Format:
    """Load and validate a format definition file (a local variant).

    Raises :class:`SpecError` naming the file and the key when the definition is broken. The
    same file content always gives the same object.
    """
    text = read_definition(path)
    return _register(text, str(path), builtin=False)


def format_for_year(year: int, formats: tuple[Format, ...] = ()) -> Format:
    """The format that covers ``year``: among ``formats`` first, then the built-in ones."""
    for fmt in (*formats, *builtin_formats()):
        if fmt.covers(year):
            return fmt
    raise UsageError(f"没有适用于 {year} 年度报告的格式（内置格式从 2019 年起）。请检查年份，或用 --format 指定格式。")


def get_format(name: str | int | Format) -> Format:
    """A format by built-in id (``gongkai-2021``, ``2021``), report year (``2024``) or YAML path."""
    if isinstance(name, Format):
        return name
    if isinstance(name, int) or name.isdigit():
        number = int(name)
        for fmt in builtin_formats():
            if fmt.id.removeprefix("gongkai-") == str(number):
                return fmt
        return format_for_year(number)
    for fmt in builtin_formats():
        if name == fmt.id:
            return fmt
    if name.endswith((".yaml", ".yml")):
        return load_format(name)
    known = "、".join(f.id for f in builtin_formats())
    raise UsageError(f"未知的格式“{name}”。可用：{known}，或年份（如 2024），或 YAML 文件路径。")


def find_format(format_id: str, formats: tuple[Format, ...] = ()) -> Format | None:
    """The format with this id among ``formats`` (the caller's variants), else a built-in."""
    for fmt in (*formats, *builtin_formats()):
        if fmt.id == format_id:
            return fmt
    return None


def restore_format(source: str, digest: str, builtin: bool) -> Format:
    """The format a pickled :class:`Format` stands for (see ``Format.__reduce__``)."""
    found = _REGISTRY.get(digest)
    if found is not None:
        return found
    fmt = next((f for f in builtin_formats() if f.source == source), None) if builtin else load_format(source)
    if fmt is None or fmt.digest != digest:
        raise SpecError(f"格式定义文件 {source} 在处理过程中被修改了。请重新运行。")
    return fmt
