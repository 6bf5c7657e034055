"""policy.toml is checked when loaded: an operator's typo is an error naming the key, never a
silent default; and the working calendar is one object both policies count time on."""

import ast
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dialogs.calendar import WorkingCalendar
from dialogs.policy import DEFAULT_POLICY_FILE, Policy, PolicyError

SH = ZoneInfo("Asia/Shanghai")
SHIPPED = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    """The shipped file with one line changed, as an operator would change it."""
    assert SHIPPED.count(old) == 1, old
    path = tmp_path / "policy.toml"
    path.write_text(SHIPPED.replace(old, new), encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(PolicyError) as caught:
        Policy.load(path)
    # one line: the start-up prints the first line of an error
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_the_shipped_policy_loads():
    p = Policy.load()
    assert p.service_name == "悦居物业客服" and p.grab_urgent is True
    assert p.repair_categories["water"]["department"] == "工程部"
    assert p.promise_minutes("repair", "gas", urgent=True) == (5, 15)
    assert p.slots["tomorrow_am"] == {"day": 1, "part": "上午"}
    assert p.followups.sla_ratio == 0.8


def test_a_misspelt_key_is_named(tmp_path):
    message = _error(_edited(tmp_path, "grab_urgent = true", "grab_urgnet = true"))
    assert "desk.grab_urgnet: unknown key" in message
    assert str(tmp_path / "policy.toml") in message


def test_a_misspelt_key_inside_a_category_is_named(tmp_path):
    old = 'label = "门窗"\nexample = "卧室窗户关不严，把手松了"\ndepartment = "工程部"'
    message = _error(_edited(tmp_path, old, old.replace("department", "departmnet")))
    assert "repair_categories.doors.departmnet: unknown key" in message
    assert "repair_categories.doors.department: required key missing" in message


def test_a_value_of_the_wrong_kind_is_named(tmp_path):
    message = _error(_edited(tmp_path, "grab_urgent = true", 'grab_urgent = "yes"'))
    assert "desk.grab_urgent:" in message and "boolean" in message
    message = _error(
        _edited(tmp_path, "urge_interval_minutes = 30", 'urge_interval_minutes = "30"')
    )
    assert "desk.urge_interval_minutes:" in message
    message = _error(_edited(tmp_path, 'start = "08:00"', 'start = "8点"'))
    assert "working_hours.start:" in message


def test_a_missing_section_is_named(tmp_path):
    message = _error(_edited(tmp_path, '[consult]\ndepartment = "客服"\n', ""))
    assert "consult: required key missing" in message


def test_a_name_that_points_nowhere_is_named(tmp_path):
    message = _error(_edited(tmp_path, "[promise.repair.elevator]", "[promise.repair.elevater]"))
    assert "promise.repair.elevater: no such repair category" in message
    message = _error(_edited(tmp_path, 'delay_step = "延期"', 'delay_step = "延迟"'))
    assert "desk: delay_step: '延迟' is not one of progress_steps" in message
    message = _error(
        _edited(
            tmp_path,
            'today_pm = { day = 0, part = "下午" }',
            'today_pm = { day = 0, part = "下五" }',
        )
    )
    assert "slots.today_pm:" in message and "下五" in message


def test_broken_toml_is_an_error_naming_the_file(tmp_path):
    message = _error(_edited(tmp_path, "[desk]", "[desk"))
    assert message.startswith(str(tmp_path / "policy.toml"))


# --- the working calendar ------------------------------------------------------------------------
WEEKDAYS = WorkingCalendar(
    work_days=frozenset({1, 2, 3, 4, 5}),
    work_start=time(9),
    work_end=time(17),
    holidays=frozenset({date(2026, 11, 25)}),  # a Wednesday
)


def at(d, h, m=0):
    return datetime(2026, 11, d, h, m, tzinfo=SH)


def test_working_minutes_skip_nights_weekends_and_holidays():
    # Friday 16:00 + 120 working minutes: one hour on Friday, one on Monday morning
    assert WEEKDAYS.add_working_minutes(at(27, 16), 120) == at(30, 10)
    # Tuesday 16:30 + 60: the holiday Wednesday is skipped
    assert WEEKDAYS.add_working_minutes(at(24, 16, 30), 60) == at(26, 9, 30)
    assert WEEKDAYS.working_minutes_between(at(24, 16, 30), at(26, 9, 30)) == 60
    assert WEEKDAYS.next_working_start(at(28, 12)) == at(30, 9)  # Saturday noon


def test_quiet_hours_across_midnight():
    assert WEEKDAYS.in_quiet_hours(at(23, 22)) and WEEKDAYS.in_quiet_hours(at(24, 7, 59))
    assert not WEEKDAYS.in_quiet_hours(at(24, 8))
    assert WEEKDAYS.defer_quiet(at(23, 22)) == at(24, 8)
    assert WEEKDAYS.defer_quiet(at(23, 22), urgent=True) == at(23, 22)


def test_the_policy_and_the_follow_ups_count_on_one_calendar():
    p = Policy.load()
    assert p.followups.calendar is p.calendar


def _relative_imports(module: str) -> set[str]:
    path = Path(__file__).resolve().parent.parent / "dialogs" / f"{module}.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.add(node.module or "")
            if not node.module:
                found |= {a.name for a in node.names}
    return found


def test_no_import_circle_between_the_policy_and_the_follow_ups():
    """policy builds the follow-up rules; the follow-up rules need only the calendar (even a
    deferred import inside a function would be the old circle again)."""
    assert "policy" not in _relative_imports("followup_policy")
    assert not {"policy", "followup_policy"} & _relative_imports("calendar")
