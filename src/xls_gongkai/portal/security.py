"""Request limits and response headers that hold for every page.

* :class:`BodySizeMiddleware` answers 413 from the declared Content-Length before anything
  reads the body; :class:`LimitedUploadHandler` stops an upload that turns out larger while it
  streams (a chunked body declares no length). waitress has its own cap as well
  (``max_request_body_size``), so the limit holds under every server.
* :class:`HeadersMiddleware` sets the CSP (no inline script or style: htmx and the page script
  are static files), keeps pages out of caches (the back button after 提交 asks the server
  again) and tells browsers not to guess types.
* :func:`throttled` / :func:`note_failure` count failed officer logins and unknown links per
  address in the database, so the limit holds across threads and processes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

#: Room for the form's other fields and the multipart framing around the file.
MULTIPART_SLACK = 256 * 1024

CSP = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)


def posted_files(request: HttpRequest, name: str) -> list[UploadedFile] | None:
    """The files posted under ``name``, or None when the upload handler stopped the body as too
    large (then answer :func:`too_large_response`). Reading ``request.FILES`` parses the body,
    and only then is it known whether the handler stopped it."""
    files = request.FILES.getlist(name)
    return None if getattr(request, "portal_too_large", False) else files


def too_large_response() -> HttpResponse:
    mb = settings.PORTAL_MAX_UPLOAD_BYTES // (1024 * 1024)
    html = render_to_string("portal/too_large.html", {"limit_mb": mb})
    return HttpResponse(html, status=413)


class BodySizeMiddleware:
    """413 for a request that declares a body larger than the upload limit allows."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.PORTAL_MAX_UPLOAD_BYTES + MULTIPART_SLACK:
            return _with_headers(too_large_response())
        return self.get_response(request)


class LimitedUploadHandler(FileUploadHandler):
    """Counts each uploaded file's bytes and stops the upload past the limit (then the view answers 413).

    It passes every chunk on to Django's own handlers, which store the file; it only
    watches. ``StopUpload`` without a connection reset lets Django read the rest of the body
    and the fields before the file (the CSRF token comes first in every form).
    """

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received = start + len(raw_data)
        if self.received > settings.PORTAL_MAX_UPLOAD_BYTES:
            if self.request is not None:
                self.request.portal_too_large = True  # type: ignore[attr-defined]
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class HeadersMiddleware:
    """CSP, no caching of pages, nosniff on everything."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return _with_headers(self.get_response(request), static=request.path.startswith(settings.STATIC_URL))


def _with_headers(response: HttpResponse, static: bool = False) -> HttpResponse:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if not static:
        response.headers["Cache-Control"] = "no-store, private"
    return response


def client_ip(request: HttpRequest) -> str | None:
    """The peer address (waitress gives REMOTE_ADDR; a proxy's header is not trusted by default)."""
    ip = request.META.get("REMOTE_ADDR") or None
    return str(ip) if ip else None


def user_agent(request: HttpRequest) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))[:300]


# --------------------------------------------------------------------------- throttling

#: (failures allowed, window) per scope: officer logins per address, unknown links per address.
LIMITS: dict[str, tuple[int, dt.timedelta]] = {
    "login": (5, dt.timedelta(minutes=15)),
    "login-all": (30, dt.timedelta(minutes=15)),
    "link": (20, dt.timedelta(minutes=10)),
}


def throttled(scope: str, key: str) -> bool:
    from xls_gongkai.portal.models import Attempt

    most, window = LIMITS[scope]
    since = timezone.now() - window
    return Attempt.objects.filter(scope=scope, key=key, at__gte=since).count() >= most


def note_failure(scope: str, key: str) -> None:
    from xls_gongkai.portal.models import Attempt

    _most, window = LIMITS[scope]
    Attempt.objects.create(scope=scope, key=key)
    Attempt.objects.filter(scope=scope, at__lt=timezone.now() - 2 * window).delete()
