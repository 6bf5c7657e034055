"""Chaos run of issue 10: the bot as real processes (`python -m bot run`) against a fake Bot API
that behaves like Telegram (bench/chaos_api.py), owners walking repair dialogs
(bench/chaos_owners.py), the bot SIGKILLed and started again; prints figures against the goals.
A measurement, not a test: it always exits 0.

    python bench/chaos.py [--quick] [--scenarios ABC] [--storm-seconds 60] [--seed 1]

A  SQLite, one instance, long polling: --owners-a owners (200) walk a repair dialog to 确认 while
   the bot is SIGKILLed --kills-a times (20) at random moments and started again.
B  PostgreSQL, two instances in webhook mode with REDIS_URL: the fake posts each update to one
   of them (some to both at once: a duplicate delivery), some owners double-tap 确认 with the
   two taps sent to different instances; the second instance is SIGKILLed --kills-b times (10).
C  SQLite, one instance: a --storm-seconds 429 storm (every send refused with retry_after)
   while owners keep starting dialogs and writing; a few owners block the bot (403) for a while.

The bot's output of each start is kept in --out (/tmp/chaos) for reading afterwards."""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from chaos_api import ChaosAPI
from chaos_figures import GROUP, Result, measure, print_result, query
from chaos_owners import Owner, Walker
from chaos_procs import ROOT, TREE, BotProcess, base_env, free_port, run_command

PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"
# the sample registry's phones (bot/samples/owners.csv); several Telegram users share each
PHONES = [
    "13800000101", "13800000102", "13800000201", "13800000301", "13800000302",
    "13800000303", "13800000305", "13800000306", "13800000501",
]  # fmt: skip


# --- setting up -----------------------------------------------------------------------------
def new_token() -> str:
    return f"{random.randint(7_000_000_000, 7_999_999_999)}:AAH{secrets.token_hex(16)}"


async def prepare_db(url: str, env: dict[str, str], work: Path, logs: Path) -> None:
    for args in (["migrate"], ["import-owners", str(ROOT / "bot" / "samples" / "owners.csv")]):
        code = await run_command(args, env, work, logs / "setup.log")
        if code != 0:
            raise SystemExit(f"`python -m bot {' '.join(args)}` exited {code}; see {logs}")


async def pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# --- running --------------------------------------------------------------------------------
async def killer(
    procs: list[BotProcess], victim: int, kills: int, rng, owners_done, window=(0.5, 6.0)
) -> int:
    """SIGKILL the victim at random moments while owners walk; start it again each time."""
    done = 0
    while done < kills and not owners_done():
        await asyncio.sleep(rng.uniform(*window))
        if owners_done():
            break
        p = procs[victim]
        await p.kill()
        done += 1
        await p.start()
        await p.ready()
    return done


async def walk_all(walker: Walker, owners: list[Owner], spread: float, walk=None) -> None:
    async def one(i: int, o: Owner) -> None:
        await asyncio.sleep(spread * i / max(1, len(owners)))
        await (walk or walker.walk)(o)

    await asyncio.gather(*(one(i, o) for i, o in enumerate(owners)))


