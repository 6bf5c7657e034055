"""`python -m bot` with the WECOM_* settings and no BOT_TOKEN serves WeChat alone: the callback on
WEB_HOST:WEB_PORT answers WeCom's URL check, an owner's message is pulled and answered, and the
agents' card waits in the outbox for Telegram."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import sqlalchemy as sa

from bot.settings import Settings
from bot.wecom.serve import run_wecom
from storage.db import make_engine, make_sessionmaker
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

from .fake_wecom import FakeWeCom
from .wecom_support import CORP, KFID, SECRET, WX_AES, WX_TOKEN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_wechat_alone_serves_the_callback_and_answers_an_owner(db_url, tmp_path):
    async with FakeWeCom(
        corp_id=CORP, secret=SECRET, token=WX_TOKEN, aes_key=WX_AES, open_kfid=KFID
    ) as fake:
        port = free_port()
        settings = Settings(
            database_url=db_url,
            web_host="127.0.0.1",
            web_port=port,
            wecom_corp_id=CORP,
            wecom_secret=SECRET,
            wecom_token=WX_TOKEN,
            wecom_aes_key=WX_AES,
            wecom_open_kfid=KFID,
            wecom_api_url=fake.url,
            agent_chat_id="-100500",
        )
        ready: asyncio.Future[asyncio.Event] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            run_wecom(settings, handle_signals=False, on_ready=ready.set_result)
        )
        stop = await asyncio.wait_for(ready, 30)
        try:
            url = f"http://127.0.0.1:{port}/wecom/callback"
            health = f"http://127.0.0.1:{port}/healthz"
            async with aiohttp.ClientSession() as http, http.get(health) as r:
                assert r.status == 200
            shake = await fake.verify_url(url)
            assert shake.status == 200 and shake.body == shake.echo
            fake.owner_says("wmAlone01", "你好")
            attempts = await fake.ring(url)
            assert attempts[-1].body == "success"
            for _ in range(100):  # the pull runs in the background, woken by the callback
                if any(m.get("touser") == "wmAlone01" for m in fake.sent):
                    break
                await asyncio.sleep(0.05)
            (answer,) = [m for m in fake.sent if m.get("touser") == "wmAlone01"]
            assert answer["api"] == "send_msg" and answer["msgid"].startswith("wx")
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
    engine = make_engine(db_url)
    async with UnitOfWork(make_sessionmaker(engine)) as uow:
        states = set(
            await uow.session.scalars(
                sa.select(OutboxMessage.state).where(OutboxMessage.channel == "wecom")
            )
        )
    await engine.dispose()
    assert states == {"sent"}
