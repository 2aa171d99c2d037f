from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "xls_gongkai.portal"
    label = "portal"
    verbose_name = "政府信息公开年报收集平台"
    default_auto_field = "django.db.models.BigAutoField"
