"""Webhook mode over real HTTP: only Telegram (the secret header) gets in, only an update is
read, 200 only after the step committed, 5xx when the database is away; setWebhook on start."""

from __future__ import annotations

import asyncio
import socket

import pytest
import sqlalchemy as sa
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.factory import build_app, build_bot, build_dispatcher
from bot.settings import Settings
from bot.webhook import HEALTH_PATH, SECRET_HEADER, WEBHOOK_PATH, make_web_app
from storage.models import Conversation, OutboxMessage, ProcessedUpdate
from storage.uow import UnitOfWork

from .fake_bot_api import FakeBotAPI
from .test_acked_polling import TOKEN, message

SECRET = "s3cret_-Token"
PUBLIC_URL = "https://bot.example.com/telegram/webhook"


def webhook_settings(url: str, api: FakeBotAPI, **more) -> Settings:
    return Settings(
        bot_token=TOKEN,
        telegram_api_url=api.url,
        database_url=url,
        webhook_url=PUBLIC_URL,
        webhook_secret=SECRET,
        **more,
    )


class Served:
    def __init__(self, client: TestClient, app, api: FakeBotAPI):
        self.client, self.app, self.api = client, app, api
        self._ids = iter(range(7001, 8000))

    async def post(self, body, secret: str | None = SECRET, raw: bytes | None = None):
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        if raw is not None:
            return await self.client.post(WEBHOOK_PATH, data=raw, headers=headers)
        return await self.client.post(
            WEBHOOK_PATH, json={"update_id": next(self._ids), **body}, headers=headers
        )

    async def count(self, model, *where) -> int:
        async with UnitOfWork(self.app.sessionmaker) as uow:
            q = sa.select(sa.func.count()).select_from(model).where(*where)
            return (await uow.session.execute(q)).scalar_one()

    async def nothing_stored(self) -> bool:
        counts = [await self.count(m) for m in (ProcessedUpdate, Conversation, OutboxMessage)]
        return counts == [0, 0, 0] and self.api.calls == []


@pytest.fixture
async def served(migrated_url):
    api = FakeBotAPI(TOKEN)
    await api.start()
    settings = webhook_settings(migrated_url, api)
    app = build_app(settings)
    bot = build_bot(settings)
    dp, _ = build_dispatcher(app, bot)
    client = TestClient(TestServer(make_web_app(dp, bot, SECRET)))
    await client.start_server()
    try:
        yield Served(client, app, api)
    finally:
        await client.close()
        await bot.session.close()
        await app.db.dispose()
        await api.stop()


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", "s3cret_-Toke"])
async def test_without_the_secret_header_nothing_is_read(served, secret):
    response = await served.post(message(4101, "/start"), secret=secret)
    assert response.status == 401
    assert await served.nothing_stored()


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"[1, 2]", b'{"hello": 1}', b'{"update_id": "x"}', b"\xff\xfe{}"],
)
async def test_a_body_that_is_not_an_update_is_refused_before_anything_is_stored(served, raw):
    response = await served.post(None, raw=raw)
    assert response.status == 400
    assert await served.nothing_stored()


async def test_an_update_is_answered_200_only_once_its_step_is_stored(served):
    response = await served.post(message(4101, "/start"))
    assert response.status == 200
    # by the time Telegram hears 200, the step and its reply are in the database
    assert await served.count(Conversation) == 1
    assert await served.count(OutboxMessage, OutboxMessage.chat_id == "4101") >= 1
    assert await served.count(ProcessedUpdate) == 1


async def test_a_database_failure_answers_5xx_so_telegram_tries_again(served, monkeypatch):
    async def commit_fails(self):
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    monkeypatch.setattr(UnitOfWork, "commit", commit_fails)
    response = await served.post(message(4101, "/start"))
    assert response.status == 503
    monkeypatch.undo()
    assert await served.count(Conversation) == 0 and await served.count(ProcessedUpdate) == 0


async def test_an_update_that_fails_by_itself_is_passed_over_after_three_tries(served, monkeypatch):
    class RefusedText(Exception):
        sqlstate = "22021"  # a character PostgreSQL refuses: this update's own fault

    async def commit_fails(self):
        raise DBAPIError("INSERT", {}, RefusedText())

    monkeypatch.setattr(UnitOfWork, "commit", commit_fails)
    update = {"update_id": 9001, **message(4101, "/start")}
    statuses = []
    for _ in range(3):
        response = await served.client.post(
            WEBHOOK_PATH, json=update, headers={SECRET_HEADER: SECRET}
        )
        statuses.append(response.status)
    assert statuses == [500, 500, 200]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_mode_listens_then_sets_the_webhook_with_its_secret(migrated_url):
    from bot.polling import run_polling

    api = FakeBotAPI(TOKEN)
    await api.start()
    port = free_port()
    settings = webhook_settings(migrated_url, api, web_host="127.0.0.1", web_port=port)
    ready: list = []
    task = asyncio.create_task(
        run_polling(settings, retry_delays=(0,), handle_signals=False, on_ready=ready.append)
    )
    try:
        for _ in range(200):
            if ready or task.done():
                break
            await asyncio.sleep(0.05)
        assert ready, task
        (params,) = [p for m, p in api.calls if m == "setWebhook"]
        assert params["url"] == PUBLIC_URL and params["secret_token"] == SECRET
        assert {"message", "callback_query"} <= set(params["allowed_updates"])
        assert not any(m == "deleteWebhook" for m, _ in api.calls)
        base = f"http://127.0.0.1:{port}"
        async with ClientSession() as http:
            async with http.get(base + HEALTH_PATH) as r:
                assert r.status == 200
            update = {"update_id": 5, **message(4101, "/start")}
            async with http.post(
                base + WEBHOOK_PATH, json=update, headers={SECRET_HEADER: SECRET}
            ) as r:
                assert r.status == 200
        await ready[0].stop()
        await asyncio.wait_for(task, 10)
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await api.stop()
    assert [m for m, _ in api.calls if m == "deleteWebhook"] == []  # the others still serve
