"""The manager's report against a hand-counted month (tests/report_month.py), on SQLite and,
with TEST_DATABASE_URL, PostgreSQL: every figure, the CSV encoding, the charts' glyphs."""

from __future__ import annotations

import csv
import io
import warnings
from argparse import Namespace
from datetime import date

import pytest

from bot.reports.cli import scope_of
from bot.reports.output import write_report
from bot.reports.words import Words
from dialogs.policy import Policy

from .report_month import NOW, TZ, load, needs_cjk_font

ARGS = Namespace(
    date_from=date(2026, 11, 1), date_to=date(2026, 11, 30), community="", department="", agent=None
)


@pytest.fixture
async def report(sessionmaker, tmp_path):
    needs_cjk_font()
    await load(sessionmaker)
    engine = sessionmaker.kw["bind"]
    policy = Policy.load()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = await write_report(
            engine, scope_of(ARGS, TZ), Words(policy), TZ, NOW, tmp_path
        )
    return Ran(r, [str(w.message) for w in caught], tmp_path)


class Ran:
    """The report, with the warnings raised while it was written and its folder."""

    def __init__(self, report, caught, out):
        self.report, self.caught, self.out = report, caught, out

    def __getattr__(self, name):
        return getattr(self.report, name)


async def test_volume_and_backlog(report):
    f = report.tickets
    assert f.created == 8  # T1-T4, T6-T9 (T5 was filed in October)
    assert f.closed == 5  # T1, T2, T3 closed; T8, T9 withdrawn
    assert f.new_per_day[date(2026, 11, 2)] == 1 and f.new_per_day[date(2026, 11, 30)] == 1
    assert f.closed_per_day[date(2026, 11, 5)] == 1  # T2's last close, not its first completion
    assert sum(f.new_per_day.values()) == 8
    assert f.by_category[("repair", "water")] == 2
    assert f.by_channel == {"telegram": 8}
    # open at 12-01 00:00: T6 2 h, T4 62 h, T7 and T5 older than three days
    assert dict(f.backlog) == {"lt4h": 1, "1to3d": 1, "gt3d": 2}
    assert sorted(report.lists["backlog-gt3d"].numbers) == ["BX-5", "ZX-7"]


async def test_timeliness_by_urgency_with_percentiles(report):
    t = report.tickets.timeliness
    contact_u, contact_n = t[("contact", "urgent")], t[("contact", "normal")]
    assert (contact_u.met, contact_u.late) == (1, 1)  # T1 kept, T6 broken
    assert (contact_n.met, contact_n.late) == (1, 2)  # T3 kept; T2 late, T4 never called
    assert (contact_n.p50, contact_n.p90) == (40, 90)  # T3 40 min, T2 90 min
    assert (t[("arrive", "urgent")].met, t[("arrive", "urgent")].late) == (1, 1)
    assert t[("arrive", "urgent")].p50 == 50
    assert (t[("arrive", "normal")].met, t[("arrive", "normal")].late) == (1, 0)  # T2 in 180
    # completion, against the promise the SLA watch recorded: T1 in 2 h (by 13:00), T2's first
    # completion in 5 h (by 18:00); T6's is not yet due; T3 (a complaint), T4 (no arrival
    # promised) were promised no completion time
    assert (t[("complete", "urgent")].met, t[("complete", "urgent")].late) == (1, 0)
    assert (t[("complete", "normal")].met, t[("complete", "normal")].late) == (1, 0)
    assert t[("complete", "normal")].p90 == 300
    assert sorted(report.lists["overdue"].numbers) == ["BX-2", "BX-4", "BX-6"]
    assert sorted((n, s) for n, s, _ in report.tickets.overdue) == [
        ("BX-2", "contact"),
        ("BX-4", "contact"),
        ("BX-6", "arrive"),
        ("BX-6", "contact"),
    ]


async def test_quality(report):
    f = report.tickets
    assert (f.first_fix_rate().hit, f.first_fix_rate().n) == (2, 3)  # T1, T3 of T1-T3
    assert (f.reopen_rate().hit, f.reopen_rate().n) == (1, 3)  # T2 reopened after 2 days
    assert f.urges == 2 and f.urges_per_ticket() == 2 / 8
    assert f.escalations == 1


