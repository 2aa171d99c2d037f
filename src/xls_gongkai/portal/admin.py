"""The Django admin, for the officer's rare repairs: a unit's name, the roster order.

States, versions and the audit log are read-only here: they change only through the portal's
pages, which keep the state machine and write the audit log.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from xls_gongkai.portal.models import AuditEntry, Campaign, Unit, Version

admin.site.site_header = "政府信息公开年报收集平台 管理"
admin.site.site_title = "收集平台管理"


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # ModelAdmin is not subscriptable at run time
    list_display = ("name", "year", "deadline", "contact")
    readonly_fields = ("year", "format_id", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a campaign is made by portal init, with its units and links

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _audit(request, obj, None, form)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "parent", "status", "status_at")
    list_filter = ("status",)
    search_fields = ("code", "name")
    fields = ("campaign", "code", "name", "parent", "position", "status", "status_at", "status_by", "return_reason")
    readonly_fields = ("campaign", "code", "status", "status_at", "status_by", "return_reason")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Unit, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _audit(request, obj.campaign, obj, form)


def _audit(request: HttpRequest, campaign: Campaign, unit: Unit | None, form: Any) -> None:
    """Edits in the admin go to the audit log too."""
    from xls_gongkai.portal.intake import audit
    from xls_gongkai.portal.views.common import actor

    changed = "、".join(str(form.fields[f].label) for f in form.changed_data) or "无改动"
    audit(
        campaign,
        unit,
        actor(request, f"县政务公开办（{request.user.get_username()}，管理后台）"),
        "管理后台修改",
        changed,
    )


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Version)
class VersionAdmin(ReadOnly):
    list_display = ("unit", "number", "uploaded_at", "source", "errors", "warnings", "sha256")
    exclude = ("result_json",)


@admin.register(AuditEntry)
class AuditAdmin(ReadOnly):
    list_display = ("at", "actor", "action", "unit", "version", "detail", "ip")
    list_filter = ("action",)
