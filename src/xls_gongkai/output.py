"""The one way every command writes a file: a temporary file in the target folder, then rename.

Nothing half-written is ever left under the real name (an interrupted run, a full disk, a
report still open in Excel), and every failure is one Chinese line naming the file and what to
do (:class:`~xls_gongkai.errors.UsageError`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from xls_gongkai.errors import UsageError

__all__ = ["atomic_path", "check_output", "staged"]


def check_output(path: str | os.PathLike[str], suffixes: tuple[str, ...], what: str = "输出") -> Path:
    """Refuse an unusable output name before any work is done (not after a long batch)."""
    out = Path(path)
    allowed = "、".join(suffixes)
    if out.suffix.lower() not in suffixes:
        raise UsageError(f"不支持的{what}格式 {out.name}：请用 {allowed}")
    if out.is_dir():
        raise UsageError(f"{out} 是文件夹。请给出{what}文件的名字（{allowed}）")
    return out


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path next to ``target``, moved onto it with :func:`os.replace` on success.

    Raises :class:`UsageError` (naming the file) when it cannot be written or replaced — on
    Windows most often because the old file is open in Excel or WPS.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise UsageError(f"无法在 {target.parent} 中写入文件（{exc.strerror or exc}）。请换一个输出位置。") from exc
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); give it the permissions a normal new file gets.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(
            f"无法写入 {target}（{exc.strerror or exc}）。如果它正在 Excel 或 WPS 中打开，请关闭后重试。"
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def staged(targets: list[Path]) -> Iterator[dict[Path, Path]]:
    """Several outputs written all or none: each to a temporary name beside its target, all
    moved into place only when every one was written (merge's summary and its CSV).

    An output equal to an input is the caller's to refuse; a target that cannot be written
    raises :class:`UsageError` and leaves every target as it was.
    """
    temps: dict[Path, Path] = {}
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
            os.close(fd)
            temps[target] = Path(name)
        yield temps
        for target, tmp in temps.items():
            os.replace(tmp, target)
    except OSError as exc:
        raise UsageError(
            f"无法写入 {exc.filename or targets[0]}（{exc.strerror or exc}）。请检查输出位置和磁盘空间，或关闭正在使用它的程序后重试。"
        ) from exc
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