async def settle(api: ChaosAPI, url: str, limit: float = 120.0) -> float:
    """Wait until every update is confirmed, no owner's row is left to send and nothing has
    gone to an owner for a few seconds (the group's cards may still drain at 20 a minute)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        await asyncio.sleep(2)
        last = max((c.t for c in api.calls if c.chat and not c.chat.startswith("-")), default=0)
        if api.unconfirmed_count() or time.monotonic() - last < 4:
            continue
        left = await query(
            url,
            "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending') "
            f"AND chat_id <> '{GROUP}'",
        )
        if left[0][0] == 0:
            break
    return time.monotonic() - t0


# --- scenarios ------------------------------------------------------------------------------
async def scenario_a(args, out: Path) -> Result:
    r = Result(
        f"A: SQLite, one instance, long polling, {args.owners_a} owners, {args.kills_a} SIGKILLs"
    )
    work, logs = out / "a", out / "a" / "logs"
    logs.mkdir(parents=True)
    rng = random.Random(args.seed)
    api = ChaosAPI(new_token(), error_rate=args.server_errors, seed=args.seed)
    await api.start()
    url = f"sqlite+aiosqlite:///{work / 'chaos.sqlite3'}"
    env = base_env(
        BOT_TOKEN=api.token, TELEGRAM_API_URL=api.url, DATABASE_URL=url, AGENT_CHAT_ID=GROUP
    )
    await prepare_db(url, env, work, logs)
    bot = BotProcess("bot", env, work, logs, api)
    try:
        await bot.start()
        if not await bot.ready():
            r.notes.append("the bot never became ready")
            return r
        owners = [Owner(8_100_000 + i, PHONES[i % len(PHONES)]) for i in range(args.owners_a)]
        walker = Walker(api, rng=rng, reply_timeout=args.reply_timeout)
        walking = asyncio.create_task(walk_all(walker, owners, args.spread_a))
        killed = await killer([bot], 0, args.kills_a, rng, walking.done)
        await walking
        await bot.ready()
        took = await settle(api, url)
        r.notes.append(f"kills made: {killed}; settled {took:.0f} s after the last owner")
        await measure(r, api, url, owners, [bot], bot.kills)
    finally:
        await bot.stop()
        await api.stop()
    return r


async def scenario_b(args, out: Path) -> Result:
    r = Result(
        f"B: PostgreSQL, two instances, webhook + Redis, {args.owners_b} owners, "
        f"{args.kills_b} SIGKILLs of instance 2"
    )
    work, logs = out / "b", out / "b" / "logs"
    logs.mkdir(parents=True)
    rng = random.Random(args.seed + 1)
    api = ChaosAPI(new_token(), error_rate=args.server_errors, seed=args.seed + 1)
    await api.start()
    db = f"chaos_{int(time.time())}_{secrets.token_hex(3)}"
    await pg_admin(f'CREATE DATABASE "{db}"')
    url = f"{PG_SERVER}/{db}"
    secret = secrets.token_urlsafe(24)
    ports = [free_port(), free_port()]
    procs: list[BotProcess] = []
    try:
        common = {
            "BOT_TOKEN": api.token,
            "TELEGRAM_API_URL": api.url,
            "DATABASE_URL": url,
            "AGENT_CHAT_ID": GROUP,
            "REDIS_URL": REDIS_URL,
            "WEBHOOK_URL": f"{api.url}/hook",
            "WEBHOOK_SECRET": secret,
            "WEB_HOST": "127.0.0.1",
        }
        await prepare_db(url, base_env(**common), work, logs)
        api.instances = [f"http://127.0.0.1:{p}" for p in ports]
        for i, port in enumerate(ports):
            env = base_env(**common, WEB_PORT=str(port))
            procs.append(BotProcess(f"bot{i + 1}", env, work, logs, api, port=port))
        await asyncio.gather(*(p.start() for p in procs))
        if not all(await asyncio.gather(*(p.ready() for p in procs))):
            r.notes.append("an instance never became ready")
            return r
        owners = [Owner(8_200_000 + i, PHONES[i % len(PHONES)]) for i in range(args.owners_b)]
        walker = Walker(
            api,
            rng=rng,
            reply_timeout=args.reply_timeout,
            dup_share=args.dup_share,
            double_confirm=args.double_confirm,
            instances=2,
        )
        walking = asyncio.create_task(walk_all(walker, owners, args.spread_b))
        killed = await killer(procs, 1, args.kills_b, rng, walking.done)
        await walking
        await procs[1].ready()
        took = await settle(api, url)
        both = sum(1 for p in api.queue if p.both)
        doubles = sum(1 for o in owners if o.confirm_taps > 1)
        r.notes.append(
            f"kills made: {killed}; settled {took:.0f} s after the last owner; {both} updates "
            f"delivered to both instances at once; {doubles} owners double-tapped 确认 (one tap "
            f"to each instance); webhook POSTs {api.webhook_posts} answered "
            f"{dict(sorted(api.webhook_answers.items()))}"
        )
        await measure(r, api, url, owners, procs, procs[1].kills)
    finally:
        await asyncio.gather(*(p.stop() for p in procs))
        await api.stop()
        await drop_redis_keys(api.bot_id)
        try:
            await pg_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        except Exception as e:  # noqa: BLE001
            r.notes.append(f"could not drop {db}: {e}")
    return r


async def drop_redis_keys(bot_id: int) -> None:
    """This run's own keys only (named by its bot's id)."""
    try:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(REDIS_URL)
        async for key in client.scan_iter(match=f"*wuye:bot{bot_id}*"):
            await client.delete(key)
        await client.aclose()
    except Exception as e:  # noqa: BLE001 - leftovers expire with their windows anyway
        print(f"(redis keys of bot {bot_id} left: {e})")


async def scenario_c(args, out: Path) -> Result:
    r = Result(
        f"C: SQLite, one instance, {args.storm_seconds:.0f} s 429 storm (retry_after "
        f"{args.retry_after}), {args.owners_c} owners writing, {args.blocked_c} blocking the bot"
    )
    work, logs = out / "c", out / "c" / "logs"
    logs.mkdir(parents=True)
    rng = random.Random(args.seed + 2)
    api = ChaosAPI(new_token(), seed=args.seed + 2)
    await api.start()
    url = f"sqlite+aiosqlite:///{work / 'chaos.sqlite3'}"
    env = base_env(
        BOT_TOKEN=api.token, TELEGRAM_API_URL=api.url, DATABASE_URL=url, AGENT_CHAT_ID=GROUP
    )
    await prepare_db(url, env, work, logs)
    bot = BotProcess("bot", env, work, logs, api)
    try:
        await bot.start()
        if not await bot.ready():
            r.notes.append("the bot never became ready")
            return r
        owners = [Owner(8_300_000 + i, PHONES[i % len(PHONES)]) for i in range(args.owners_c)]
        blockers = owners[: args.blocked_c]
        walker = Walker(
            api,
            rng=rng,
            reply_timeout=args.storm_seconds + args.reply_timeout,
            impatient_after=10.0,
        )

        async def walk(o: Owner) -> None:
            if o in blockers:
                await walk_blocking(walker, api, o)
            else:
                await walker.walk(o)

        walking = asyncio.create_task(walk_all(walker, owners, args.storm_seconds, walk))
        await asyncio.sleep(2)
        api.start_storm(args.storm_seconds, args.retry_after)
        await walking
        took = await settle(api, url)
        r.notes.append(f"settled {took:.0f} s after the last owner")
        await measure(
            r,
            api,
            url,
            owners,
            [bot],
            [],
            skip_steps=lambda s: s.what.startswith("blocked"),
            blocked=frozenset(o.chat for o in blockers),
        )
        after_403 = 0
        for o in blockers:
            calls = [c for c in api.calls if c.chat == o.chat]
            first = next((c.t for c in calls if c.status == 403), None)
            unblocked = getattr(o, "unblocked_at", None)
            if first is not None:
                late = [c for c in calls if first < c.t < (unblocked or 1e18)]
                after_403 += len(late)
                for c in late[:3]:
                    r.notes.append(
                        f"after the 403 in {o.chat}: {c.method} {c.status} "
                        f"+{c.t - first:.1f} s {str(c.params.get('text', ''))[:30]!r}"
                    )
        r.add("requests to a blocked chat after its first 403", after_403, "0", after_403 == 0)
    finally:
        await bot.stop()
        await api.stop()
    return r


async def walk_blocking(walker: Walker, api: ChaosAPI, o: Owner) -> None:
    """An owner who shares the phone and blocks the bot before its answers arrive (a blocked
    owner cannot write to the bot: writing is unblocking), then unblocks and writes /start; the
    replies from then on must arrive."""
    start = {"type": "bot_command", "offset": 0, "length": 6}
    msg = walker._message
    await walker._push(o, "/start", [{"message": msg(o, text="/start", entities=[start])}])
    await walker._wait_prompt(o)
    contact = {"phone_number": o.phone, "first_name": o.name, "user_id": o.uid}
    api.blocked.add(o.chat)
    await walker._push(o, "blocked:contact", [{"message": msg(o, contact=contact)}])
    await asyncio.sleep(20)
    api.blocked.discard(o.chat)
    o.unblocked_at = time.monotonic()  # type: ignore[attr-defined]
    await walker._push(o, "/start again", [{"message": msg(o, text="/start", entities=[start])}])
    prompt = await walker._wait_prompt(o)
    o.done = prompt is not None
    if prompt is None:
        o.stuck = "no reply to /start after unblocking"


# --- output ---------------------------------------------------------------------------------
def parse(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small numbers, a few minutes")
    ap.add_argument("--scenarios", default="ABC")
    ap.add_argument("--owners-a", type=int)
    ap.add_argument("--kills-a", type=int)
    ap.add_argument("--owners-b", type=int)
    ap.add_argument("--kills-b", type=int)
    ap.add_argument("--owners-c", type=int)
    ap.add_argument("--blocked-c", type=int)
    ap.add_argument("--storm-seconds", type=float)
    ap.add_argument("--retry-after", type=int, default=5)
    ap.add_argument("--server-errors", type=float, default=0.02, help="share of sends answered 500")
    ap.add_argument(
        "--dup-share", type=float, default=0.1, help="B: updates sent to both instances"
    )
    ap.add_argument(
        "--double-confirm", type=float, default=0.3, help="B: owners double-tapping 确认"
    )
    ap.add_argument("--reply-timeout", type=float, default=150.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="/tmp/chaos")
    ap.add_argument(
        "--tree", default="", help="run the bot from another checkout (e.g. `git archive` of HEAD)"
    )
    a = ap.parse_args(argv)
    small = {"owners_a": 40, "kills_a": 4, "owners_b": 30, "kills_b": 3, "owners_c": 20,
             "blocked_c": 1, "storm_seconds": 15.0}  # fmt: skip
    full = {"owners_a": 200, "kills_a": 20, "owners_b": 200, "kills_b": 10, "owners_c": 100,
            "blocked_c": 3, "storm_seconds": 60.0}  # fmt: skip
    for k, v in (small if a.quick else full).items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    # owners start spread over about as long as the kills take (a start takes seconds)
    a.spread_a = max(20.0, a.kills_a * 10.0)
    a.spread_b = max(20.0, a.kills_b * 10.0)
    return a


async def main(argv=None) -> None:
    args = parse(argv)
    TREE["path"] = str(Path(args.tree).resolve()) if args.tree else ""
    out = Path(args.out) / time.strftime("run-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"chaos run: {' '.join(sys.argv[1:]) or '(defaults)'}; the bot from "
        f"{TREE['path'] or ROOT}; its output under {out}",
        flush=True,
    )
    runs = {"A": scenario_a, "B": scenario_b, "C": scenario_c}
    for name in args.scenarios.upper():
        t0 = time.monotonic()
        try:
            result = await runs[name](args, out)
        except Exception as e:  # noqa: BLE001 - a measurement reports what broke and goes on
            import traceback

            result = Result(f"{name}: did not complete")
            result.notes.append(f"{type(e).__name__}: {e}")
            result.notes.append(traceback.format_exc(limit=5).replace("\n", " | ")[-800:])
        result.notes.append(f"took {time.monotonic() - t0:.0f} s")
        print_result(result)
        sys.stdout.flush()
    print("\ngoals: 0 updates lost, 0 tickets lost or doubled, 0 replies lost, 0 requests inside a "
          "retry_after window, at most one duplicate send per kill, at most 20 messages a minute "
          "into the group")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)  # a measurement: the figures say what missed
