"""The state machine: every (state, event) pair is either the documented transition or refused with a reason."""

from __future__ import annotations

import pytest

from xls_gongkai.portal.states import LABELS, TRANSITIONS, Event, State, TransitionRefused, advance, allowed, refusal

# The table of the module's docstring, written out again: a change to either must be deliberate.
EXPECTED = {
    (State.NEW, Event.VISIT): State.VISITED,
    **{(s, Event.UPLOAD_ERRORS): State.DRAFT_ERRORS for s in State if s is not State.ACCEPTED},
    **{(s, Event.UPLOAD_CLEAN): State.DRAFT_READY for s in State if s is not State.ACCEPTED},
    (State.DRAFT_READY, Event.SUBMIT): State.SUBMITTED,
    (State.SUBMITTED, Event.RETURN): State.RETURNED,
    (State.SUBMITTED, Event.ACCEPT): State.ACCEPTED,
    (State.ACCEPTED, Event.REOPEN): State.SUBMITTED,
}

ALL_PAIRS = [(s, e) for s in State for e in Event]


def test_table_is_the_documented_one() -> None:
    assert dict(TRANSITIONS) == EXPECTED


@pytest.mark.parametrize(("state", "event"), ALL_PAIRS, ids=[f"{s.value}-{e.value}" for s, e in ALL_PAIRS])
def test_every_pair(state: State, event: Event) -> None:
    if (state, event) in EXPECTED:
        assert allowed(state, event)
        assert advance(state, event) is EXPECTED[(state, event)]
    else:
        assert not allowed(state, event)
        with pytest.raises(TransitionRefused) as info:
            advance(state, event)
        # A refusal says why, in Chinese, and names no internal identifier.
        message = str(info.value)
        assert message == refusal(state, event)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
        assert state.value not in message
        assert event.value not in message


def test_every_state_has_a_chinese_label() -> None:
    assert [LABELS[s] for s in State] == [
        "未访问",
        "已访问",
        "草稿·有错误",
        "草稿·待提交",
        "已提交·待审核",
        "已退回",
        "已通过",
    ]


def test_specific_refusals_tell_what_to_do() -> None:
    assert "已审核通过" in refusal(State.ACCEPTED, Event.UPLOAD_CLEAN)
    assert "还有错误" in refusal(State.DRAFT_ERRORS, Event.SUBMIT)
    assert "无需重复提交" in refusal(State.SUBMITTED, Event.SUBMIT)
    assert "退回" in refusal(State.RETURNED, Event.SUBMIT)
    assert "请先上传" in refusal(State.NEW, Event.SUBMIT)
    assert "已提交·待审核" in refusal(State.DRAFT_READY, Event.ACCEPT)


def test_every_state_is_reachable_from_new() -> None:
    seen = {State.NEW}
    frontier = [State.NEW]
    while frontier:
        state = frontier.pop()
        for (s, _e), target in TRANSITIONS.items():
            if s is state and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(State)
