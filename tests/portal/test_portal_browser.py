"""End-to-end journeys in a real browser (Debian's chromium driven by Playwright, no browser download)
against the real ``xls-gongkai portal serve`` in a subprocess, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.portal.conftest import PASSWORD, Books, database_url
from tests.portal.http import CHROMIUM_ARGS, Server, init, links
from xls_gongkai import read_workbook

CHROMIUM = shutil.which("chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="没有安装 chromium（make sysdeps 会安装）/ chromium not installed"),
]


@dataclass
class Portal:
    base: str
    links: dict[str, str]
    directory: Path
    db_kind: str

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def portal(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    directory = tmp_path_factory.mktemp(f"portal-{request.param}") / "inst"
    url = database_url(request, request.param, f"gk_e2e_{uuid.uuid4().hex[:8]}")
    init(directory, "--password", PASSWORD, "--contact", "县政务公开办 0000-1234567", *url)
    server = Server(directory)
    try:
        yield Portal(server.base, links(directory, server.base), directory, request.param)
    finally:
        server.stop()


def new_page(browser: Any, *, javascript: bool = True) -> Any:
    context = browser.new_context(java_script_enabled=javascript, accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the "确认提交？" questions
    return page


def upload(page: Any, path: Path) -> None:
    page.set_input_files("input[type=file]", str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="上传并检查").click()


def officer_page(browser: Any, portal: Portal) -> Any:
    page = new_page(browser)
    page.goto(portal.url("/officer/"))
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    assert page.url == portal.url("/officer/")
    return page


def test_clerk_uploads_an_error_sees_it_fixes_explains_submits(
    browser: Any, portal: Portal, books: Books, tmp_path: Path
) -> None:
    page = new_page(browser)
    page.goto(portal.url(portal.links["410102001"]))
    assert page.url == portal.url("/unit/")  # the token is gone from the address bar
    assert page.locator("h1").inner_text() == "城关镇"

    with page.expect_download() as download:
        page.get_by_role("link", name="下载模板").click()
    assert download.value.suggested_filename == "410102001_城关镇_2024.xlsx"
    template = tmp_path / "t.xlsx"
    download.value.save_as(template)
    blank = read_workbook(template, year=2024)
    assert blank.report is not None
    assert blank.report.unit.code == "410102001"

    upload(page, books.make(bad=True))
    assert page.url.endswith("/unit/v/1/")
    assert "有 2 个错误" in page.locator(".summary-line").inner_text()
    assert page.locator("td.flag-error").count() >= 4  # D7, J7 and the cells of their equations
    assert page.locator("ol.issues li.error").first.inner_text().startswith("表三!D7")
    assert page.get_by_role("button", name="提交").is_disabled()
    with page.expect_download() as marked:
        page.get_by_role("link", name="下载标注副本（审核意见）").click()
    assert marked.value.suggested_filename.endswith("_审核意见.xlsx")

    fixed = books.make(blank_cell=True, warned=True)
    upload(page, fixed)
    assert page.url.endswith("/unit/v/2/")
    assert "没有错误" in page.locator(".summary-line").inner_text()
    assert "空白的填报格" in page.locator("ol.issues li.notice").inner_text()  # a notice: no 说明
    warning = page.locator("ol.issues li.warning", has_text="信息处理费")
    warning.locator("textarea").fill("本年度未收取信息处理费，正式报告中补上。")
    warning.get_by_role("button", name="保存说明").click()
    page.locator("ol.issues li.warning .saved").wait_for()  # swapped in by htmx, no page load
    assert page.url.endswith("/unit/v/2/")

    with page.expect_navigation():
        page.get_by_role("button", name="提交第 2 版").click()
    assert page.url.endswith("/unit/v/2/receipt/")
    receipt = page.locator(".receipt").inner_text()
    assert hashlib.sha256(fixed.read_bytes()).hexdigest() in receipt
    assert "第 2 版" in receipt
    assert "已写说明 1 条" in receipt

    # The back button shows the version again, from the server: submitted, no second 提交.
    page.go_back()
    assert "已于" in page.locator("#submit").inner_text()
    assert page.get_by_role("button", name="提交第 2 版").count() == 0


def test_officer_returns_accepts_and_downloads_the_summary(
    browser: Any, portal: Portal, books: Books, tmp_path: Path
) -> None:
    clerk = new_page(browser)
    clerk.goto(portal.url(portal.links["410102002"]))
    upload(clerk, books.make("410102002", "东城街道", seed=2))
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="提交第 1 版").click()

    officer = officer_page(browser, portal)
    row = officer.locator("tr", has_text="东城街道")
    assert "已提交·待审核" in row.inner_text()
    with officer.expect_navigation():
        row.get_by_role("link", name="审核").click()
    officer.fill("#reason", "表四请再核对一遍行政诉讼的数字。")
    with officer.expect_navigation():
        officer.get_by_role("button", name="退回第 1 版").click()
    assert "已退回" in officer.locator(".badge").first.inner_text()

    clerk.goto(portal.url("/unit/"))
    assert "表四请再核对一遍行政诉讼的数字。" in clerk.locator("#returned").inner_text()
    upload(clerk, books.make("410102002", "东城街道", seed=12))
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="提交第 2 版").click()

    officer.reload()
    with officer.expect_navigation():
        officer.get_by_role("button", name="通过第 2 版").click()
    assert "已通过" in officer.locator(".badge").first.inner_text()
    assert "通过" in officer.locator("table.list").last.inner_text()  # the audit log on the unit's page

    officer.goto(portal.url("/officer/summary/"))
    with officer.expect_download() as summary:
        officer.get_by_role("link", name="下载汇总表（.xlsx）").click()
    path = tmp_path / "summary.xlsx"
    summary.value.save_as(path)
    result = read_workbook(path)
    assert result.report is not None
    assert result.report.units >= 1  # the accepted units only (other tests may have accepted more)
    with officer.expect_download() as provisional:
        officer.get_by_role("link", name="下载临时汇总表（.xlsx）").click()
    assert "临时汇总" in provisional.value.suggested_filename


def test_daichuan_files_each_workbook_under_its_unit(
    browser: Any, portal: Portal, books: Books, tmp_path: Path
) -> None:
    officer = officer_page(browser, portal)
    officer.goto(portal.url("/officer/daichuan/"))
    good = books.make("410102103", "白沙镇", seed=31)
    copy = tmp_path / "白沙镇 - 副本.xlsx"
    copy.write_bytes(good.read_bytes())
    files = [good, copy, books.make("999999999", "外县某镇", seed=4), books.make("410102201", "柳河乡", year=2023)]
    officer.set_input_files("input[type=file]", [str(p) for p in files])
    with officer.expect_navigation():
        officer.get_by_role("button", name="代传并检查").click()
    table = officer.locator("table.list").inner_text()
    assert "已归档" in table
    assert "重复" in table
    assert "未知单位" in table
    assert "其他年度" in table
    officer.goto(portal.url("/officer/"))
    assert "已提交·待审核" in officer.locator("tr", has_text="白沙镇").inner_text()


def test_core_flow_with_javascript_off(browser: Any, portal: Portal, books: Books) -> None:
    page = new_page(browser, javascript=False)
    page.goto(portal.url(portal.links["410102003"]))
    upload(page, books.make("410102003", "西城街道", warned=True, seed=3))
    assert "没有错误" in page.locator(".summary-line").inner_text()
    warning = page.locator("ol.issues li.warning", has_text="信息处理费")
    warning.locator("textarea").fill("确无此项")
    with page.expect_navigation():
        warning.get_by_role("button", name="保存说明").click()
    assert "说明已保存" in page.locator("ul.messages").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="提交第 1 版").click()
    assert page.url.endswith("/receipt/")
    assert "已写说明 1 条" in page.locator(".receipt").inner_text()


def test_the_mistakes_clerks_make(browser: Any, portal: Portal, books: Books, tmp_path: Path) -> None:
    page = new_page(browser)
    page.goto(portal.url(portal.links["410102101"]))

    # A 60 MB file: refused in the browser before it is sent (JavaScript on) …
    big = tmp_path / "扫描件.xlsx"
    big.write_bytes(b"PK\x03\x04" + b"\0" * (60 * 1024 * 1024))
    page.set_input_files("input[type=file]", str(big))
    page.get_by_role("button", name="上传并检查").click()
    assert "文件过大" in page.locator("[data-note]").inner_text()
    assert page.url == portal.url("/unit/")
    # … and by the server, in Chinese, with JavaScript off.
    plain = new_page(browser, javascript=False)
    plain.goto(portal.url(portal.links["410102101"]))
    upload(plain, big)
    assert "文件过大" in plain.locator("h1").inner_text()

    pdf = tmp_path / "年报.xlsx"
    pdf.write_bytes(b"%PDF-1.4\n" + b"0" * 1000)
    upload(page, pdf)
    assert "是 PDF 文件，不是电子表格" in page.locator(".box.error").first.inner_text()

    from msoffcrypto.format.ooxml import OOXMLFile

    encrypted = tmp_path / "加密.xlsx"
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(books.make("410102101", "李庄镇").read_bytes())).encrypt("123", out)
    encrypted.write_bytes(out.getvalue())
    upload(page, encrypted)
    assert "密码" in page.locator(".box.error").first.inner_text()

    upload(page, books.make("410102102", "王村镇", seed=7))  # another unit's template, via this link
    assert "似乎不是本单位本年度的报表" in page.content()

    upload(page, books.make("410102101", "李庄镇", seed=8))
    with page.expect_navigation():
        page.get_by_role("button", name="提交第 4 版").click()
    officer = officer_page(browser, portal)
    officer.goto(portal.url("/officer/u/410102101/"))
    with officer.expect_navigation():
        officer.get_by_role("button", name="通过第 4 版").click()
    page.goto(portal.url("/unit/"))
    assert "已审核通过，数据已锁定" in page.content()
    assert page.locator("input[type=file]").count() == 0
