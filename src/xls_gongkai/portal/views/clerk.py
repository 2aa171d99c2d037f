"""The clerk's pages: opened with the unit's private link, no account.

The unit is always the one in the session (set when the link was exchanged), never one named in
the URL or a form: a version number in a URL is looked up among that unit's versions only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from xls_gongkai.issues import Code
from xls_gongkai.portal import intake, sheetview
from xls_gongkai.portal.models import Unit, Version
from xls_gongkai.portal.security import client_ip, note_failure, posted_files, throttled, too_large_response
from xls_gongkai.portal.states import State, TransitionRefused
from xls_gongkai.portal.tokens import plausible, token_hash
from xls_gongkai.portal.views.common import actor, attachment, not_found, stored_download
from xls_gongkai.workbook.writer import generate_templates, template_filename

UNIT_KEY = "portal_unit"
LINK_KEY = "portal_link"

View = Callable[..., HttpResponse]


def unit_required(view: View) -> View:
    """Give the view the session's unit; without one (or after the link was changed) explain, 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        unit_id = request.session.get(UNIT_KEY)
        unit = Unit.objects.select_related("campaign").filter(pk=unit_id).first() if unit_id else None
        if unit is None or request.session.get(LINK_KEY) != unit.link_hash:
            return render(request, "portal/clerk/no_session.html", {"rotated": unit is not None}, status=403)
        request.unit = unit  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


def _unit(request: HttpRequest) -> Unit:
    unit: Unit = request.unit  # type: ignore[attr-defined]
    return unit


def _who(unit: Unit) -> str:
    return f"{unit.name}（单位）"


@require_GET
def link(request: HttpRequest, token: str) -> HttpResponse:
    """Exchange the private link for a session, then continue on an address without the token."""
    ip = client_ip(request) or "-"
    if throttled("link", ip):
        return render(
            request,
            "portal/error.html",
            {"title": "尝试次数过多", "message": "无效链接尝试次数过多，请 10 分钟后再试。"},
            status=429,
        )
    # The hash is computed for every token, known or not, so a lookup costs the same either way.
    digest = token_hash(token)
    unit = Unit.objects.filter(link_hash=digest).first() if plausible(token) else None
    if unit is None:
        note_failure("link", ip)
        return not_found(request)
    request.session.cycle_key()
    request.session[UNIT_KEY] = unit.pk
    request.session[LINK_KEY] = unit.link_hash
    intake.visit(unit, actor(request, _who(unit)))
    return HttpResponseRedirect(reverse("portal:unit"), status=303)


def _versions(unit: Unit) -> list[Version]:
    return list(unit.versions.order_by("-number"))


@require_GET
@unit_required
def home(request: HttpRequest) -> HttpResponse:
    unit = _unit(request)
    versions = _versions(unit)
    context = {
        "unit": unit,
        "versions": versions,
        "latest": versions[0] if versions else None,
        "can_upload": unit.state is not State.ACCEPTED,
        "template_name": template_filename(intake.library_unit(unit), unit.campaign.year),
    }
    return render(request, "portal/clerk/home.html", context)


@require_GET
@unit_required
def template(request: HttpRequest) -> HttpResponse:
    """The unit's own blank template, the same one ``xls-gongkai generate`` makes."""
    unit = _unit(request)
    lib_unit = intake.library_unit(unit)
    c = unit.campaign
    with tempfile.TemporaryDirectory(dir=intake.tmp_dir()) as tmp:
        [path] = generate_templates([lib_unit], c.year, tmp, fmt=c.format_id, options=intake.write_options(c), jobs=1)
        data = path.read_bytes()
    intake.audit(c, unit, actor(request, _who(unit)), "下载模板")
    return attachment(data, path.name)


@require_POST
@unit_required
def upload(request: HttpRequest) -> HttpResponse:
    unit = _unit(request)
    files = posted_files(request, "file")
    if files is None:
        return too_large_response()
    if not files:
        messages.error(request, "请先选择要上传的工作簿文件。")
        return redirect("portal:unit")
    try:
        version = intake.upload(unit, files[-1], actor(request, _who(unit)))
    except TransitionRefused as exc:
        messages.error(request, str(exc))
        return redirect("portal:unit")
    return HttpResponseRedirect(reverse("portal:unit-version", args=[version.number]), status=303)


