"""The officer's pages: status board, review, 代传, links, summary. All need the officer's login."""

from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xls_gongkai.errors import XlsGongkaiError
from xls_gongkai.issues import Result
from xls_gongkai.portal import diff, intake, sheetview, summary
from xls_gongkai.portal.models import AuditEntry, Campaign, Drop, Unit, Version
from xls_gongkai.portal.security import client_ip, note_failure, posted_files, throttled, too_large_response
from xls_gongkai.portal.states import LABELS, OPEN_STATES, Event, State, TransitionRefused
from xls_gongkai.portal.tokens import token_for
from xls_gongkai.portal.views.common import actor, attachment, campaign, stored_download

View = Callable[..., HttpResponse]
OFFICER = "县政务公开办"


def officer_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_staff):
            return redirect(f"{reverse('portal:login')}?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapped


def _me(request: HttpRequest) -> intake.Actor:
    return actor(request, f"{OFFICER}（{request.user.get_username()}）")


# --------------------------------------------------------------------------- login


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Password login, throttled per address and overall (a failed attempt is counted in the database)."""
    ip = client_ip(request) or "-"
    error = ""
    if request.method == "POST":
        if throttled("login", ip) or throttled("login-all", "*"):
            error = "登录失败次数过多，请 15 分钟后再试。"
            return render(request, "portal/officer/login.html", {"error": error}, status=429)
        user = authenticate(
            request, username=request.POST.get("username", ""), password=request.POST.get("password", "")
        )
        if user is not None and user.is_staff:
            login(request, user)  # a new session key: a planted one is of no use
            nxt = request.POST.get("next", "")
            return redirect(nxt if nxt.startswith("/officer/") else "portal:board")
        note_failure("login", ip)
        note_failure("login-all", "*")
        error = "用户名或密码不正确。"
    return render(request, "portal/officer/login.html", {"error": error, "next": request.GET.get("next", "")})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:login")


# --------------------------------------------------------------------------- board


def _board_rows(c: Campaign) -> list[dict[str, Any]]:
    rows = []
    today = timezone.localdate()
    units = c.units.prefetch_related("versions", "versions__explanations")
    for unit in units:
        versions = sorted(unit.versions.all(), key=lambda v: v.number)
        latest = versions[-1] if versions else None
        rows.append(
            {
                "unit": unit,
                "latest": latest,
                "versions": len(versions),
                "explained": len(latest.explanations.all()) if latest else 0,
                "overdue": unit.overdue(today),
            }
        )
    return rows


def reminder(c: Campaign, rows: list[dict[str, Any]]) -> str:
    """The 催报 message for the units that have not finished, ready to paste into a chat group."""
    lines: list[str] = []
    for row in rows:
        unit: Unit = row["unit"]
        if unit.state not in OPEN_STATES:
            continue
        detail = unit.state_label
        latest: Version | None = row["latest"]
        if unit.state is State.DRAFT_ERRORS and latest is not None:
            detail += f"：{intake.summary_line(latest)}"
        elif unit.state is State.DRAFT_READY:
            detail += "：检查已通过，请点“提交”"
        elif unit.state is State.RETURNED:
            detail += "：请按退回原因修改后重新上传并提交"
        lines.append(f"{len(lines) + 1}. {unit.name}（{detail}）")
    if not lines:
        return ""
    deadline = f"请于{c.deadline}前" if c.deadline else "请尽快"
    head = (
        f"【催报】{c.name}{c.year}年度政府信息公开工作年度报告：以下 {len(lines)} 个单位尚未完成报送，"
        f"{deadline}用本单位的专属链接下载模板、上传并提交："
    )
    tail = f"如有疑问请联系：{c.contact}。" if c.contact else ""
    return "\n".join([head, *lines, tail]).strip()


@require_GET
@officer_required
def board(request: HttpRequest) -> HttpResponse:
    c = campaign()
    rows = _board_rows(c)
    counts = Counter(row["unit"].state for row in rows)
    overdue = sum(1 for row in rows if row["overdue"])
    wanted = request.GET.get("state", "")
    shown = [
        r
        for r in rows
        if (not wanted or r["unit"].status == wanted) and (request.GET.get("overdue") != "1" or r["overdue"])
    ]
    context = {
        "rows": shown,
        "total": len(rows),
        "counts": [(s.value, LABELS[s], counts.get(s, 0)) for s in State],
        "overdue": overdue,
        "wanted": wanted,
        "only_overdue": request.GET.get("overdue") == "1",
        "reminder": reminder(c, rows),
        "now": timezone.now(),
    }
    template = "portal/officer/_board_table.html" if request.headers.get("HX-Request") else "portal/officer/board.html"
    return render(request, template, context)


# --------------------------------------------------------------------------- one unit


def _unit(code: str) -> Unit:
    return get_object_or_404(Unit.objects.select_related("campaign"), campaign=campaign(), code=code)


@require_GET
@officer_required
def review(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit(code)
    versions = list(unit.versions.order_by("-number"))
    number = request.GET.get("v")
    shown = next((v for v in versions if str(v.number) == number), versions[0] if versions else None)
    context: dict[str, Any] = {"unit": unit, "versions": versions, "shown": shown, "audit": unit.audit.all()[:200]}
    if shown is not None:
        result = intake.shown(shown)
        texts = {e.key: e.text for e in shown.explanations.all()}
        rows = sheetview.issue_rows(result)
        context |= {
            "errors": [r for r in rows if r.severity == sheetview.ERROR],
            "warnings": [(r, texts.get(r.key, "")) for r in rows if r.severity == sheetview.WARNING],
            "notices": [r for r in rows if r.severity == sheetview.NOTICE],
            "sheets": (sheets := sheetview.sheets(result)),
            "flagged_any": any(s.errors or s.warnings for s in sheets),
            "texts": sheetview.texts(result),
            "is_latest": shown is versions[0],
        }
    context["link"] = request.build_absolute_uri(
        reverse("portal:link", args=[token_for(unit.campaign_id, unit.code, unit.link_nonce)])
    )
    return render(request, "portal/officer/review.html", context)


@require_POST
@officer_required
def decide(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit(code)
    events = {"accept": Event.ACCEPT, "return": Event.RETURN, "reopen": Event.REOPEN}
    event = events.get(request.POST.get("action", ""))
    try:
        number = int(request.POST.get("number", ""))
    except ValueError:
        number = 0
    if event is None:
        messages.error(request, "未知的操作。")
    else:
        try:
            intake.decide(unit, number, event, _me(request), request.POST.get("reason", ""))
        except (TransitionRefused, ValueError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{unit.name}：已{event.label}。")
    return HttpResponseRedirect(reverse("portal:review", args=[code]), status=303)


@require_GET
@officer_required
def compare(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit(code)
    try:
        a, b = int(request.GET.get("a", "")), int(request.GET.get("b", ""))
    except ValueError:
        latest = unit.latest()
        a, b = (latest.number - 1, latest.number) if latest else (0, 0)
    old = get_object_or_404(unit.versions, number=a)
    new = get_object_or_404(unit.versions, number=b)
    found = diff.changes(Result.from_json(old.result_json), Result.from_json(new.result_json))
    return render(request, "portal/officer/diff.html", {"unit": unit, "old": old, "new": new, "changes": found})


@require_GET
@officer_required
def download(request: HttpRequest, code: str, number: int, what: str) -> HttpResponse:
    unit = _unit(code)
    return stored_download(get_object_or_404(unit.versions, number=number), what)


@require_POST
@officer_required
def rotate(request: HttpRequest, code: str) -> HttpResponse:
    """Replace the unit's link: the old one, and every session opened with it, stop working."""
    unit = _unit(code)
    intake.rotate_link(unit, _me(request))
    messages.success(request, f"{unit.name} 的链接已更换，旧链接已失效。请把新链接发给该单位。")
    return HttpResponseRedirect(reverse("portal:review", args=[code]), status=303)


@require_POST
@officer_required
def upload_for(request: HttpRequest, code: str) -> HttpResponse:
    """代传 for this unit (a workbook without the template's identity, chosen by hand)."""
    unit = _unit(code)
    files = posted_files(request, "file")
    if files is None:
        return too_large_response()
    if not files:
        messages.error(request, "请先选择文件。")
    else:
        try:
            version = intake.drop_for_unit(unit, files[-1], _me(request))
            messages.success(request, f"已为 {unit.name} 代传第 {version.number} 版：{intake.summary_line(version)}。")
        except TransitionRefused as exc:
            messages.error(request, str(exc))
    return HttpResponseRedirect(reverse("portal:review", args=[code]), status=303)


# --------------------------------------------------------------------------- links, 代传, summary, audit


def _links(request: HttpRequest, c: Campaign) -> list[tuple[Unit, str]]:
    base = request.build_absolute_uri("/").rstrip("/")
    return [(u, base + reverse("portal:link", args=[token_for(c.pk, u.code, u.link_nonce)])) for u in c.units.all()]


@require_GET
@officer_required
def links(request: HttpRequest) -> HttpResponse:
    c = campaign()
    rows = _links(request, c)
    if request.GET.get("format") == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["代码", "名称", "链接"])
        writer.writerows([u.code, u.name, url] for u, url in rows)
        intake.audit(c, None, _me(request), "导出链接", f"{len(rows)} 个单位")
        return attachment(
            out.getvalue().encode("utf-8-sig"), f"{c.name}_{c.year}年度_填报链接.csv", "text/csv; charset=utf-8"
        )
    return render(request, "portal/officer/links.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@officer_required
def drop(request: HttpRequest) -> HttpResponse:
    c = campaign()
    if request.method == "POST":
        files = posted_files(request, "files")
        if files is None:
            return too_large_response()
        if not files:
            messages.error(request, "请先选择要代传的工作簿（可以一次选多个）。")
            return redirect("portal:drop")
        batch = intake.drop(c, files, _me(request))
        return HttpResponseRedirect(reverse("portal:drop-result", args=[batch.pk]), status=303)
    return render(request, "portal/officer/drop.html", {"drops": c.drops.order_by("-at")[:20]})


@require_GET
@officer_required
def drop_result(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(Drop, pk=pk, campaign=campaign())
    files = list(batch.files.select_related("unit", "version"))
    counts = Counter(f.get_outcome_display() for f in files)
    return render(
        request, "portal/officer/drop_result.html", {"batch": batch, "files": files, "counts": sorted(counts.items())}
    )


@require_GET
@officer_required
def summary_page(request: HttpRequest) -> HttpResponse:
    c = campaign()
    accepted, _left_out = summary.chosen(c, provisional=False)
    provisional, provisional_left = summary.chosen(c, provisional=True)
    context = {"accepted": accepted, "provisional": provisional, "left_out": provisional_left, "units": c.units.count()}
    return render(request, "portal/officer/summary.html", context)


@require_GET
@officer_required
def summary_download(request: HttpRequest, kind: str) -> HttpResponse:
    c = campaign()
    with tempfile.TemporaryDirectory(dir=intake.tmp_dir()) as tmp:
        try:
            if kind in ("accepted", "provisional"):
                provisional = kind == "provisional"
                name = summary.file_name(c, provisional=provisional)
                path, count, _left = summary.write(c, Path(tmp) / "summary.xlsx", provisional=provisional)
                content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                detail = f"{'临时汇总' if provisional else '汇总'}，{count} 个单位"
            elif kind in ("csv", "parquet"):
                name = f"{c.name}_{c.year}年度_已通过单位明细.{kind}"
                path = summary.write_tidy_export(c, Path(tmp) / f"tidy.{kind}")
                content_type = "text/csv; charset=utf-8" if kind == "csv" else "application/vnd.apache.parquet"
                detail = f"明细 {kind.upper()}"
            else:
                return redirect("portal:summary")
        except XlsGongkaiError as exc:
            messages.error(request, f"无法汇总：{exc}")
            return redirect("portal:summary")
        data = path.read_bytes()
    intake.audit(c, None, _me(request), "下载汇总", detail)
    return attachment(data, name, content_type)


@require_GET
@officer_required
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.filter(campaign=campaign()).select_related("unit")[:500]
    return render(request, "portal/officer/audit.html", {"entries": entries})


def home(request: HttpRequest) -> HttpResponse:
    """The root: the officer's board, the unit's page, or how to get in."""
    if request.user.is_authenticated and request.user.is_staff:
        return redirect("portal:board")
    if request.session.get("portal_unit"):
        return redirect("portal:unit")
    return render(request, "portal/landing.html")
