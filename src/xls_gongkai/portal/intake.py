"""What happens to a unit's report: upload, 说明, submit, return, accept, reopen, 代传.

Each action is one database transaction that locks the unit's row, moves its state through
:mod:`xls_gongkai.portal.states` (refusing what the state does not allow) and writes one
audit entry. Files are written before the transaction that records them, under generated
names; a file whose transaction fails is removed again, so the folder never holds a version
the database does not know, and the database never names a file that is not there.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from xls_gongkai.batch.pipeline import Item
from xls_gongkai.batch.roster import Roster
from xls_gongkai.batch.single import file_name
from xls_gongkai.collection import Status
from xls_gongkai.issues import Code, Result
from xls_gongkai.portal import library
from xls_gongkai.portal.models import AuditEntry, Campaign, Drop, DropFile, Explanation, Unit, Version
from xls_gongkai.portal.sheetview import explainable
from xls_gongkai.portal.states import Event, State, TransitionRefused
from xls_gongkai.portal.tokens import new_nonce, token_for, token_hash
from xls_gongkai.report import Unit as LibUnit
from xls_gongkai.workbook.annotate import annotate
from xls_gongkai.workbook.writer import WriteOptions

_STORED = re.compile(r"^[0-9a-f]{32}\.(upload|xlsx)$")
MAX_EXPLANATION = 2000


@dataclass(frozen=True)
class Actor:
    """Who acts: a unit's session or the officer, with the request's address for the audit log."""

    label: str
    ip: str | None = None
    user_agent: str = ""


@dataclass(frozen=True)
class Stored:
    name: str
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class Checked:
    """One upload's verdict: the reader's result (what is stored), the library's verdict on it
    against the campaign's roster, and the marked-up copy's stored name ("" when none)."""

    result: Result
    item: Item
    annotated: str = ""

    @property
    def unreadable(self) -> str:
        """The one-line message when the file could not be used at all ("" otherwise)."""
        if self.result.report is not None:
            return ""
        return next((i.message for i in self.result.issues if i.code == Code.FILE_UNREADABLE), "文件无法读取")


# --------------------------------------------------------------------------- files


def files_dir() -> Path:
    path = Path(settings.PORTAL_FILES_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def tmp_dir() -> Path:
    path = files_dir() / "tmp"
    path.mkdir(exist_ok=True)
    return path


def stored_path(name: str) -> Path:
    """The path of a stored file; a name that is not one the portal generated is refused."""
    if not _STORED.match(name):
        raise ValueError(f"not a stored file name: {name!r}")
    return files_dir() / name


def store(upload: UploadedFile) -> Stored:
    """Write an upload under a generated name, hashing it on the way."""
    name = f"{uuid.uuid4().hex}.upload"
    path = files_dir() / name
    digest = hashlib.sha256()
    size = 0
    with path.open("xb") as out:
        for chunk in upload.chunks():
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return Stored(name, path, size, digest.hexdigest())


def discard(*names: str) -> None:
    for name in names:
        if name:
            stored_path(name).unlink(missing_ok=True)


def write_options(campaign: Campaign) -> WriteOptions:
    """The options ``generate`` would use for this campaign (deadline and contact in 填报说明)."""
    return WriteOptions(deadline=campaign.deadline, contact=campaign.contact, generated_at=campaign.created_at)


def library_unit(unit: Unit) -> LibUnit:
    return LibUnit(unit.code, unit.name, unit.parent)


def roster(campaign: Campaign) -> Roster:
    """The campaign's units, in roster order, as the library's roster."""
    return library.roster((library_unit(u) for u in campaign.units.all()), f"{campaign.name}{campaign.year}年度名册")


def verdict(campaign: Campaign, result: Result) -> Item:
    """The library's verdict on a result, against the campaign's roster as it is now."""
    return library.verdict(result, roster(campaign))


def shown(version: Version) -> Result:
    """A stored version's result with the roster's findings, as its pages show it."""
    return verdict(version.unit.campaign, Result.from_json(version.result_json)).result


def audit(
    campaign: Campaign, unit: Unit | None, actor: Actor, action: str, detail: str = "", version: Version | None = None
) -> None:
    AuditEntry.objects.create(
        campaign=campaign,
        unit=unit,
        actor=actor.label,
        action=action,
        detail=detail,
        version=version.number if version else None,
        sha256=version.sha256 if version else "",
        ip=actor.ip,
        user_agent=actor.user_agent,
    )


# --------------------------------------------------------------------------- the clerk's actions


def visit(unit: Unit, actor: Actor) -> None:
    """The clerk opened the link: 未访问 → 已访问 (nothing changes in any other state)."""
    with transaction.atomic():
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        if locked.state is State.NEW:
            locked.advance(Event.VISIT, actor.label)
            locked.save()
        audit(locked.campaign, locked, actor, "打开链接")


def upload(unit: Unit, upload_file: UploadedFile, actor: Actor, *, source: str = "clerk") -> Version:
    """Store, check (in a child process) and file one workbook as the unit's next version."""
    if unit.state is State.ACCEPTED:
        raise TransitionRefused(unit.state, Event.UPLOAD_CLEAN)
    stored = store(upload_file)
    try:
        checked = check(stored, upload_file.name or "", unit.campaign, library_unit(unit))
        return file_version(unit, stored, upload_file.name or "", checked, actor, source=source)
    except BaseException:
        discard(stored.name)
        raise


