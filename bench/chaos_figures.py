"""The figures of bench/chaos.py, read after a scenario from the fake Bot API's records
(chaos_api.py), the owners' steps (chaos_owners.py), the database and the bot's output."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from datetime import datetime

from chaos_api import SEND_METHODS, ChaosAPI, max_in_window
from chaos_owners import Owner, signature
from chaos_procs import BotProcess, log_problems

GROUP = "-100777000"


@dataclass
class Result:
    name: str
    rows: list[tuple[str, str, str, bool | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: str, value, goal: str = "", ok: bool | None = None) -> None:
        self.rows.append((figure, str(value), goal, ok))


async def query(url: str, sql: str) -> list[tuple]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


async def measure(
    r: Result,
    api: ChaosAPI,
    url: str,
    owners: list[Owner],
    procs: list[BotProcess],
    kills: list[float],
    *,
    skip_steps=lambda s: False,
    blocked: frozenset[str] = frozenset(),
) -> None:
    pushed = {p.update["update_id"] for p in api.queue}
    applied = {row[0] for row in await query(url, "SELECT update_id FROM processed_updates")}
    lost = pushed - applied
    acked_lost = {u for u in lost if api.by_id[u].acked is not None}
    r.add("updates pushed", len(pushed))
    r.add("updates applied (processed_updates)", len(pushed & applied))
    r.add(
        "updates lost (pushed, never applied)",
        f"{len(lost)} ({len(acked_lost)} confirmed to Telegram)",
        "0",
        not lost,
    )
    tickets = await query(
        url,
        "SELECT a.external_id, count(t.id) FROM tickets t "
        "JOIN accounts a ON a.id = t.reporter_account_id GROUP BY a.external_id",
    )
    per = {str(k): int(n) for k, n in tickets}
    confirmed = [o for o in owners if o.confirmed]
    t_lost = [o.uid for o in confirmed if per.get(o.chat, 0) == 0]
    doubled = sum(max(0, per.get(o.chat, 0) - 1) for o in confirmed)
    stray = sum(n for k, n in per.items() if k not in {o.chat for o in confirmed})
    r.add("owners who tapped 确认 / tickets", f"{len(confirmed)} / {sum(per.values())}")
    r.add("tickets lost", len(t_lost), "0", not t_lost)
    r.add("tickets doubled", doubled, "0", doubled == 0)
    if stray:
        r.add("tickets of owners who never tapped 确认", stray, "0", False)
    # replies: every step wants a message into the owner's chat after it
    no_reply: list[tuple[int, str]] = []
    latencies: list[float] = []
    for o in owners:
        sent = api.delivered(o.chat)
        for s in o.steps:
            if skip_steps(s):
                continue
            after = [c for c in sent if c.t > s.pushed and signature(c) not in s.seen_before]
            if after:
                latencies.append(after[0].t - s.pushed)
            else:
                no_reply.append((o.uid, s.what))
    steps = sum(1 for o in owners for s in o.steps if not skip_steps(s))
    r.add(
        "owner steps / steps left without any reply",
        f"{steps} / {len(no_reply)}",
        "0",
        not no_reply,
    )
    r.add("owners left without a reply", len({u for u, _ in no_reply}), "0", not no_reply)
    if no_reply:
        r.notes.append(f"steps without reply (first 10): {no_reply[:10]}")
    if latencies:
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
        r.add(
            "reply latency p50 / p95 / max (s)", f"{q[49]:.2f} / {q[94]:.2f} / {max(latencies):.1f}"
        )
    finished = sum(1 for o in owners if o.done)
    r.add("owners who finished the dialog", f"{finished} / {len(owners)}")
    stuck: dict[str, int] = {}
    for o in owners:
        if o.stuck:
            key = o.stuck[:90]
            stuck[key] = stuck.get(key, 0) + 1
    for k, n in sorted(stuck.items(), key=lambda kv: -kv[1])[:6]:
        r.notes.append(f"owners stopped: {n}x {k}")
    await duplicates(r, api, url, kills, owners)
    inside = [c for c in api.calls if c.in_window]
    # a request that reached us within 50 ms of a 429 was on its way before the bot could know
    opened = [w[0] for w in api.storm.windows]

    def into(c) -> float:
        return c.t - max((t for t in opened if t <= c.t), default=0.0)

    in_flight = sum(1 for c in inside if into(c) < 0.05)
    for c in sorted(inside, key=into, reverse=True)[:3]:
        start, end = max((w for w in api.storm.windows if w[0] <= c.t), default=(0.0, 0.0))
        r.notes.append(
            f"inside a window: {c.method} to {c.chat} {c.t - start:.2f} s after a 429 that "
            f"said {end - start:.0f} s"
        )
    r.add(
        "requests inside a retry_after window",
        f"{len(inside)} ({in_flight} within 50 ms of the 429; of "
        f"{sum(1 for c in api.calls if c.method in SEND_METHODS)} sends, "
        f"{sum(1 for c in api.calls if c.status == 429)} answered 429)",
        "0",
        not inside,
    )
    group = [c.t for c in api.delivered(GROUP) if c.method != "editMessageText"]
    most = max_in_window(group)
    r.add("group: messages / most in any 60 s", f"{len(group)} / {most}", "<= 20", most <= 20)
    if most > 20:
        group.sort()
        span = min(group[i + 20] - group[i] for i in range(len(group) - 20))
        r.notes.append(f"21 group messages within {span:.2f} s (as they reached the fake API)")
    rows = await query(url, "SELECT chat_id, state, count(*) FROM outbox GROUP BY chat_id, state")
    states: dict[str, int] = {}
    failed = 0
    for chat, state, n in rows:
        who = "group" if chat == GROUP else "blocked" if chat in blocked else "owners"
        states[f"{who}:{state}"] = states.get(f"{who}:{state}", 0) + n
        if state == "failed" and who == "owners":
            failed += n
    r.add("outbox rows at the end", ", ".join(f"{k}={n}" for k, n in sorted(states.items())))
    r.add("owner rows set aside as failed (blocked chats apart)", failed, "0", failed == 0)
    waits = [
        (_when(sent) - _when(created)).total_seconds()
        for chat, created, sent, attempts in await query(
            url,
            "SELECT chat_id, created_at, sent_at, attempts FROM outbox "
            "WHERE state = 'sent' AND sent_at IS NOT NULL",
        )
        if chat != GROUP and chat not in blocked
    ]
    late = sum(1 for w in waits if w >= 30)
    r.add(
        "owner rows sent 30 s or more after commit / most (s)",
        f"{late} of {len(waits)} / {max(waits, default=0):.0f}",
    )
    files = [f for p in procs for f in p.log_files]
    tb, errors, top = log_problems(files)
    exits = [e for p in procs for e in p.unexpected_exits]
    r.add(
        "bot starts / SIGKILLs / exits on its own",
        f"{sum(p.starts for p in procs)} / {len(kills)} / {len(exits)}",
    )
    r.add("tracebacks / ERROR lines in the bot's output", f"{tb} / {errors}")
    for line in top:
        r.notes.append(f"in the bot's output: {line}")
    for code, log in exits[:5]:
        r.notes.append(f"exited {code} on its own: {log}")


async def duplicates(
    r: Result, api: ChaosAPI, url: str, kills: list[float], owners: list[Owner]
) -> None:
    """A message sent twice: more sends of a text into a chat than the outbox has rows of it
    (an owner who asks twice gets two rows; one row sent twice after a kill, when it was sent
    but not yet marked, is a duplicate), each counted against the last kill before it."""
    rows: dict[tuple, int] = {}
    for chat, method, payload in await query(url, "SELECT chat_id, method, payload FROM outbox"):
        data = json.loads(payload) if isinstance(payload, str) else (payload or {})
        key = (str(chat), method, str(data.get("text", data.get("caption", ""))))
        rows[key] = rows.get(key, 0) + 1
    kills = sorted(kills)
    per_kill: dict[int, int] = {}
    sends: dict[tuple, int] = {}
    dup = unmatched = 0
    examples: list[str] = []
    for chat, calls in api.by_chat.items():
        for c in calls:
            if c.method == "editMessageText":
                continue
            key = (chat, c.method, str(c.params.get("text", c.params.get("caption", ""))))
            if key not in rows:
                unmatched += 1
                continue
            sends[key] = sends.get(key, 0) + 1
            if sends[key] > rows[key]:
                dup += 1
                if len(examples) < 5:
                    examples.append(f"{chat}: {key[2][:40]!r}")
                kill = max((i for i, k in enumerate(kills) if k <= c.t), default=-1)
                per_kill[kill] = per_kill.get(kill, 0) + 1
    recorded = {
        int(m)
        for (m,) in await query(
            url, "SELECT sent_message_id FROM outbox WHERE sent_message_id IS NOT NULL"
        )
    }
    unrecorded = sum(
        1
        for cs in api.by_chat.values()
        for c in cs
        if c.method != "editMessageText" and c.message_id not in recorded
    )
    worst = max((n for k, n in per_kill.items() if k >= 0), default=0)
    none_kill = per_kill.get(-1, 0)
    r.add(
        "duplicate sends: total / most after one kill / with no kill before",
        f"{dup} / {worst} / {none_kill}",
        "<= 1 per kill",
        worst <= 1 and none_kill == 0,
    )
    r.add("sends not recorded as sent / matching no outbox row", f"{unrecorded} / {unmatched}")
    if examples:
        r.notes.append(f"duplicate sends (first 5): {examples}")


def _when(value) -> datetime:
    """A stored time: a datetime from PostgreSQL, ISO text from SQLite."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.fromisoformat(str(value)).replace(tzinfo=None)


def print_result(r: Result) -> None:
    print(f"\n== {r.name}")
    width = max((len(f) for f, *_ in r.rows), default=20)
    for figure, value, goal, ok in r.rows:
        mark = "" if ok is None else ("  ok" if ok else "  MISSED")
        goal_s = f"(goal {goal})" if goal else ""
        print(f"  {figure:<{width}}  {value:<34} {goal_s}{mark}")
    for n in r.notes:
        print(f"  - {n}")
