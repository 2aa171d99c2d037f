"""Django settings of the collection portal, read from the instance folder.

``XLS_GONGKAI_PORTAL_DIR`` names the folder (``portal serve`` sets it). Without it (the test
suite, mypy's Django plugin) the settings point at a throw-away folder and an in-memory-style
test database, so importing them never touches a real instance.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from xls_gongkai.portal.instance import ENV, Config, Instance

_dir = os.environ.get(ENV, "")
if _dir:
    INSTANCE = Instance(Path(_dir))
    _config = INSTANCE.config()
    SECRET_KEY = INSTANCE.secret()
else:
    INSTANCE = Instance(Path(tempfile.mkdtemp(prefix="portal-unset-")))
    _config = Config()
    SECRET_KEY = secrets.token_urlsafe(50)

DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("XLS_GONGKAI_PORTAL_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "xls_gongkai.portal.apps.PortalConfig",
]

MIDDLEWARE = [
    "xls_gongkai.portal.security.BodySizeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "xls_gongkai.portal.security.HeadersMiddleware",
]

ROOT_URLCONF = "xls_gongkai.portal.urls"
WSGI_APPLICATION = "xls_gongkai.portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xls_gongkai.portal.views.common.portal_context",
            ],
        },
    },
]


def _database(config: Config, instance: Instance) -> dict[str, Any]:
    if config.database:
        return {**config.database, "CONN_MAX_AGE": 60, "ATOMIC_REQUESTS": False}
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(instance.database_path),
        "OPTIONS": {
            # WAL: readers never wait for the writer; IMMEDIATE: a writing transaction takes the
            # lock at its start, so two request threads never deadlock upgrading a read lock.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }


DATABASES = {"default": _database(_config, INSTANCE)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# whitenoise serves the package's static files straight from the app folders (no collectstatic step).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

LOGIN_URL = "portal:login"

# --- security (see the README section 收集平台 / 安全)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 14 * 24 * 3600
SESSION_COOKIE_NAME = "gongkai_session"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "xls_gongkai.portal.views.common.csrf_failure"
# same-origin, never no-referrer: with no-referrer Chromium sends "Origin: null" on form posts
# and Django's CSRF check refuses every one of them (PORTAL.md §2.4).
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS proxy set this (and the Secure cookie flags) in a local settings module; off on
# a plain intranet (see README).
SECURE_PROXY_SSL_HEADER = None
if os.environ.get("XLS_GONGKAI_PORTAL_HTTPS") == "1":
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

PORTAL_FILES_DIR = str(INSTANCE.files)
PORTAL_MAX_UPLOAD_BYTES = _config.max_upload_mb * 1024 * 1024
PORTAL_CHECK_SECONDS = _config.check_seconds
PORTAL_CHECK_MEMORY = _config.check_memory_mb * 1024 * 1024
# Uploads above this go to a temporary file instead of memory (Django's default is 2.5 MB).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_TEMP_DIR = str(INSTANCE.tmp) if _dir else None
# The limit watches the bytes first; Django's own handlers then keep the file (memory, then disk).
FILE_UPLOAD_HANDLERS = [
    "xls_gongkai.portal.security.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_NUMBER_FILES = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"}},
}
