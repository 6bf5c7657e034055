"""The files of "Deployment: several instances" (README) hold together: docker is not run here,
so what can be checked without it is checked — each instance's environment is one the bot
accepts in webhook mode, the migration runs once before them, the proxy reaches both."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from bot.settings import Settings
from bot.webhook import HEALTH_PATH, WEBHOOK_PATH

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ENV = {
    "BOT_TOKEN": "123456789:AAHtestTOKENtestTOKENtestTOKENtest12",
    "POSTGRES_PASSWORD": "pw",
    "WEBHOOK_URL": "https://bot.example.com/telegram/webhook",
    "WEBHOOK_SECRET": "s3cret_-Token",
}


def interpolate(text: str) -> str:
    """What compose makes of ${NAME}, ${NAME:-default} and ${NAME:?message} with SAMPLE_ENV."""

    def value(m: re.Match) -> str:
        name, op, rest = m.group(1), m.group(2) or "", m.group(3) or ""
        if name in SAMPLE_ENV:
            return SAMPLE_ENV[name]
        assert op != ":?", f"{name} is required but has no sample"
        return rest if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(:[-?])?([^}]*)\}", value, text)


def compose() -> dict:
    return yaml.safe_load(interpolate((ROOT / "docker-compose.yml").read_text(encoding="utf-8")))


def test_two_instances_in_webhook_mode_on_postgresql_with_redis():
    services = compose()["services"]
    bots = [s for name, s in services.items() if name.startswith("bot")]
    assert len(bots) == 2
    image = services["migrate"]["image"]
    for bot in bots:
        assert bot["image"] == image and bot["build"] == "."
        env = {k.lower(): v for k, v in bot["environment"].items()}
        settings = Settings(**{k: v for k, v in env.items() if v != ""})
        assert settings.webhook_mode and settings.web_port == 8080
        assert settings.database_url.startswith("postgresql+asyncpg://")
        assert "@postgres:5432/" in settings.database_url
        assert settings.redis_url.startswith("redis://redis:")
        assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert HEALTH_PATH in " ".join(bot["healthcheck"]["test"])


def test_the_migration_runs_once_before_the_instances():
    migrate = compose()["services"]["migrate"]
    assert migrate["command"] == ["python", "-m", "bot", "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_proxy_sends_the_webhook_path_to_both_instances():
    services = compose()["services"]
    proxy = services["proxy"]
    mounted = [v.split(":")[0] for v in proxy["volumes"]]
    caddyfile = (ROOT / mounted[0]).read_text(encoding="utf-8")
    route = re.search(r"handle (\S+) \{\s*reverse_proxy ([^{]+)\{", caddyfile)
    assert route and route.group(1) == WEBHOOK_PATH
    upstreams = route.group(2).split()
    assert upstreams == [f"{name}:8080" for name in services if name.startswith("bot")]


def test_the_image_carries_every_package_and_runs_the_bot():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\S+) \./\1$", dockerfile, re.MULTILINE))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {p.split(".")[0] for p in packages} <= copied
    assert 'CMD ["python", "-m", "bot", "run"]' in dockerfile