async def test_satisfaction(report):
    sat = report.satisfaction
    assert (sat.answered, sat.sent) == (3, 4)
    assert [sat.dims[d].n for d in ("overall", "speed", "attitude")] == [3, 3, 3]
    assert sat.dims["overall"].mean == pytest.approx(11 / 3)
    assert sat.dims["speed"].low == 1 and sat.dims["attitude"].low == 0
    assert (sat.low_share().hit, sat.low_share().n) == (1, 3)
    assert (sat.callback_share().hit, sat.callback_share().n) == (1, 1)


async def test_hot_spots_bot_share_and_dialogs(report):
    f = report.tickets
    assert f.hot[("sunny", "B3", "water")] == 2
    assert f.hot[("", "B5", "light")] == 2
    assert [(b, s, c, n) for b, s, c, n, _ in report.public_spots] == [("B5", "lobby", "light", 3)]
    assert f.consults == 1
    assert report.kb_misses == 2  # the October one is outside the period
    # the bot answered 2 by itself (one solved, one read and left) of 4 consultations: those,
    # T7's ticket (its declined answer counted once, as the ticket) and one handed to a person
    bot = report.bot
    assert (bot.by_bot, bot.consultations, bot.outcomes["human"]) == (2, 4, 1)
    assert bot.share().ratio == 0.5
    assert dict(report.abandoned) == {("repair", "describe"): 1}


async def test_agent_scorecards(report):
    cards = {c.name: c for c in report.agents}
    lin, wang = cards["agent_lin"], cards["agent_wang"]
    assert lin.tickets == 2 and wang.tickets == 3  # T5 (October) is not in lin's period
    assert (lin.accept_p50, lin.contact_p50, len(lin.to_contact)) == (5, 10, 2)
    assert (wang.accept_p50, wang.contact_p50, len(wang.to_contact)) == (20, 6, 2)
    assert (lin.first_fix, lin.completed, lin.reopened_7d) == (1, 2, 1)
    assert (wang.first_fix, wang.completed) == (1, 1)
    assert wang.complaint_scores == [4] and lin.complaint_scores == []
    assert (lin.closed_rated, lin.closed) == (2, 2)
    assert (lin.callbacks_in_time, lin.callbacks) == (1, 1)
    assert (lin.held_replies, wang.held_replies) == (2, 0)  # the October hold is not counted
    assert not lin.ranked  # two tickets: shown, with its counts, not ranked


async def test_typical_cases(report):
    cases = {k: [(c.number, c.why, c.status) for c in v] for k, v in report.cases.items()}
    assert cases == {
        "noise": [("TS-3", "complaint", "closed")],
        "water": [("BX-2", "bad_review", "closed")],
    }
    assert report.satisfaction.callback_results[2] == "apologised, rechecked"