def check(stored: Stored, original: str, campaign: Campaign, unit: LibUnit | None) -> Checked:
    """The library's verdict on a stored upload, and its marked-up copy (written when there is
    anything to mark: the library's ``annotate``, from the figures read, never the clerk's file)."""
    result = library.read_upload(
        stored.path,
        name=file_name(original),
        year=campaign.year,
        unit=unit,
        timeout=settings.PORTAL_CHECK_SECONDS,
        memory=settings.PORTAL_CHECK_MEMORY,
    )
    item = verdict(campaign, result)
    annotated = f"{uuid.uuid4().hex}.xlsx"
    written = annotate(item.result, files_dir(), name=annotated, options=write_options(campaign))
    return Checked(result, item, annotated if written is not None else "")


def file_version(unit: Unit, stored: Stored, original: str, checked: Checked, actor: Actor, *, source: str) -> Version:
    item = checked.item
    try:
        with transaction.atomic():
            locked = Unit.objects.select_for_update().get(pk=unit.pk)
            event = library.event_for(item.status)
            before = locked.state
            locked.advance(event, actor.label)  # refuses an upload to an accepted unit
            previous = locked.latest()
            version = Version.objects.create(
                unit=locked,
                number=(previous.number if previous else 0) + 1,
                source=source,
                uploaded_by=actor.label,
                original_name=file_name(original)[:255],
                stored_name=stored.name,
                size=stored.size,
                sha256=stored.sha256,
                kind=checked.result.container,
                status=item.status.value,
                errors=len(item.result.errors),
                warnings=len(item.result.warnings),
                unreadable=checked.unreadable,
                result_json=checked.result.to_json(),
                annotated_name=checked.annotated,
            )
            locked.save()
            carried = _carry_explanations(previous, version, item.result)
            withdrawn = f"（撤回了第 {previous.number} 版的提交）" if before is State.SUBMITTED and previous else ""
            detail = f"{version.original_name}，{summary_line(version)}{withdrawn}"
            if carried:
                detail += f"；沿用 {carried} 条说明"
            audit(locked.campaign, locked, actor, "代传" if source == "officer" else "上传", detail, version)
    except BaseException:
        discard(checked.annotated)
        raise
    unit.refresh_from_db()
    return version


def _carry_explanations(previous: Version | None, version: Version, result: Result) -> int:
    """说明 written for a warning that the new version has again are kept with it."""
    if previous is None:
        return 0
    keys = explainable(result)
    kept = [e for e in previous.explanations.all() if e.key in keys]
    Explanation.objects.bulk_create(
        Explanation(version=version, key=e.key, text=e.text, written_at=e.written_at, written_by=e.written_by)
        for e in kept
    )
    return len(kept)


def summary_line(version: Version) -> str:
    if version.unreadable:
        return "无法读取"
    if version.status == Status.EMPTY:
        return "空表（没有填写任何数字）"
    if version.errors:
        return f"错误 {version.errors} 个，警告 {version.warnings} 个"
    return f"没有错误，警告 {version.warnings} 个" if version.warnings else "没有错误和警告"


def explain(unit: Unit, number: int, key: str, text: str, actor: Actor, allowed: Mapping[str, str]) -> None:
    """Write (or clear, with empty text) the 说明 of one warning of the unit's latest version.

    ``allowed`` maps the keys a 说明 can be filed under (``issues.explanation_key`` of each
    warning) to the warning in words, for the audit log.
    """
    text = text.strip()[:MAX_EXPLANATION]
    with transaction.atomic():
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        latest = locked.latest()
        if latest is None or latest.number != number:
            raise ValueError("只能为最新版本填写说明。")
        if locked.state in (State.SUBMITTED, State.ACCEPTED):
            raise ValueError(
                "报表已提交，说明不能再修改。如需修改，请上传新版本（已通过的须先由县政务公开办撤销通过）。"
            )
        if key not in allowed:
            raise ValueError("找不到这条警告。")
        if text:
            Explanation.objects.update_or_create(
                version=latest, key=key, defaults={"text": text, "written_by": actor.label}
            )
        else:
            Explanation.objects.filter(version=latest, key=key).delete()
        audit(locked.campaign, locked, actor, "说明", f"{allowed[key]}：{text or '（清空）'}"[:500], latest)


def submit(unit: Unit, number: int, actor: Actor) -> Version:
    """提交 the latest version (refused while it has errors, or when it is not the latest)."""
    with transaction.atomic():
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        latest = locked.latest()
        if latest is None or latest.number != number:
            raise ValueError("这不是最新版本，只能提交最新上传的版本。")
        locked.advance(Event.SUBMIT, actor.label)
        latest.submitted_at = timezone.now()
        latest.save(update_fields=["submitted_at"])
        locked.save()
        audit(locked.campaign, locked, actor, "提交", summary_line(latest), latest)
    unit.refresh_from_db()
    return latest


