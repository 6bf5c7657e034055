"""One supervisor for the background jobs (outbox sender, follow-ups, handoff nudges, pruning).

Each job is a coroutine function run every `every` seconds, or sooner when woken. An exception
is logged and the job runs again at its next turn: one bad row or a database hiccup must not
stop the sender or the follow-ups for the rest of the process's life. On stop, a job that is
between runs ends at once; one in the middle of a run may finish it for a short grace (a
message Telegram accepted is then marked sent, not sent again after the restart), then is
cancelled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Self

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Job:
    name: str
    step: Callable[[], Awaitable[object]]
    every: float
    runs: int = 0
    _woken: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def wake(self) -> None:
        """Run the job now rather than at its next turn (e.g. new rows in the outbox)."""
        self._woken.set()


class Runner:
    def __init__(self, grace: float = 5.0):
        self.grace = grace
        self.jobs: list[Job] = []
        self._tasks: dict[Job, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        self._started = False

    def add(self, name: str, step: Callable[[], Awaitable[object]], every: float) -> Job:
        job = Job(name, step, every)
        self.jobs.append(job)
        if self._started:  # added after start: runs at once like the others
            self._start(job)
        return job

    def start(self) -> None:
        self._stopping.clear()
        self._started = True
        for job in self.jobs:
            if job not in self._tasks:
                self._start(job)

    async def stop(self) -> None:
        self._started = False
        self._stopping.set()
        for job in self.jobs:
            job.wake()
        tasks = list(self._tasks.values())
        try:
            if tasks:
                await asyncio.wait(tasks, timeout=self.grace)
        finally:  # also when the shutdown itself is cancelled: no job outlives the runner
            for task in tasks:
                if not task.done():
                    log.warning(
                        "background job %s cancelled in the middle of a run", task.get_name()
                    )
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._tasks.clear()

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _start(self, job: Job) -> None:
        self._tasks[job] = asyncio.create_task(self._loop(job), name=job.name)

    async def _loop(self, job: Job) -> None:
        while not self._stopping.is_set():
            try:
                await job.step()
            except Exception:
                log.exception("background job %s failed; it runs again in %ss", job.name, job.every)
            job.runs += 1
            if self._stopping.is_set():
                return
            try:
                await asyncio.wait_for(job._woken.wait(), timeout=job.every)
            except TimeoutError:
                pass
            job._woken.clear()
