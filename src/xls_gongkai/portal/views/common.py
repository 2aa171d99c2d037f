"""What the clerk's and the officer's pages share: the campaign, downloads, error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from xls_gongkai.portal import intake
from xls_gongkai.portal.models import Campaign, Version
from xls_gongkai.portal.security import client_ip, user_agent

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TYPES = {
    "xlsx": XLSX,
    "xls": "application/vnd.ms-excel",
    "xlsb": "application/vnd.ms-excel.sheet.binary.macroEnabled.12",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}


def campaign() -> Campaign:
    """The instance's campaign (the newest, should there be several)."""
    found = Campaign.objects.order_by("-id").first()
    if found is None:
        raise Http404("收集任务尚未建立。请先运行 xls-gongkai portal init")
    return found


def actor(request: HttpRequest, label: str) -> intake.Actor:
    return intake.Actor(label, client_ip(request), user_agent(request))


def portal_context(request: HttpRequest) -> dict[str, Any]:
    """Every page knows the campaign (for its title) and the upload limit (for the page script)."""
    found = Campaign.objects.order_by("-id").first()
    return {"campaign": found, "max_upload_bytes": settings.PORTAL_MAX_UPLOAD_BYTES}


def attachment(data: bytes, filename: str, content_type: str = XLSX) -> HttpResponse:
    """A download that never opens inline: attachment, exact type, nosniff."""
    response = HttpResponse(data, content_type=content_type)
    # Django encodes a Chinese file name as filename*=utf-8''… for the browser.
    response.headers["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def stored_download(version: Version, what: str) -> HttpResponse:
    """The uploaded file itself, or its marked-up copy, as an attachment."""
    if what == "original":
        path = intake.stored_path(version.stored_name)
        suffix = Path(version.original_name).suffix.lower().lstrip(".")
        kind = version.kind or suffix
        content_type = _TYPES.get(kind, "application/octet-stream")
        name = version.original_name or f"第{version.number}版"
        if (
            kind in _TYPES
            and not name.lower().endswith("." + kind)
            and not (kind == "xlsx" and name.lower().endswith(".xlsm"))
        ):
            name = f"{Path(name).stem}.{kind}"
        return attachment(path.read_bytes(), f"第{version.number}版_{name}", content_type)
    if what == "annotated" and version.annotated_name:
        path = intake.stored_path(version.annotated_name)
        unit = version.unit
        return attachment(path.read_bytes(), f"{unit.code}_{unit.name}_第{version.number}版_审核意见.xlsx")
    raise Http404("没有这个文件。")


# --------------------------------------------------------------------------- error pages


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(request, "portal/error.html", {"title": title, "message": message}, status=status)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(request, 403, "页面已过期", "表单已过期或来自别处，没有执行。请返回上一页、刷新后再试一次。")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 404, "找不到页面", "链接无效、已更换，或您无权查看这个页面。请使用县政务公开办发给您的最新链接。"
    )


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "无权访问", "您无权查看这个页面。")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "请求无效", "请求无效，请返回上一页重试。")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "出错了", "服务器处理时出错了。请稍后重试；如果一直出错，请联系县政务公开办。")
