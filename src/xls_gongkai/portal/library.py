"""How an upload gets the library's verdict, and how that verdict moves a unit's report.

The portal judges nothing itself. A stored upload is read by
:func:`xls_gongkai.batch.single.read_one` (a fresh, memory-bounded child with a deadline); what
no single file can know — is the unit on the campaign's roster, under which roster unit — and
the file's status (通过/有警告/有错误/空表/…) come from :func:`xls_gongkai.batch.pipeline.check_batch`,
the same call ``check`` and ``merge`` make. This module adds only what is the portal's own:

* a queue: at most one read per core at once, so 300 units uploading within the hour wait their
  turn instead of each starting a parser on a 2-core office PC;
* the campaign's roster as the library's :class:`~xls_gongkai.batch.roster.Roster`;
* the mapping of the library's status onto the portal's workflow (:mod:`~xls_gongkai.portal.states`):
  a version with any error (空表 included) is a 草稿·有错误, any other a 草稿·待提交.

What is stored is the reader's own :class:`~xls_gongkai.issues.Result` (``Result.to_json``);
the roster's verdict is worked out again whenever it is shown, so a summary that checks many
stored results together never counts a roster finding twice.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path

from xls_gongkai.batch.pipeline import Item, check_batch
from xls_gongkai.batch.roster import Roster
from xls_gongkai.batch.single import read_one
from xls_gongkai.collection import Status
from xls_gongkai.issues import Result
from xls_gongkai.portal.states import Event
from xls_gongkai.report import Unit

__all__ = ["CLEAN", "event_for", "read_upload", "roster", "verdict"]

#: The statuses of a version that may be submitted (warnings need a 说明, not a correction).
CLEAN = (Status.SUBMITTED, Status.WARNINGS)

_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


def read_upload(path: Path, *, name: str, year: int, unit: Unit | None, timeout: float, memory: int) -> Result:
    """The reader's result for one stored upload, named as the uploader named it.

    ``unit`` (None for 代传) is whom the uploader stands for: another unit's template is an
    error, as in ``check --unit``. Waits for a free slot first (see the module docstring).
    """
    with _SLOTS:
        return read_one(path, timeout=timeout, memory=memory, name=name, year=year, unit=unit)


def roster(units: Iterable[Unit], name: str) -> Roster:
    """The campaign's units as the library's roster (``name`` is what 不在名册 messages call it)."""
    return Roster(tuple(units), source=name)


def verdict(result: Result, campaign_roster: Roster) -> Item:
    """The library's verdict on one file against the campaign's roster: its unit on the roster
    (``item.unit``), its issues with the roster's (``item.result``), its ``item.status``."""
    return check_batch([result], roster=campaign_roster).items[0]


def event_for(status: Status) -> Event:
    """The workflow event of an upload with this status."""
    return Event.UPLOAD_CLEAN if status in CLEAN else Event.UPLOAD_ERRORS
