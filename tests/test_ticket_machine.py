import pytest

from dialogs.ticket_machine import TRANSITIONS, decide

STATES = ("new", "accepted", "dispatched", "in_progress", "done", "closed", "withdrawn")


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
@pytest.mark.parametrize("status", STATES)
def test_every_transition_is_allowed_exactly_from_its_states(action, status):
    allowed_from, to_status = TRANSITIONS[action]
    v = decide(action, status, handler_id=1, actor_id=1, actor_role="supervisor")
    assert v.ok == (status in allowed_from)
    if v.ok:
        assert v.to_status == (to_status or status)
    else:
        assert v.reason


def test_first_contact_owns_the_ticket():
    assert decide("take", "new", handler_id=None, actor_id=2).ok
    v = decide("take", "accepted", handler_id=1, actor_id=2)
    assert not v.ok and v.reason == "already_taken"
    v = decide("dispatch", "accepted", handler_id=1, actor_id=2)
    assert not v.ok and v.reason == "not_yours"
    assert decide("dispatch", "accepted", handler_id=1, actor_id=1).ok
    assert decide("dispatch", "accepted", handler_id=1, actor_id=2, actor_role="supervisor").ok


def test_invalid_transitions_are_refused_with_a_reason():
    v = decide("complete", "new", handler_id=None, actor_id=1)
    assert not v.ok and v.reason == "state_new"
    v = decide("take", "closed", handler_id=1, actor_id=1)
    assert not v.ok and v.reason == "state_closed"
    v = decide("reassign", "accepted", handler_id=1, actor_id=1)
    assert not v.ok and v.reason == "supervisor_only"
