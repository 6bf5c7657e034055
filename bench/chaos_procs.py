"""The bot as real processes for bench/chaos.py: `python -m bot` started with its environment,
SIGKILLed at random moments and started again, its output kept in a file per start."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# another checkout of the project to run instead of this one (--tree), e.g. an older commit
# unpacked with `git archive`, to compare the figures
TREE = {"path": ""}


def base_env(**values: str) -> dict[str, str]:
    """Only what the bot needs: nothing of the operator's own environment leaks in."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TZ") if k in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    if TREE["path"]:
        env["PYTHONPATH"] = TREE["path"]  # ahead of the editable install of this tree
    env.update({k: v for k, v in values.items() if v})
    return env


async def run_command(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> int:
    with open(log, "ab") as out:  # noqa: ASYNC230 - a local file, opened once per command
        proc = await asyncio.create_subprocess_exec(
            PY, "-m", "bot", *args, env=env, cwd=cwd, stdout=out, stderr=out
        )
        return await proc.wait()


class BotProcess:
    def __init__(self, name: str, env: dict[str, str], cwd: Path, logs: Path, api, port=None):
        self.name, self.env, self.cwd, self.logs, self.api = name, env, cwd, logs, api
        self.port = port  # webhook mode: the instance's WEB_PORT
        self.proc: asyncio.subprocess.Process | None = None
        self.started = 0.0
        self.starts = 0
        self.kills: list[float] = []
        self.unexpected_exits: list[tuple[int, str]] = []  # (code, log file)
        self.log_files: list[Path] = []

    async def start(self) -> None:
        self.starts += 1
        log = self.logs / f"{self.name}-{self.starts:02d}.log"
        self.log_files.append(log)
        out = open(log, "wb")  # noqa: SIM115, ASYNC230 - the child writes to it until it ends
        self.started = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            PY,
            "-m",
            "bot",
            "run",
            env=self.env,
            cwd=self.cwd,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        out.close()

    async def ready(self, timeout: float = 240.0) -> bool:
        """Serving: a getUpdates since this start (polling), or /healthz answering (webhook)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.returncode is not None:
                code = self.proc.returncode if self.proc else -1
                self.unexpected_exits.append((code, str(self.log_files[-1])))
                await self.start()  # as a supervisor would
                continue
            if self.port is None:
                if any(t >= self.started for t in self.api.polls[-5:]):
                    return True
            elif await self._healthy():
                return True
            await asyncio.sleep(0.2)
        return False

    async def _healthy(self) -> bool:
        try:
            timeout = aiohttp.ClientTimeout(total=2)
            async with (
                aiohttp.ClientSession(timeout=timeout) as s,
                s.get(f"http://127.0.0.1:{self.port}/healthz") as r,
            ):
                return r.status == 200
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False

    async def kill(self) -> None:
        assert self.proc is not None
        if self.proc.returncode is None:
            os.kill(self.proc.pid, signal.SIGKILL)  # only the process this bench started
            self.kills.append(time.monotonic())
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            os.kill(self.proc.pid, signal.SIGKILL)
            await self.proc.wait()


def log_problems(files: list[Path]) -> tuple[int, int, list[str]]:
    """Tracebacks and ERROR lines in the bot's output, and the distinct exception lines."""
    tracebacks = errors = 0
    kinds: dict[str, int] = {}
    exc_line = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Locked|Warning)[\w.]*)(: .*)?$")
    for f in files:
        try:
            lines = f.read_text("utf-8", "replace").splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith("Traceback"):
                tracebacks += 1
            if " ERROR " in line or line.startswith("ERROR") or " CRITICAL " in line:
                errors += 1
            m = exc_line.match(line.strip())
            if m:
                key = (m.group(1) + (m.group(3) or ""))[:140]
                kinds[key] = kinds.get(key, 0) + 1
    top = [f"{n}x {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:8]]
    return tracebacks, errors, top
