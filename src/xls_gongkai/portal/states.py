"""The one state machine of a unit's report in a campaign.

Every transition (a dash: refused, with a message saying why)::

    state \\ event   visit    upload, errors   upload, clean    submit      return    accept    reopen
    未访问          已访问   草稿·有错误       草稿·待提交       –           –         –         –
    已访问          –        草稿·有错误       草稿·待提交       –           –         –         –
    草稿·有错误     –        草稿·有错误       草稿·待提交       –           –         –         –
    草稿·待提交     –        草稿·有错误       草稿·待提交       已提交·待审核 –       –         –
    已提交·待审核   –        草稿·有错误       草稿·待提交       –           已退回    已通过    –
    已退回          –        草稿·有错误       草稿·待提交       –           –         –         –
    已通过          –        –                 –                 –           –         –         已提交·待审核

An upload is possible in every state but 已通过 (the data is locked); an upload after 提交
withdraws the submission (the new version has to be submitted again). 提交 needs the latest
version free of errors; 退回 and 通过 act on a submitted version only. Every other pair is
refused with a message saying why. 逾期 (overdue) is not a state: it is derived from the
deadline and the state.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class State(StrEnum):
    NEW = "new"
    VISITED = "visited"
    DRAFT_ERRORS = "draft_errors"
    DRAFT_READY = "draft_ready"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return LABELS[self]


class Event(StrEnum):
    VISIT = "visit"  # the clerk opened the link
    UPLOAD_ERRORS = "upload_errors"  # a version the library found errors in
    UPLOAD_CLEAN = "upload_clean"  # a version without errors (warnings allowed)
    SUBMIT = "submit"
    RETURN = "return"  # 退回 (with a reason)
    ACCEPT = "accept"  # 通过: locks the data
    REOPEN = "reopen"  # 撤销通过

    @property
    def label(self) -> str:
        return EVENT_LABELS[self]


LABELS: Mapping[State, str] = {
    State.NEW: "未访问",
    State.VISITED: "已访问",
    State.DRAFT_ERRORS: "草稿·有错误",
    State.DRAFT_READY: "草稿·待提交",
    State.SUBMITTED: "已提交·待审核",
    State.RETURNED: "已退回",
    State.ACCEPTED: "已通过",
}

EVENT_LABELS: Mapping[Event, str] = {
    Event.VISIT: "打开链接",
    Event.UPLOAD_ERRORS: "上传",
    Event.UPLOAD_CLEAN: "上传",
    Event.SUBMIT: "提交",
    Event.RETURN: "退回",
    Event.ACCEPT: "通过",
    Event.REOPEN: "撤销通过",
}

_UPLOADABLE = (State.NEW, State.VISITED, State.DRAFT_ERRORS, State.DRAFT_READY, State.SUBMITTED, State.RETURNED)

TRANSITIONS: Mapping[tuple[State, Event], State] = {
    (State.NEW, Event.VISIT): State.VISITED,
    **{(s, Event.UPLOAD_ERRORS): State.DRAFT_ERRORS for s in _UPLOADABLE},
    **{(s, Event.UPLOAD_CLEAN): State.DRAFT_READY for s in _UPLOADABLE},
    (State.DRAFT_READY, Event.SUBMIT): State.SUBMITTED,
    (State.SUBMITTED, Event.RETURN): State.RETURNED,
    (State.SUBMITTED, Event.ACCEPT): State.ACCEPTED,
    (State.ACCEPTED, Event.REOPEN): State.SUBMITTED,
}

#: States in which the unit has not finished: 催报 goes to these.
OPEN_STATES = (State.NEW, State.VISITED, State.DRAFT_ERRORS, State.DRAFT_READY, State.RETURNED)
#: States that count as handed in on time (not 逾期 after the deadline).
HANDED_IN = (State.SUBMITTED, State.ACCEPTED)


class TransitionRefused(Exception):
    """An event that the unit's state does not allow; the message says why, in Chinese."""

    def __init__(self, state: State, event: Event) -> None:
        self.state = state
        self.event = event
        super().__init__(refusal(state, event))


def advance(state: State, event: Event) -> State:
    """The state after ``event``; raises :class:`TransitionRefused` for a pair not in the table."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise TransitionRefused(state, event) from None


def allowed(state: State, event: Event) -> bool:
    return (state, event) in TRANSITIONS


def refusal(state: State, event: Event) -> str:
    """Why ``event`` cannot happen in ``state`` — for the page, never a bare "forbidden"."""
    if event in (Event.UPLOAD_ERRORS, Event.UPLOAD_CLEAN):
        return "本单位的报表已审核通过，数据已锁定，不能再上传。如需修改，请联系县政务公开办撤销通过。"
    if event is Event.SUBMIT:
        return {
            State.DRAFT_ERRORS: "最新版本还有错误，不能提交。请按提示改正后重新上传，再提交。",
            State.SUBMITTED: "最新版本已经提交，正在等待审核，无需重复提交。",
            State.ACCEPTED: "报表已审核通过，无需再提交。",
            State.RETURNED: "报表已被退回。请按退回原因修改后上传新版本，再提交。",
        }.get(state, "还没有上传报表。请先上传填好的工作簿，检查无误后再提交。")
    if event in (Event.RETURN, Event.ACCEPT):
        return f"只能审核“已提交·待审核”的报表，该单位当前为“{state.label}”。"
    if event is Event.REOPEN:
        return f"只有“已通过”的报表才能撤销通过，该单位当前为“{state.label}”。"
    return f"该单位已不是“未访问”状态（当前为“{state.label}”）。"
