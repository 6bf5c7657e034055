import pytest

from desk.machine import TRANSITIONS, decide

STATES = ("new", "accepted", "dispatched", "in_progress", "done", "closed", "withdrawn")
WORKING = ("accepted", "dispatched", "in_progress")

# Written out by hand from DOMAIN.md's ticket life cycle, not read from the table under test:
# (action, from) -> to, for a supervisor (who may act on any ticket). Anything else is refused.
EXPECTED = {
    ("take", "new"): "accepted", ("grab", "new"): "accepted",
    **{("reassign", s): s for s in WORKING},
    **{("dispatch", s): "dispatched" for s in WORKING},
    **{("progress", s): "in_progress" for s in WORKING},
    **{("complete", s): "done" for s in WORKING},
    **{("escalate", s): s for s in ("new", *WORKING)},
    **{("takeover", s): s for s in ("new", *WORKING, "done")},
    ("reopen", "done"): "in_progress",
    ("close", "done"): "closed",
    **{("withdraw", s): "withdrawn" for s in ("new", *WORKING)},
    **{("urge", s): s for s in ("new", *WORKING)},
    **{("resend_survey", s): s for s in ("done", "closed")},
    **{("delay", s): s for s in WORKING},
}
ACTIONS = sorted({a for a, _ in EXPECTED})


def test_the_machine_knows_exactly_these_actions():
    assert sorted(TRANSITIONS) == ACTIONS
    assert not decide("fly", "new", handler_id=1, actor_id=1, actor_role="supervisor").ok


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", STATES)
def test_every_transition_is_allowed_exactly_from_its_states(action, status):
    v = decide(action, status, handler_id=1, actor_id=1, actor_role="supervisor")
    expected = EXPECTED.get((action, status))
    assert v.ok == (expected is not None)
    if v.ok:
        assert v.to_status == expected
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