async def test_csv_files_have_a_bom_and_one_row_per_ticket(report):
    raw = (report.out / "tickets.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = (report.out / "tickets.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 1 + 9  # every ticket the month touched
    head = rows[0]
    t2 = next(r for r in rows if r[0] == "BX-2")
    assert t2[head.index("\u53d7\u7406")] == "2026-11-03 10:30"  # accepted
    assert t2[head.index("\u5230\u573a")] == "2026-11-03 13:00"  # on site
    assert t2[head.index("\u5b8c\u6210")] == "2026-11-03 15:00"  # first completion
    assert t2[head.index("\u91cd\u5f00")] == "2026-11-05 10:00"  # reopened
    assert t2[head.index("\u53d7\u7406\u7ecf\u529e\u4eba")] == "agent_lin"  # by name
    for name in ("volume", "timeliness", "agents", "satisfaction", "cases"):
        assert (report.out / f"{name}.csv").read_bytes().startswith(b"\xef\xbb\xbf")


async def test_charts_draw_every_glyph(report):
    assert not [m for m in report.caught if "missing from" in m], report.caught
    for name in ("volume", "backlog", "timeliness", "satisfaction"):
        assert (report.out / f"{name}.png").read_bytes().startswith(b"\x89PNG")


async def test_stages_record_who_and_the_promise_each_stage_was_held_to(report, sessionmaker):
    """The stage rows the backfill derived: T2 was first contacted at 11:30 by lin, held to
    11:00; its arrival re-planned once (延期), held to the new 14:00; its first completion kept
    though it was completed twice; the reopening ended its first close."""
    import sqlalchemy as sa

    from storage.models import TicketEvent, TicketStage

    from .report_month import at

    async with sessionmaker() as s:
        t2 = await s.get(TicketStage, 2)
        promised = (
            await s.execute(
                sa.select(TicketEvent.action, TicketEvent.promise_at)
                .where(TicketEvent.ticket_id == 2, TicketEvent.promise_at.is_not(None))
                .order_by(TicketEvent.id)
            )
        ).all()
    assert (t2.first_contact_at, t2.first_contact_kind, t2.first_contact_by) == (
        at(11, 3, 11, 30),
        "agent",
        1,
    )
    assert (t2.contact_promise, t2.arrive_promise, t2.complete_promise) == (
        at(11, 3, 11),
        at(11, 3, 14),
        at(11, 3, 18),
    )
    assert (t2.completed_at, t2.last_completed_at) == (at(11, 3, 15), at(11, 5, 16))
    assert (t2.reopen_count, t2.replans, t2.closed_at) == (1, 1, at(11, 5, 17))
    # each event that reached a promised stage carries the promise it was held to
    assert promised == [
        ("progress", at(11, 3, 11)),
        ("progress", at(11, 3, 14)),
        ("complete", at(11, 3, 18)),
    ]
    rows = list(csv.DictReader(io.StringIO((report.out / "tickets.csv").read_text("utf-8-sig"))))
    bx2 = next(r for r in rows if r["工单号"] == "BX-2")
    assert (bx2["首次联系"], bx2["首次联系经办人"]) == ("2026-11-03 11:30", "agent_lin")
    assert bx2["承诺到场时间"] == "2026-11-03 14:00" and bx2["延期次数"] == "1"
    assert bx2["创建经办人"] == "业主"


async def test_page_links_numbers_to_their_tickets(report):
    html = (report.out / "index.html").read_text(encoding="utf-8")
    # every list under a heading a manager reads, never its internal key
    assert "<h3>超时工单（3）</h3>" in html and "<h3>overdue" not in html
    assert "紧急工单：首次联系按时" in html and "agent_lin首问的工单" in html
    assert "contact-urgent-met（" not in html
    assert 'href="#list-overdue"' in html and 'id="list-overdue"' in html
    assert "data:image/png;base64," in html and "<script" not in html


async def test_a_community_narrows_the_report(sessionmaker, tmp_path):
    needs_cjk_font()
    await load(sessionmaker)
    policy = Policy.load()
    args = Namespace(**{**vars(ARGS), "community": "sunny"})
    r = await write_report(
        sessionmaker.kw["bind"],
        scope_of(args, TZ),
        Words(policy),
        TZ,
        NOW,
        tmp_path,
    )
    assert r.tickets.created == 6  # the two public tickets have no unit in the community
    assert r.public_spots == []


async def test_the_report_words_pass_the_polite_language_check(report):
    from bot.reports.words import page_environment
    from dialogs.polite import check
    from dialogs.typography import check_typography

    env = page_environment()
    said = [
        env.get_template("manager_report_done.j2").render(path="x/index.html", created=1, closed=1),
        env.get_template("manager_report_no_font.j2").render(),
        env.get_template("manager_report_bad_period.j2").render(
            start="2026-11-30", end="2026-11-01"
        ),
    ]
    for text in said:
        assert check(text) == [] and check_typography(text) == [], text
    assert check((report.out / "index.html").read_text(encoding="utf-8")) == []


async def test_tickets_csv_from_the_database_is_the_one_python_writes(sessionmaker, tmp_path):
    """tickets.csv made by the database (bot/reports/ticket_export.py: COPY on PostgreSQL, SQL
    formatting on SQLite): byte for byte the file Python writes row by row."""
    from bot.reports.output import _write

    engine = sessionmaker.kw["bind"]
    needs_cjk_font()
    await load(sessionmaker)
    policy = Policy.load()
    by_copy, by_python = tmp_path / "copy", tmp_path / "python"
    for out, python_csv in ((by_copy, False), (by_python, True)):
        await _write(engine, scope_of(ARGS, TZ), Words(policy), TZ, NOW, out, python_csv)
    copied = (by_copy / "tickets.csv").read_bytes()
    assert copied.startswith(b"\xef\xbb\xbf") and copied.count(b"\n") == 1 + 9
    assert copied.decode("utf-8-sig").splitlines() == (
        (by_python / "tickets.csv").read_bytes().decode("utf-8-sig").splitlines()
    )
