"""The shared LibreOffice helper for tests: convert many files in ONE headless call.

Start-up costs ~1.4 s per ``soffice`` call, so a test batches all its files into one call.
Each call gets its own throw-away profile (``-env:UserInstallation``) so that parallel runs
or a leftover instance cannot collide. With ``recalc=True`` the profile tells LibreOffice to
recompute every formula on load (``OOXMLRecalcMode`` = 0, "always"); otherwise LibreOffice
keeps the cached results stored in the file.

Use::

    from tests.lo import convert, requires_soffice

    @requires_soffice
    def test_x(tmp_path):
        out = convert([path1, path2], "xlsx", tmp_path / "out", recalc=True)
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

#: Mark a test that needs LibreOffice; it skips with a visible reason when it is missing.
requires_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) 未安装：跳过真实电子表格测试")

_RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""


class ConversionError(RuntimeError):
    """LibreOffice did not produce every expected output file."""


def _profile(recalc: bool) -> Path:
    root = Path(tempfile.mkdtemp(prefix="xls_gongkai_lo_"))
    if recalc:
        user = root / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(_RECALC_XCU, encoding="utf-8")
    return root


def convert(
    paths: Sequence[Path | str],
    fmt: str = "xlsx",
    outdir: Path | str | None = None,
    *,
    recalc: bool = False,
    timeout: float = 600,
) -> list[Path]:
    """Convert ``paths`` with one ``soffice --headless --convert-to fmt`` call.

    Returns the output paths in the order of ``paths`` (``<outdir>/<stem>.<ext>``). ``fmt`` is
    a LibreOffice filter spec such as ``"xlsx"``, ``"pdf"`` or ``"xlsx:Calc MS Excel 2007 XML"``;
    the extension is the part before ``:``. Inputs must have distinct stems (outputs would
    collide). Raises :class:`ConversionError` when an output is missing.
    """
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) 未安装")
    srcs = [Path(p).resolve() for p in paths]
    if not srcs:
        return []
    stems = [p.stem for p in srcs]
    if len(set(stems)) != len(stems):
        raise ValueError("convert(): input files must have distinct names (the outputs would collide)")
    out = Path(outdir) if outdir is not None else Path(tempfile.mkdtemp(prefix="xls_gongkai_lo_out_"))
    out.mkdir(parents=True, exist_ok=True)
    ext = fmt.split(":", 1)[0]
    # Converting xlsx to xlsx would write onto an input that lives in outdir: refuse early.
    for p in srcs:
        if p.parent == out.resolve() and p.suffix.lstrip(".") == ext:
            raise ValueError(f"convert(): {p} would be overwritten; use another outdir")
    results = [out / f"{p.stem}.{ext}" for p in srcs]
    for r in results:
        r.unlink(missing_ok=True)  # a stale output from an earlier run must not pass for a new one
    proc = _run(srcs, fmt, out, recalc, timeout)
    missing = [r for r in results if not r.exists()]
    if missing:
        # A fresh profile's first start occasionally fails on a loaded machine: retry once.
        proc = _run([p for p, r in zip(srcs, results, strict=True) if not r.exists()], fmt, out, recalc, timeout)
        missing = [r for r in results if not r.exists()]
    if missing:
        raise ConversionError(
            f"soffice did not write {len(missing)} file(s), e.g. {missing[0]}; "
            f"exit {proc.returncode}; stderr: {proc.stderr.strip()[:500]}"
        )
    return results


def _run(srcs: Sequence[Path], fmt: str, out: Path, recalc: bool, timeout: float) -> subprocess.CompletedProcess[str]:
    assert SOFFICE is not None  # checked by convert()
    profile = _profile(recalc)
    cmd = [
        SOFFICE,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nologo",
        "--convert-to",
        fmt,
        "--outdir",
        str(out),
        *map(str, srcs),
    ]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
