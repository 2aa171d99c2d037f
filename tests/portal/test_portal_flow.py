"""The clerk's and the officer's work through Django's test client: states, versions, 说明, review, 代传, summary."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse

from tests.portal.conftest import Books, clerk, unit, upload
from xls_gongkai.portal.models import AuditEntry, Campaign, Explanation, Version
from xls_gongkai.portal.states import State
from xls_gongkai.portal.summary import PROVISIONAL
from xls_gongkai.reading.reader import read_workbook
from xls_gongkai.spec import get_format
from xls_gongkai.workbook.layout import layout_for

pytestmark = pytest.mark.django_db


def actions(code: str = "410102001") -> list[str]:
    return list(AuditEntry.objects.filter(unit__code=code).order_by("at", "id").values_list("action", flat=True))


def test_link_is_exchanged_for_a_session_and_a_clean_address(campaign: Campaign) -> None:
    u = unit()
    assert u.state is State.NEW
    client = clerk(u)
    page = client.get(reverse("portal:unit"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "城关镇" in html
    assert "下载模板" in html
    assert "转发此链接等于转交填报权限" in html
    assert unit().state is State.VISITED
    assert actions() == ["打开链接"]


def test_template_download_is_the_units_own(campaign: Campaign) -> None:
    client = clerk(unit())
    response = client.get(reverse("portal:unit-template"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "410102001_%E5%9F%8E" in response["Content-Disposition"]  # 410102001_城关镇_2024.xlsx, encoded
    book = io.BytesIO(response.content)
    meta = openpyxl.load_workbook(book)["填报说明"]
    values = [str(c.value) for row in meta.iter_rows() for c in row if c.value]
    assert "城关镇" in values
    assert "410102001" in values
    assert any("2099年2月20日" in v for v in values)
    assert "下载模板" in actions()


def test_clerk_journey_error_fix_explain_submit(campaign: Campaign, books: Books) -> None:
    client = clerk(unit())
    bad = upload(client, books.make(bad=True))
    assert bad.status_code == 303
    assert bad["Location"] == reverse("portal:unit-version", args=[1])
    assert unit().state is State.DRAFT_ERRORS
    page = client.get(bad["Location"]).content.decode()
    assert "有 2 个错误" in page
    assert "表三!D7" in page
    assert "flag-error" in page
    assert "下载标注副本" in page
    assert 'type="button" disabled' in page
    marked = client.get(reverse("portal:unit-download", args=[1, "annotated"]))
    assert marked["Content-Disposition"].startswith("attachment")
    assert marked["X-Content-Type-Options"] == "nosniff"
    assert "问题清单" in openpyxl.load_workbook(io.BytesIO(marked.content)).sheetnames

    # Submitting a version with errors is refused.
    refused = client.post(reverse("portal:unit-submit", args=[1]))
    assert refused.status_code == 303
    assert unit().state is State.DRAFT_ERRORS

    fixed_path = books.make(blank_cell=True, warned=True)
    fixed = upload(client, fixed_path)
    assert fixed["Location"] == reverse("portal:unit-version", args=[2])
    assert unit().state is State.DRAFT_READY
    assert Version.objects.get(number=2).status == "有警告"
    page = client.get(fixed["Location"]).content.decode()
    assert "没有错误" in page
    assert "提交第 2 版" in page
    # The blank cell is the library's one notice for 表二: shown, no 说明 asked for.
    assert "提示（1 条，不影响提交，无需说明）" in page
    assert "1 个空白的填报格" in page
    assert 'name="key" value="T1"' in page  # the warning's 说明 is filed under its check: T1
    saved = client.post(reverse("portal:unit-explain", args=[2]), {"key": "T1", "text": "本年度未收取信息处理费。"})
    assert saved.status_code == 303
    assert Explanation.objects.get(version__number=2).text == "本年度未收取信息处理费。"
    sheet, cell = layout_for(get_format(2024)).locate_text("s6")  # where T1's 六 is
    assert AuditEntry.objects.get(action="说明").detail == f"T1 {sheet}!{cell}：本年度未收取信息处理费。"
    assert client.post(reverse("portal:unit-explain", args=[2]), {"key": "blank-cells|t2_1||", "text": "x"})
    assert Explanation.objects.count() == 1  # a notice takes no 说明

    submitted = client.post(reverse("portal:unit-submit", args=[2]))
    assert submitted["Location"] == reverse("portal:unit-receipt", args=[2])
    assert unit().state is State.SUBMITTED
    receipt = client.get(submitted["Location"]).content.decode()
    assert hashlib.sha256(fixed_path.read_bytes()).hexdigest() in receipt
    assert "2024-410102001-02" in receipt
    assert "已写说明 1 条" in receipt
    assert actions() == ["打开链接", "上传", "上传", "说明", "提交"]
    # Earlier versions stay visible.
    home = client.get(reverse("portal:unit")).content.decode()
    assert "第 1 版" in home
    assert "第 2 版" in home


def test_htmx_explanation_returns_only_the_line(campaign: Campaign, books: Books) -> None:
    client = clerk(unit())
    upload(client, books.make(warned=True))
    response = client.post(
        reverse("portal:unit-explain", args=[1]), {"key": "T1", "text": "确无此项"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<li class="warning">')
    assert "已保存" in html
    assert "<html" not in html


def test_double_submit_and_back_button(campaign: Campaign, books: Books) -> None:
    client = clerk(unit())
    upload(client, books.make())
    first = client.post(reverse("portal:unit-submit", args=[1]))
    second = client.post(reverse("portal:unit-submit", args=[1]))
    assert first["Location"] == second["Location"] == reverse("portal:unit-receipt", args=[1])
    assert actions().count("提交") == 1
    # The version page seen again (back button: pages are never cached) offers no second submit.
    page = client.get(reverse("portal:unit-version", args=[1]))
    assert "no-store" in page["Cache-Control"]
    assert "提交第 1 版" not in page.content.decode()
    assert "查看回执" in page.content.decode()


def test_upload_after_submit_withdraws_it(campaign: Campaign, books: Books) -> None:
    client = clerk(unit())
    upload(client, books.make())
    client.post(reverse("portal:unit-submit", args=[1]))
    upload(client, books.make(seed=5))
    assert unit().state is State.DRAFT_READY
    assert "撤回了第 1 版的提交" in AuditEntry.objects.filter(action="上传").first().detail


def test_officer_returns_then_accepts(campaign: Campaign, books: Books, officer: Client) -> None:
    client = clerk(unit())
    upload(client, books.make())
    client.post(reverse("portal:unit-submit", args=[1]))
    review = reverse("portal:review", args=["410102001"])
    decide = reverse("portal:decide", args=["410102001"])

    no_reason = officer.post(decide, {"action": "return", "number": 1, "reason": "  "})
    assert no_reason.status_code == 303
    assert unit().state is State.SUBMITTED
    officer.post(decide, {"action": "return", "number": 1, "reason": "表三“自然人”列请再核对。"})
    assert unit().state is State.RETURNED
    home = client.get(reverse("portal:unit")).content.decode()
    assert "表三“自然人”列请再核对。" in home
    assert client.post(reverse("portal:unit-submit", args=[1])).status_code == 303
    assert unit().state is State.RETURNED

    upload(client, books.make(seed=9))
    client.post(reverse("portal:unit-submit", args=[2]))
    stale = officer.post(decide, {"action": "accept", "number": 1})
    assert stale.status_code == 303
    assert unit().state is State.SUBMITTED
    officer.post(decide, {"action": "accept", "number": 2})
    assert unit().state is State.ACCEPTED
    assert Version.objects.get(number=2).accepted_at is not None

    # Locked: no upload, no 说明 change.
    locked = upload(client, books.make(seed=10))
    assert locked.status_code == 302
    assert Version.objects.count() == 2
    page = client.get(reverse("portal:unit")).content.decode()
    assert "已审核通过，数据已锁定" in page
    assert 'name="file"' not in page

    officer.post(decide, {"action": "reopen", "number": 2})
    assert unit().state is State.SUBMITTED
    assert Version.objects.get(number=2).accepted_at is None
    assert "撤销通过" in actions()
    assert "退回" in actions()
    assert "通过" in actions()
    assert "操作记录" in officer.get(review).content.decode()


def test_another_units_template_via_the_wrong_link(campaign: Campaign, books: Books) -> None:
    client = clerk(unit())
    response = upload(client, books.make("410102002", "东城街道"))
    page = client.get(response["Location"]).content.decode()
    assert unit().state is State.DRAFT_ERRORS
    assert "似乎不是本单位本年度的报表" in page
    assert "东城街道" in page


def test_wrong_file_type_and_last_years_report(campaign: Campaign, books: Books, tmp_path: Path) -> None:
    client = clerk(unit())
    doc = tmp_path / "报告.xlsx"
    with zipfile.ZipFile(doc, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        zf.writestr("[Content_Types].xml", "<Types/>")
    page = client.get(upload(client, doc)["Location"]).content.decode()
    assert "文件无法读取" in page
    assert "报告.xlsx" in page
    page = client.get(upload(client, books.make(year=2023))["Location"]).content.decode()
    assert "2023" in page
    assert "似乎不是本单位本年度的报表" in page
    assert Version.objects.count() == 2  # every upload is kept, unreadable or not


def test_too_large_upload_is_413(campaign: Campaign, books: Books, settings: object) -> None:
    settings.PORTAL_MAX_UPLOAD_BYTES = 50_000  # type: ignore[attr-defined]
    client = clerk(unit())
    big = io.BytesIO(b"PK\x03\x04" + b"\0" * 120_000)
    big.name = "big.xlsx"
    response = client.post(reverse("portal:unit-upload"), {"file": big})
    assert response.status_code == 413
    assert "文件过大" in response.content.decode()
    assert Version.objects.count() == 0


def test_officer_drop_files_each_under_its_unit(
    campaign: Campaign, books: Books, officer: Client, tmp_path: Path
) -> None:
    good = books.make("410102002", "东城街道", seed=3)
    bad = books.make("410102003", "西城街道", bad=True)
    stranger = books.make("999999999", "外县某镇", seed=4)
    old = books.make("410102101", "李庄镇", year=2023)
    junk = tmp_path / "说明.xlsx"
    junk.write_bytes(b"not a workbook at all")
    files = [good, good, bad, stranger, old, junk]
    handles = [p.open("rb") for p in files]
    try:
        response = officer.post(reverse("portal:drop"), {"files": handles})
    finally:
        for h in handles:
            h.close()
    assert response.status_code == 303
    page = officer.get(response["Location"]).content.decode()
    for word in ("已归档", "重复", "未知单位", "其他年度", "无法读取"):
        assert word in page
    assert unit("410102002").state is State.SUBMITTED  # a clean 代传 counts as submitted
    assert unit("410102003").state is State.DRAFT_ERRORS
    assert unit("410102101").state is State.NEW
    assert Version.objects.filter(source="officer").count() == 2
    assert "外县某镇" in page
    assert "2023" in page


def test_officer_upload_for_a_chosen_unit(campaign: Campaign, books: Books, officer: Client) -> None:
    url = reverse("portal:upload-for", args=["410102201"])
    response = upload(officer, books.make("410102201", "柳河乡", seed=6), url=url)
    assert response.status_code == 303
    assert unit("410102201").state is State.SUBMITTED
    assert Version.objects.get(unit__code="410102201").source == "officer"


def _accept(officer: Client, code: str) -> None:
    latest = Version.objects.filter(unit__code=code).order_by("-number").first()
    assert latest is not None
    officer.post(reverse("portal:decide", args=[code]), {"action": "accept", "number": latest.number})


def test_summary_from_accepted_units_only(campaign: Campaign, books: Books, officer: Client) -> None:
    for code, name, seed in (("410102001", "城关镇", 1), ("410102002", "东城街道", 2), ("410102003", "西城街道", 3)):
        client = clerk(unit(code))
        upload(client, books.make(code, name, seed=seed, warned=code == "410102001"))
        if code == "410102001":
            client.post(reverse("portal:unit-explain", args=[1]), {"key": "T1", "text": "=1+1 不是公式"})
        client.post(reverse("portal:unit-submit", args=[1]))
    _accept(officer, "410102001")
    _accept(officer, "410102002")

    response = officer.get(reverse("portal:summary-download", args=["accepted"]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    # The 说明 travel inside the summary: on its 说明 sheet and beside the warning in 问题清单,
    # as text (a 说明 beginning with "=" never becomes a formula).
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    said = [row for row in book["说明"].iter_rows(min_row=5) if row[3].value]
    assert [[c.value for c in row[:4]] for row in said] == [
        ["T1", "信息处理费说明", "城关镇（410102001）", "=1+1 不是公式"]
    ]
    assert said[0][3].data_type == "s"
    listed = book["问题清单"]
    head = [c.value for c in listed[1]]
    t1 = [row for row in listed.iter_rows(min_row=2, values_only=True) if row[head.index("规则/代码")] == "T1"]
    assert [row[head.index("单位的说明")] for row in t1] == ["=1+1 不是公式"]
    path = Path(officer.session.session_key or "x")  # any name: write the bytes and read them with the library
    target = Path(__file__).parent / f".tmp-{path.name}.xlsx"
    try:
        target.write_bytes(response.content)
        summary = read_workbook(target)
    finally:
        target.unlink(missing_ok=True)
    assert summary.report is not None
    assert summary.report.units == 2
    status = openpyxl.load_workbook(io.BytesIO(response.content))["报送情况"]
    listed = {str(c.value) for row in status.iter_rows() for c in row if c.value}
    assert "未报送" in listed  # the other eleven units of the roster

    provisional = officer.get(reverse("portal:summary-download", args=["provisional"]))
    assert "%E4%B8%B4%E6%97%B6" in provisional["Content-Disposition"]  # 临时 in the file name
    first = openpyxl.load_workbook(io.BytesIO(provisional.content))["表三"]["A2"].value
    assert PROVISIONAL in str(first)

    tidy = officer.get(reverse("portal:summary-download", args=["csv"]))
    frame = pd.read_csv(io.BytesIO(tidy.content), encoding="utf-8-sig")
    assert set(frame["unit_code"].astype(str)) == {"410102001", "410102002"}
    parquet = officer.get(reverse("portal:summary-download", args=["parquet"]))
    assert set(pd.read_parquet(io.BytesIO(parquet.content))["unit_code"]) == {"410102001", "410102002"}


def test_summary_without_accepted_units_explains(campaign: Campaign, officer: Client) -> None:
    response = officer.get(reverse("portal:summary-download", args=["accepted"]), follow=True)
    assert "无法汇总" in response.content.decode()


def test_board_counts_filters_and_reminder(campaign: Campaign, books: Books, officer: Client) -> None:
    client = clerk(unit())
    upload(client, books.make(bad=True))
    board = officer.get(reverse("portal:board")).content.decode()
    assert "草稿·有错误<b>1</b>" in board
    assert "已访问<b>0</b>" in board
    assert "未访问<b>12</b>" in board
    assert "【催报】河洛县2024年度" in board
    assert "城关镇（草稿·有错误：错误 2 个" in board
    only = officer.get(reverse("portal:board") + "?state=draft_errors", headers={"HX-Request": "true"}).content.decode()
    assert "城关镇" in only
    assert "东城街道" not in only
    fragment = officer.get(reverse("portal:board"), headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith("<table")
    assert "<html" not in fragment


def test_overdue_is_derived_from_the_deadline(campaign: Campaign) -> None:
    import datetime as dt

    c = Campaign.objects.get()
    c.deadline_date = dt.date(2000, 1, 1)
    c.save()
    assert unit().overdue()
    u = unit()
    u.status = State.SUBMITTED
    u.save()
    assert not unit().overdue()


def test_diff_between_versions(campaign: Campaign, books: Books, officer: Client) -> None:
    client = clerk(unit())
    upload(client, books.make(bad=True))
    upload(client, books.make())
    page = officer.get(reverse("portal:diff", args=["410102001"]) + "?a=1&b=2").content.decode()
    # The input changed, and with it the column's total.
    assert "共 2 处不同" in page
    assert "表三!D31" in page
    assert "表三!J31" in page


def test_audit_log_is_append_only(campaign: Campaign) -> None:
    entry = AuditEntry.objects.first()
    assert entry is not None
    entry.detail = "改写"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().update(detail="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


def test_explanations_carry_to_the_next_version_with_the_same_warning(campaign: Campaign, books: Books) -> None:
    client = clerk(unit())
    upload(client, books.make(warned=True))
    client.post(reverse("portal:unit-explain", args=[1]), {"key": "T1", "text": "确无"})
    upload(client, books.make(warned=True, seed=2))
    assert Explanation.objects.get(version__number=2).text == "确无"
    upload(client, books.make(seed=2))  # the warning is gone: so is its 说明
    assert not Explanation.objects.filter(version__number=3).exists()


def test_admin_edits_are_audited_and_states_are_read_only(campaign: Campaign, officer: Client) -> None:
    u = unit()
    url = f"/admin/portal/unit/{u.pk}/change/"
    page = officer.get(url)
    assert page.status_code == 200
    response = officer.post(url, {"name": "城关镇（新名）", "parent": "河洛县", "position": 0, "status": "accepted"})
    assert response.status_code == 302
    changed = unit()
    assert changed.name == "城关镇（新名）"
    assert changed.state is State.NEW  # the state is not a field of the form: "accepted" was ignored
    entry = AuditEntry.objects.get(action="管理后台修改")
    assert "单位名称" in entry.detail
    assert officer.get("/admin/portal/campaign/add/").status_code == 403
    assert officer.get("/admin/portal/auditentry/1/delete/").status_code == 403
