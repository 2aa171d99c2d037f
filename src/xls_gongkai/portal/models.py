"""What the portal keeps: campaigns, units, their versions and 说明, the audit log, 代传 batches.

A unit's status changes only through :meth:`Unit.advance` (the state machine of
:mod:`xls_gongkai.portal.states`). Versions are never changed after they are written, except
for the dates of what happened to them (submitted, returned, accepted); the audit log is
append-only (the model refuses updates and deletes).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone

from xls_gongkai.collection import Status
from xls_gongkai.portal.library import CLEAN
from xls_gongkai.portal.states import HANDED_IN, LABELS, Event, State, advance


class Campaign(models.Model):
    """One year's collection for one county (an instance usually holds one)."""

    year = models.PositiveIntegerField("报告年度")
    name = models.CharField("县（市、区）名称", max_length=100)
    format_id = models.CharField("格式", max_length=40)
    deadline = models.CharField("报送截止", max_length=100, blank=True)
    deadline_date = models.DateField("截止日期", null=True, blank=True)
    contact = models.CharField("联系人", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "收集任务"

    def __str__(self) -> str:
        return f"{self.name} {self.year} 年度"

    def overdue(self, today: dt.date | None = None) -> bool:
        return self.deadline_date is not None and (today or timezone.localdate()) > self.deadline_date


class Unit(models.Model):
    """A roster unit of a campaign, with its private link and the state of its report."""

    campaign = models.ForeignKey(Campaign, models.PROTECT, related_name="units", verbose_name="收集任务")
    code = models.CharField("单位代码", max_length=40)
    name = models.CharField("单位名称", max_length=200)
    parent = models.CharField("上级", max_length=200, blank=True)
    position = models.PositiveIntegerField("名册顺序", default=0)
    status = models.CharField(
        "状态", max_length=20, choices=[(s.value, s.label) for s in State], default=State.NEW.value
    )
    status_at = models.DateTimeField("状态时间", null=True, blank=True)
    status_by = models.CharField("状态由谁", max_length=200, blank=True)
    status_event = models.CharField("状态因何", max_length=20, blank=True)
    return_reason = models.TextField("退回原因", blank=True)
    #: The link is derived from the secret key and this random nonce; only its hash is stored.
    link_nonce = models.CharField(max_length=64)
    link_hash = models.CharField(max_length=64, unique=True)
    link_created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "填报单位"
        ordering = ("campaign", "position", "code")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["campaign", "code"], name="portal_unit_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def state(self) -> State:
        return State(self.status)

    @property
    def state_label(self) -> str:
        return LABELS[self.state]

    def overdue(self, today: dt.date | None = None) -> bool:
        return self.state not in HANDED_IN and self.campaign.overdue(today)

    def advance(self, event: Event, actor: str) -> State:
        """Apply ``event`` (raises ``TransitionRefused``); the caller saves inside its transaction."""
        self.status = advance(self.state, event)
        self.status_at = timezone.now()
        self.status_by = actor
        self.status_event = event.label
        return self.state

    def latest(self) -> Version | None:
        return self.versions.order_by("-number").first()


class Version(models.Model):
    """One uploaded workbook, kept for good: its hash, the library's result and what happened to it."""

    SOURCES: ClassVar[list[tuple[str, str]]] = [("clerk", "单位上传"), ("officer", "代传")]

    unit = models.ForeignKey(Unit, models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField("版本")
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)
    source = models.CharField("来源", max_length=10, choices=SOURCES, default="clerk")
    uploaded_by = models.CharField("上传人", max_length=200, blank=True)
    original_name = models.CharField("原文件名", max_length=255)
    stored_name = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField("大小")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    kind = models.CharField("文件类型", max_length=10, blank=True)
    #: The library's verdict on the file against the roster (通过, 有警告, 有错误, 空表, …).
    status = models.CharField("检查结论", max_length=10, choices=[(s.value, s.value) for s in Status], blank=True)
    errors = models.PositiveIntegerField("错误数", default=0)
    warnings = models.PositiveIntegerField("警告数", default=0)
    unreadable = models.TextField("无法读取的原因", blank=True)
    result_json = models.TextField()
    annotated_name = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    returned_at = models.DateTimeField("退回时间", null=True, blank=True)
    return_reason = models.TextField("退回原因", blank=True)
    accepted_at = models.DateTimeField("通过时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "版本"
        ordering = ("unit", "-number")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["unit", "number"], name="portal_version_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.unit.name} 第 {self.number} 版"

    @property
    def is_clean(self) -> bool:
        """Free of errors (warnings allowed): it may be submitted."""
        return self.status in CLEAN

    @property
    def receipt_number(self) -> str:
        return f"{self.unit.campaign.year}-{self.unit.code}-{self.number:02d}"


class Explanation(models.Model):
    """A 说明 a unit wrote for one warning of one version (carried to the next version with the same warning)."""

    version = models.ForeignKey(Version, models.PROTECT, related_name="explanations")
    key = models.CharField(max_length=400)
    text = models.TextField("说明", max_length=2000)
    written_at = models.DateTimeField(default=timezone.now)
    written_by = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "说明"
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["version", "key"], name="portal_explanation_unique"),
        ]


class AppendOnlyQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("审计日志只能追加，不能修改。")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计日志只能追加，不能删除。")


class AuditEntry(models.Model):
    """One line of the append-only audit log: who did what to which unit, when, from where."""

    campaign = models.ForeignKey(Campaign, models.PROTECT, related_name="audit")
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="audit", null=True, blank=True)
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    actor = models.CharField("操作人", max_length=200)
    action = models.CharField("操作", max_length=40)
    detail = models.TextField("详情", blank=True)
    version = models.PositiveIntegerField("版本", null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "操作记录"
        ordering = ("-at", "-id")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("审计日志只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计日志只能追加，不能删除。")


class Drop(models.Model):
    """One 代传 batch: workbooks the officer received by QQ or e-mail, dropped in together."""

    campaign = models.ForeignKey(Campaign, models.PROTECT, related_name="drops")
    at = models.DateTimeField(default=timezone.now)
    by = models.CharField(max_length=200)


class DropFile(models.Model):
    """What became of one file of a 代传 batch."""

    OUTCOMES: ClassVar[list[tuple[str, str]]] = [
        ("filed", "已归档"),
        ("duplicate", "重复"),
        ("unknown", "未知单位"),
        ("other_year", "其他年度"),
        ("unreadable", "无法读取"),
        ("locked", "已通过，未归档"),
    ]

    drop = models.ForeignKey(Drop, models.PROTECT, related_name="files")
    position = models.PositiveIntegerField()
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    outcome = models.CharField(max_length=12, choices=OUTCOMES)
    message = models.TextField(blank=True)
    unit = models.ForeignKey(Unit, models.PROTECT, null=True, blank=True)
    version = models.ForeignKey(Version, models.PROTECT, null=True, blank=True)

    class Meta:
        ordering = ("drop", "position")


class Attempt(models.Model):
    """A failed officer login or an unknown link, for throttling (old rows are pruned)."""

    scope = models.CharField(max_length=20)
    key = models.CharField(max_length=100)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes: ClassVar[list[Any]] = [models.Index(fields=["scope", "key", "at"])]