# --------------------------------------------------------------------------- the officer's actions


def rotate_link(unit: Unit, actor: Actor) -> None:
    """Replace the unit's link: the old one, and every session opened with it, stop working."""
    unit.link_nonce = new_nonce()
    unit.link_hash = token_hash(token_for(unit.campaign_id, unit.code, unit.link_nonce))
    unit.link_created_at = timezone.now()
    unit.save(update_fields=["link_nonce", "link_hash", "link_created_at"])
    audit(unit.campaign, unit, actor, "更换链接", "旧链接已失效")


def decide(unit: Unit, number: int, event: Event, actor: Actor, reason: str = "") -> Version:
    """通过, 退回 (with a reason) or 撤销通过 the unit's latest version, which the officer was looking at."""
    reason = reason.strip()[:2000]
    if event is Event.RETURN and not reason:
        raise ValueError("退回时必须写明原因，单位才知道要改什么。")
    with transaction.atomic():
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        latest = locked.latest()
        if latest is None or latest.number != number:
            raise ValueError("该单位已上传了新版本，请刷新页面，审核最新版本。")
        locked.advance(event, actor.label)
        now = timezone.now()
        if event is Event.RETURN:
            latest.returned_at, latest.return_reason = now, reason
            locked.return_reason = reason
        elif event is Event.ACCEPT:
            latest.accepted_at = now
        elif event is Event.REOPEN:
            latest.accepted_at = None
        latest.save(update_fields=["returned_at", "return_reason", "accepted_at"])
        locked.save()
        audit(locked.campaign, locked, actor, event.label, reason, latest)
    unit.refresh_from_db()
    return latest


@dataclass(frozen=True)
class Filed:
    outcome: str
    message: str
    unit: Unit | None = None
    version: Version | None = None


def drop(campaign: Campaign, uploads: Sequence[UploadedFile], actor: Actor) -> Drop:
    """代传: file workbooks received by QQ or e-mail under their units, by the identity inside them."""
    batch = Drop.objects.create(campaign=campaign, by=actor.label)
    for position, upload_file in enumerate(uploads, start=1):
        stored = store(upload_file)
        try:
            filed = _drop_one(campaign, stored, upload_file.name or "", actor)
        except BaseException:
            discard(stored.name)
            raise
        if filed.version is None:
            discard(stored.name)
        DropFile.objects.create(
            drop=batch,
            position=position,
            original_name=file_name(upload_file.name or "")[:255],
            sha256=stored.sha256,
            size=stored.size,
            outcome=filed.outcome,
            message=filed.message,
            unit=filed.unit,
            version=filed.version,
        )
    audit(campaign, None, actor, "代传", f"{len(uploads)} 个文件（批次 {batch.pk}）")
    return batch


def _drop_one(campaign: Campaign, stored: Stored, original: str, actor: Actor) -> Filed:
    same = Version.objects.filter(unit__campaign=campaign, sha256=stored.sha256).select_related("unit").first()
    if same is not None:
        return Filed("duplicate", f"与 {same.unit.name} 第 {same.number} 版内容完全相同，未重复归档。", same.unit)
    checked = check(stored, original, campaign, None)
    result, item = checked.result, checked.item
    if result.report is None:
        discard(checked.annotated)
        return Filed("unreadable", checked.unreadable)
    report = result.report
    other_year = next((i for i in item.result.errors if i.code == Code.YEAR_MISMATCH), None)
    if other_year is not None:
        discard(checked.annotated)
        return Filed("other_year", f"{other_year.message.rstrip('。')}。未归档。")
    unit = campaign.units.filter(code=item.unit.code).first() if item.on_roster and item.unit else None
    if unit is None:
        discard(checked.annotated)
        who = f"“{report.unit.name or '（未填写）'}”（代码 {report.unit.code or '—'}）"
        return Filed("unknown", f"文件中的单位{who}不在名册中，未归档。可在该单位的审核页面为其代传。")
    if unit.state is State.ACCEPTED:
        discard(checked.annotated)
        return Filed("locked", f"{unit.name} 已审核通过，数据已锁定，未归档。如需更换，请先撤销通过。", unit)
    return _file_dropped(unit, stored, original, checked, actor)


def _file_dropped(unit: Unit, stored: Stored, original: str, checked: Checked, actor: Actor) -> Filed:
    version = file_version(unit, stored, original, checked, actor, source="officer")
    message = f"已归档为 {unit.name} 第 {version.number} 版：{summary_line(version)}。"
    if version.is_clean:
        # A workbook the unit sent in is its submission: without errors it goes to review.
        submit(unit, version.number, actor)
        message += "没有错误，已代为提交，待审核。"
    else:
        message += "有错误，已作为草稿，请将标注副本退回单位修改。"
    return Filed("filed", message, unit, version)


def drop_for_unit(unit: Unit, upload_file: UploadedFile, actor: Actor) -> Version:
    """代传 for one chosen unit (a hand-made workbook without identity): checked as that unit's."""
    version = upload(unit, upload_file, actor, source="officer")
    if version.is_clean:
        submit(unit, version.number, actor)
    return version
