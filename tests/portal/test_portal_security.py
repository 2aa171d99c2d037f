"""Security: every URL walked as unit A against unit B's objects and as an anonymous visitor; links,
sessions, CSRF, headers, throttling, downloads, and user text kept inert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.portal.conftest import Books, clerk, link_path, unit, upload
from xls_gongkai.portal import tokens
from xls_gongkai.portal.models import AuditEntry, Campaign, Explanation, Unit, Version
from xls_gongkai.portal.states import State

pytestmark = pytest.mark.django_db

A, B = "410102001", "410102002"


def _names() -> set[str]:
    """Every named URL of the portal (a new one must be added to the matrix below)."""
    out: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name and namespace == "portal":
                out.add(p.name)

    walk(get_resolver().url_patterns, "")
    return out


# name -> (method, args given B's objects). Unit URLs take no unit: the session decides.
MATRIX: dict[str, tuple[str, Callable[[Unit], list[Any]]]] = {
    "home": ("get", lambda b: []),
    "link": ("get", lambda b: ["x" * tokens.TOKEN_LENGTH]),
    "unit": ("get", lambda b: []),
    "unit-template": ("get", lambda b: []),
    "unit-upload": ("post", lambda b: []),
    "unit-leave": ("post", lambda b: []),
    "unit-version": ("get", lambda b: [2]),
    "unit-explain": ("post", lambda b: [2]),
    "unit-submit": ("post", lambda b: [2]),
    "unit-receipt": ("get", lambda b: [1]),
    "unit-download": ("get", lambda b: [2, "original"]),
    "login": ("get", lambda b: []),
    "logout": ("post", lambda b: []),
    "board": ("get", lambda b: []),
    "links": ("get", lambda b: []),
    "drop": ("post", lambda b: []),
    "drop-result": ("get", lambda b: [1]),
    "summary": ("get", lambda b: []),
    "summary-download": ("get", lambda b: ["provisional"]),
    "audit": ("get", lambda b: []),
    "review": ("get", lambda b: [b.code]),
    "decide": ("post", lambda b: [b.code]),
    "diff": ("get", lambda b: [b.code]),
    "rotate": ("post", lambda b: [b.code]),
    "upload-for": ("post", lambda b: [b.code]),
    "officer-download": ("get", lambda b: [b.code, 1, "original"]),
}
PUBLIC = {"home", "link", "login", "logout", "unit-leave"}
OFFICER = {
    "login",
    "logout",
    "board",
    "links",
    "drop",
    "drop-result",
    "summary",
    "summary-download",
    "audit",
    "review",
    "decide",
    "diff",
    "rotate",
    "upload-for",
    "officer-download",
}


def test_the_matrix_covers_every_url() -> None:
    assert _names() == set(MATRIX)


@pytest.fixture
def b_has_history(campaign: Campaign, books: Books, officer: Client) -> Unit:
    """Unit B with two versions (the second submitted, with a 说明) and a 代传 batch; A has nothing."""
    client = clerk(unit(B))
    upload(client, books.make(B, "东城街道", bad=True, tag="secretB"))
    upload(client, books.make(B, "东城街道", warned=True, seed=8))
    client.post(reverse("portal:unit-explain", args=[2]), {"key": "T1", "text": "B的秘密说明"})
    client.post(reverse("portal:unit-submit", args=[2]))
    with books.make("410102003", "西城街道", seed=3).open("rb") as fh:
        officer.post(reverse("portal:drop"), {"files": [fh]})
    return unit(B)


def _snapshot() -> tuple[Any, ...]:
    return (
        list(Unit.objects.order_by("pk").values_list("status", "link_hash")),
        Version.objects.count(),
        list(Explanation.objects.values_list("text", flat=True)),
    )


def _request(client: Client, name: str, b: Unit) -> Any:
    method, args = MATRIX[name]
    url = reverse(f"portal:{name}", args=args(b))
    data = {"key": "T1", "text": "A改B", "action": "accept", "number": 2, "reason": "x"}
    return client.get(url) if method == "get" else client.post(url, data)


def _as_unit_a(a: Client, name: str, b: Unit) -> None:
    before = _snapshot()
    response = _request(a, name, b)
    download = bool(response.get("Content-Disposition"))
    body = "" if download else response.content.decode(errors="replace")
    assert "东城街道" not in body, name  # B's name shows nowhere A can look
    assert "B的秘密说明" not in body, name
    assert b.versions.get(number=2).sha256 not in body, name
    if name in OFFICER - {"login", "logout"}:
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("portal:login")), name
    elif name in ("unit-version", "unit-explain", "unit-submit", "unit-receipt", "unit-download"):
        assert response.status_code == 404, name  # A has no version 1 or 2: B's numbers find nothing
    assert not download or name == "unit-template", name
    after = _snapshot()
    assert after[0] == before[0] or name in ("unit-upload", "unit-leave"), name
    assert after[2] == before[2], name


def test_unit_a_cannot_reach_unit_b(b_has_history: Unit) -> None:
    """Every URL, as unit A's session, against unit B's objects (one fixture: it costs three checks)."""
    for name in sorted(MATRIX):
        _as_unit_a(clerk(unit(A)), name, b_has_history)


def _as_anonymous(name: str, b: Unit) -> None:
    before = _snapshot()
    response = _request(Client(), name, b)
    body = response.content.decode(errors="replace")
    assert "东城街道" not in body, name
    assert not response.get("Content-Disposition"), name
    if name in OFFICER - PUBLIC:
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("portal:login")), name
    elif name.startswith("unit-") and name != "unit-leave":
        assert response.status_code == 403, name
        assert "请用专属链接打开" in body, name
    elif name == "link":
        assert response.status_code == 404, name
    assert _snapshot() == before, name


def test_anonymous_reaches_nothing(b_has_history: Unit) -> None:
    for name in sorted(MATRIX):
        _as_anonymous(name, b_has_history)


def test_unit_a_upload_stays_with_a(b_has_history: Unit, books: Books) -> None:
    a = clerk(unit(A))
    upload(a, books.make(A, "城关镇"))
    assert unit(A).versions.count() == 1
    assert b_has_history.versions.count() == 2


def test_admin_needs_the_officer(b_has_history: Unit) -> None:
    a = clerk(unit(A))
    response = a.get("/admin/portal/version/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_tokens_are_long_hashed_and_scoped(campaign: Campaign) -> None:
    u = unit(A)
    token = tokens.token_for(u.campaign_id, u.code, u.link_nonce)
    assert len(token) == 43  # 256 bits of base64url
    assert u.link_hash == tokens.token_hash(token)
    # No column of the database holds the token itself.
    for row in Unit.objects.values():
        assert token not in {str(v) for v in row.values()}
    other = tokens.token_for(u.campaign_id + 1, u.code, u.link_nonce)
    assert other != token  # another campaign, another link
    assert Client().get(reverse("portal:link", args=[other])).status_code == 404


def test_rotation_kills_the_old_link_and_its_sessions(campaign: Campaign, officer: Client) -> None:
    u = unit(A)
    old_link = link_path(u)
    session = clerk(u)
    officer.post(reverse("portal:rotate", args=[A]))
    assert Client().get(old_link).status_code == 404
    page = session.get(reverse("portal:unit"))
    assert page.status_code == 403
    assert "链接已更换" in page.content.decode()
    assert Client().get(link_path(unit(A))).status_code == 303


def test_session_cookie_flags_and_rotation(campaign: Campaign) -> None:
    client = Client()
    client.cookies["gongkai_session"] = "planted"
    response = client.get(link_path(unit(A)))
    cookie = response.cookies["gongkai_session"]
    assert cookie.value != "planted"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    # The redirect's address carries no token.
    assert response["Location"] == reverse("portal:unit")


def test_csrf_on_every_post(campaign: Campaign, books: Books) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.get(link_path(unit(A)))
    with books.make().open("rb") as fh:
        refused = strict.post(reverse("portal:unit-upload"), {"file": fh})
    assert refused.status_code == 403
    assert "页面已过期" in refused.content.decode()
    assert Version.objects.count() == 0
    officer = Client(enforce_csrf_checks=True)
    login = officer.post(reverse("portal:login"), {"username": "officer", "password": "officer-pass-1"})
    assert login.status_code == 403


def test_security_headers(campaign: Campaign) -> None:
    response = clerk(unit(A)).get(reverse("portal:unit"))
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "<script>" not in html  # no inline script: the CSP would block it anyway
    assert " style=" not in html


def test_officer_login_is_throttled(campaign: Campaign) -> None:
    client = Client()
    for _ in range(5):
        assert client.post(reverse("portal:login"), {"username": "officer", "password": "wrong"}).status_code == 200
    blocked = client.post(reverse("portal:login"), {"username": "officer", "password": "officer-pass-1"})
    assert blocked.status_code == 429
    assert "次数过多" in blocked.content.decode()


def test_unknown_links_are_throttled(campaign: Campaign) -> None:
    client = Client()
    for i in range(20):
        assert client.get(reverse("portal:link", args=[f"{i:043d}"])).status_code == 404
    assert client.get(link_path(unit(A))).status_code == 429


def test_downloads_are_attachments(campaign: Campaign, books: Books, officer: Client) -> None:
    client = clerk(unit(A))
    upload(client, books.make(bad=True))
    for response in (
        client.get(reverse("portal:unit-download", args=[1, "original"])),
        client.get(reverse("portal:unit-download", args=[1, "annotated"])),
        officer.get(reverse("portal:officer-download", args=[A, 1, "original"])),
    ):
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get("/unit/v/1/secret_key/").status_code == 404
    assert client.get("/unit/v/1/..%2F..%2Fsecret_key/").status_code == 404


def test_stored_files_have_generated_names(campaign: Campaign, books: Books, settings: Any) -> None:
    from pathlib import Path

    client = clerk(unit(A))
    upload(client, books.make(bad=True), name="../../evil<script>.xlsx")
    version = Version.objects.get()
    assert version.original_name == "evil_script_.xlsx"
    names = sorted(p.name for p in Path(settings.PORTAL_FILES_DIR).iterdir() if p.is_file())
    assert names == sorted([version.stored_name, version.annotated_name])
    assert all(len(n.split(".")[0]) == 32 for n in names)


def test_user_text_is_inert_everywhere(campaign: Campaign, books: Books, officer: Client) -> None:
    evil = '<script>alert(1)</script>=cmd|"/c calc"!A1'
    client = clerk(unit(A))
    upload(client, books.make(warned=True), name="<img src=x onerror=alert(1)>.xlsx")
    client.post(reverse("portal:unit-explain", args=[1]), {"key": "T1", "text": evil})
    client.post(reverse("portal:unit-submit", args=[1]))
    officer.post(reverse("portal:decide", args=[A]), {"action": "return", "number": 1, "reason": evil})
    u = unit(A)
    u.name = evil  # as if the roster held it (the admin can edit names)
    u.save()
    pages = [
        client.get(reverse("portal:unit")),
        client.get(reverse("portal:unit-version", args=[1])),
        client.get(reverse("portal:unit-receipt", args=[1])),
        officer.get(reverse("portal:board")),
        officer.get(reverse("portal:review", args=[A])),
        officer.get(reverse("portal:audit")),
        officer.get(reverse("portal:links")),
    ]
    for page in pages:
        html = page.content.decode()
        assert "<script>alert(1)" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;" in html or "&lt;img" in html
    csv_links = officer.get(reverse("portal:links") + "?format=csv").content.decode("utf-8-sig")
    assert evil.replace('"', '""') in csv_links  # quoted as text by the csv module
    assert AuditEntry.objects.filter(action="退回", detail=evil).exists()


def test_accepted_data_cannot_change(campaign: Campaign, books: Books, officer: Client) -> None:
    client = clerk(unit(A))
    upload(client, books.make(warned=True))
    client.post(reverse("portal:unit-submit", args=[1]))
    officer.post(reverse("portal:decide", args=[A]), {"action": "accept", "number": 1})
    assert unit(A).state is State.ACCEPTED
    client.post(reverse("portal:unit-explain", args=[1]), {"key": "T1", "text": "事后改"})
    assert not Explanation.objects.exists()
    with books.make(seed=4).open("rb") as fh:
        officer.post(reverse("portal:upload-for", args=[A]), {"file": fh})
    assert Version.objects.count() == 1
