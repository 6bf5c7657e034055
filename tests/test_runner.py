"""The supervisor of the background jobs (bot/runner.py): a failing job keeps its turn, a woken
job runs at once, and stop ends every job."""

import asyncio
import logging

from bot.runner import Runner


async def _until(condition, timeout: float = 5.0) -> None:
    async def poll():
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


async def test_a_job_that_raises_keeps_being_run_and_is_logged(caplog):
    runner = Runner()

    async def broken():
        raise RuntimeError("database went away")

    ok_runs = []

    async def fine():
        ok_runs.append(1)

    async with runner:
        bad = runner.add("broken", broken, every=0.01)
        runner.add("fine", fine, every=0.01)
        with caplog.at_level(logging.ERROR, logger="bot.runner"):
            await _until(lambda: bad.runs >= 3 and len(ok_runs) >= 3)
    assert "background job broken failed" in caplog.text
    assert "database went away" in caplog.text


async def test_stop_ends_every_job_idle_busy_or_stuck():
    runner = Runner(grace=0.05)
    finished = []

    async def idle():
        pass

    async def busy():
        await asyncio.sleep(0.01)
        finished.append("busy")

    async def stuck():
        await asyncio.Event().wait()  # never returns: must be cancelled

    jobs = [runner.add(name, step, every=3600) for name, step in (("idle", idle), ("busy", busy))]
    runner.add("stuck", stuck, every=3600)
    runner.start()
    tasks = list(runner._tasks.values())
    await _until(lambda: jobs[0].runs == 1)
    await runner.stop()
    assert all(t.done() for t in tasks)
    assert finished == ["busy"]  # a run under way finished inside the grace
    runs = [j.runs for j in runner.jobs]
    await asyncio.sleep(0.05)
    assert [j.runs for j in runner.jobs] == runs  # nothing runs after stop


async def test_a_woken_job_runs_before_its_turn():
    runner = Runner()
    calls = []

    async def step():
        calls.append(1)

    async with runner:
        job = runner.add("outbox", step, every=3600)
        await _until(lambda: job.runs == 1)
        job.wake()
        await _until(lambda: job.runs == 2)
    assert len(calls) == 2