def _version_context(unit: Unit, version: Version) -> dict[str, Any]:
    result = intake.shown(version)
    texts = {e.key: e.text for e in version.explanations.all()}
    rows = sheetview.issue_rows(result)
    latest = unit.latest()
    is_latest = latest is not None and latest.number == version.number
    return {
        "unit": unit,
        "version": version,
        "is_latest": is_latest,
        "errors": [r for r in rows if r.severity == sheetview.ERROR],
        "warnings": [(r, texts.get(r.key, "")) for r in rows if r.severity == sheetview.WARNING],
        "notices": [r for r in rows if r.severity == sheetview.NOTICE],
        "explained": sum(1 for r in rows if r.key in texts),
        "sheets": (sheets := sheetview.sheets(result)),
        "flagged_any": any(s.errors or s.warnings for s in sheets),
        "texts": sheetview.texts(result),
        "editable": is_latest and unit.state not in (State.SUBMITTED, State.ACCEPTED),
        "can_submit": is_latest and unit.state is State.DRAFT_READY,
        "can_upload": unit.state is not State.ACCEPTED,
        "mismatch": any(r.code in (Code.UNIT_MISMATCH, Code.YEAR_MISMATCH) for r in rows),
    }


@require_GET
@unit_required
def version(request: HttpRequest, number: int) -> HttpResponse:
    unit = _unit(request)
    found = get_object_or_404(unit.versions, number=number)
    return render(request, "portal/clerk/version.html", _version_context(unit, found))


@require_POST
@unit_required
def explain(request: HttpRequest, number: int) -> HttpResponse:
    unit = _unit(request)
    found = get_object_or_404(unit.versions, number=number)
    key = request.POST.get("key", "")
    text = request.POST.get("text", "")
    result = intake.shown(found)
    try:
        intake.explain(unit, number, key, text, actor(request, _who(unit)), sheetview.explainable(result))
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "说明已保存。" if text.strip() else "说明已清空。")
    if request.headers.get("HX-Request"):
        # htmx: only the saved line is swapped in, the page keeps its place.
        row = next((r for r in sheetview.issue_rows(result) if r.key == key), None)
        if row is None:
            raise Http404
        saved = found.explanations.filter(key=key).first()
        context = {"row": row, "text": saved.text if saved else "", "version": found, "editable": True, "saved": True}
        return render(request, "portal/clerk/_warning.html", context)
    return HttpResponseRedirect(reverse("portal:unit-version", args=[number]) + "#warnings", status=303)


@require_POST
@unit_required
def submit(request: HttpRequest, number: int) -> HttpResponse:
    unit = _unit(request)
    found = get_object_or_404(unit.versions, number=number)
    try:
        intake.submit(unit, number, actor(request, _who(unit)))
    except TransitionRefused as exc:
        messages.info(request, str(exc)) if found.submitted_at else messages.error(request, str(exc))
        if found.submitted_at:
            return HttpResponseRedirect(reverse("portal:unit-receipt", args=[number]), status=303)
        return HttpResponseRedirect(reverse("portal:unit-version", args=[number]), status=303)
    except ValueError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("portal:unit-version", args=[number]), status=303)
    return HttpResponseRedirect(reverse("portal:unit-receipt", args=[number]), status=303)


@require_GET
@unit_required
def receipt(request: HttpRequest, number: int) -> HttpResponse:
    unit = _unit(request)
    found = get_object_or_404(unit.versions, number=number, submitted_at__isnull=False)
    explained = found.explanations.count()
    latest = unit.latest()
    superseded = latest is not None and latest.number != found.number
    context = {"unit": unit, "version": found, "explained": explained, "superseded": superseded}
    return render(request, "portal/clerk/receipt.html", context)


@require_GET
@unit_required
def download(request: HttpRequest, number: int, what: str) -> HttpResponse:
    unit = _unit(request)
    found = get_object_or_404(unit.versions, number=number)
    return stored_download(found, what)


@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    """Forget the unit on this browser (a shared office PC)."""
    request.session.pop(UNIT_KEY, None)
    request.session.pop(LINK_KEY, None)
    return render(request, "portal/clerk/left.html")
