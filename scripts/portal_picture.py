"""Screenshots of the collection portal for the README (docs/images/portal-*.png).

Builds the demo instance (scripts/portal_demo.py), serves it with ``xls-gongkai portal serve``
in a subprocess and photographs, in Debian's chromium: the officer's status board, a clerk's
upload result with the failing cells marked, and a receipt. Needs chromium and fonts-noto-cjk
(``make sysdeps``).

    .venv/bin/python scripts/portal_picture.py [OUTDIR]
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> int:
    from playwright.sync_api import sync_playwright
    from portal_demo import build  # type: ignore[import-not-found]
    from tests.portal.http import CHROMIUM_ARGS, Server

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("需要 chromium：make sysdeps")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "demo"
        password, _links = build(directory, port=0)
        server = Server(directory)
        try:
            from tests.portal.http import links

            paths = links(directory, server.base)
            with sync_playwright() as pw:
                # LANGUAGE: the browser's own words (the file chooser's "选择文件") in Chinese too.
                browser = pw.chromium.launch(
                    executable_path=chromium,
                    args=[*CHROMIUM_ARGS, "--lang=zh-CN"],
                    env={**os.environ, "LANGUAGE": "zh_CN"},
                )
                shoot(browser, server.base, paths, password, out)
                browser.close()
        finally:
            server.stop()
    return 0


def shoot(browser: object, base: str, paths: dict[str, str], password: str, out: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1, locale="zh-CN")  # type: ignore[attr-defined]
    officer = context.new_page()
    officer.goto(base + "/officer/")
    officer.fill("#password", password)
    officer.click("button[type=submit]")
    officer.wait_for_url(base + "/officer/")
    officer.screenshot(path=str(out / "portal-board.png"), full_page=True)

    clerk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()  # type: ignore[attr-defined]
    clerk.goto(base + paths["410102002"])  # 东城街道: an upload with errors
    clerk.click("text=查看检查结果")
    clerk.wait_for_url(re.compile(r".*/unit/v/\d+/$"))
    # The summary, the issues and 表三 with its marked cells: the top of the page down to the grid.
    grid = clerk.locator("details", has=clerk.locator("#s2")).locator(".grid-wrap").first
    box = grid.bounding_box()
    height = int(box["y"] + box["height"] + 16) if box else 2000
    clerk.set_viewport_size({"width": 1280, "height": height})
    clerk.screenshot(path=str(out / "portal-result.png"), clip={"x": 0, "y": 0, "width": 1280, "height": height})

    receipt = browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN").new_page()  # type: ignore[attr-defined]
    receipt.goto(base + paths["410102003"])  # 西城街道: submitted, with a 说明
    receipt.click("text=查看回执")
    receipt.wait_for_url(re.compile(r".*/receipt/$"))
    receipt.screenshot(path=str(out / "portal-receipt.png"), full_page=True)


if __name__ == "__main__":
    sys.exit(main())
