"""A WeChat owner against the real bot: the fake WeCom server posts signed, encrypted callbacks to
the bot's own HTTP server over real HTTP; the bot pulls, answers through WeChat's sender and
budget; the agents' group is on the fake Bot API; SMS codes go to the fake Tencent SMS server."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from bot.acked_polling import AckedPolling
from bot.factory import build_app, build_bot, build_dispatcher
from bot.paths import SAMPLE_OWNERS
from bot.settings import Settings
from bot.web_server import HttpServer
from bot.wecom.channel import build_wecom
from dialogs.clock import FakeClock
from storage.owner_import import import_owners
from storage.uow import UnitOfWork

from .dialog_driver import MONDAY_10
from .e2e_support import AGENTS, TOKEN
from .fake_bot_api import FakeBotAPI
from .fake_sms import FakeTencentSms as FakeSms
from .fake_wecom import FakeWeCom

CORP = "ww1436e0e65a779aee"
SECRET = "kf-app-secret"
WX_TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
WX_AES = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
KFID = "wkPropertyDesk01"
SMS_ID, SMS_KEY = "AKIDtest", "sms-secret-key"


def wecom_settings(url: str, api: FakeBotAPI, fake: FakeWeCom, sms: FakeSms) -> Settings:
    return Settings(
        bot_token=TOKEN,
        telegram_api_url=api.url,
        database_url=url,
        agent_chat_id=str(AGENTS),
        wecom_corp_id=CORP,
        wecom_secret=SECRET,
        wecom_token=WX_TOKEN,
        wecom_aes_key=WX_AES,
        wecom_open_kfid=KFID,
        wecom_api_url=fake.url,
        sms_api_url=sms.url,
        sms_secret_id=SMS_ID,
        sms_secret_key=SMS_KEY,
        sms_sdk_app_id="1400000000",
        sms_sign_name="幸福里物业",
        sms_template_id="100001",
    )


@dataclass
class WxEnv:
    url: str
    api: FakeBotAPI
    fake: FakeWeCom
    sms: FakeSms
    clock: FakeClock
    app: Any = None
    dp: Any = None
    sender: Any = None
    wecom: Any = None
    http: Any = None
    polling: Any = None
    task: Any = None
    bot: Any = None

    @property
    def callback_url(self) -> str:
        return f"http://127.0.0.1:{self.http.port}/wecom/callback"

    async def start(self) -> None:
        settings = wecom_settings(self.url, self.api, self.fake, self.sms)
        self.app = build_app(settings, clock=self.clock)
        self.bot = build_bot(settings)
        self.dp, self.sender = build_dispatcher(self.app, self.bot, chat_burst=1000)
        self.wecom = build_wecom(self.app, self.dp["senders"])
        self.http = HttpServer("127.0.0.1", 0, [self.wecom.routes])
        await self.http.start()
        self.polling = AckedPolling(self.dp, self.bot, polling_timeout=1)
        self.task = asyncio.create_task(self.polling.run())

    async def stop(self) -> None:
        await self.http.stop()
        await self.polling.stop()
        await asyncio.wait_for(self.task, 10)
        for sender in self.dp["senders"].values():
            close = getattr(sender, "close", None)
            if close is not None:
                await close()
        await self.bot.session.close()
        await self.app.db.dispose()

    def advance(self, **kw: float) -> None:
        """Our clock and WeCom's move together."""
        before = self.clock.now()
        self.clock.advance(**kw)
        self.fake.advance((self.clock.now() - before).total_seconds())

    async def settle(self) -> None:
        """What the background jobs would do next: the pull, then every channel's sender."""
        await self.wecom.puller.pull()
        for sender in self.dp["senders"].values():
            await sender.deliver()


class WxOwner:
    def __init__(self, env: WxEnv, uid: str = "wmOwnerWangFang01"):
        self.env, self.uid = env, uid
        self._seen = 0

    def _mine(self) -> list[dict[str, Any]]:
        return [m for m in self.env.fake.sent if m.get("touser") == self.uid]

    def new_messages(self) -> list[dict[str, Any]]:
        mine = self._mine()
        new, self._seen = mine[self._seen :], len(mine)
        return new

    async def _rang(self) -> list[dict[str, Any]]:
        attempts = await self.env.fake.ring(self.env.callback_url)
        assert attempts[-1].status == 200 and attempts[-1].body == "success"
        await self.env.settle()
        return self.new_messages()

    async def enters(self) -> list[dict[str, Any]]:
        self.env.fake.enter_session(self.uid)
        return await self._rang()

    async def says(self, text: str) -> list[dict[str, Any]]:
        self.env.fake.owner_says(self.uid, text)
        return await self._rang()

    def menu(self) -> list[tuple[str, str]]:
        """(id, label) of the last menu this owner was sent."""
        for m in reversed(self._mine()):
            if m.get("msgtype") == "msgmenu":
                return [(i["click"]["id"], i["click"]["content"]) for i in m["msgmenu"]["list"]]
        return []

    async def taps(self, label: str) -> list[dict[str, Any]]:
        for menu_id, content in self.menu():
            if label in content:
                self.env.fake.owner_taps(self.uid, menu_id, content)
                return await self._rang()
        raise AssertionError(f"no menu item {label!r} in {self.menu()}")


def text_of(messages: list[dict[str, Any]]) -> str:
    out = []
    for m in messages:
        if m.get("msgtype") == "text":
            out.append(m["text"]["content"])
        elif m.get("msgtype") == "msgmenu":
            menu = m["msgmenu"]
            out.append(menu.get("head_content", ""))
            out += [i["click"]["content"] for i in menu["list"]]
            out.append(menu.get("tail_content", ""))
    return "\n".join(out)


@pytest.fixture
async def wx(migrated_url):
    from storage.db import make_engine, make_sessionmaker

    engine = make_engine(migrated_url)
    async with UnitOfWork(make_sessionmaker(engine)) as uow:
        await import_owners(uow.session, SAMPLE_OWNERS.read_bytes())
        await uow.commit()
    await engine.dispose()
    api = FakeBotAPI(TOKEN)
    await api.start()
    sms = FakeSms(SMS_ID, SMS_KEY)
    await sms.start()
    clock = FakeClock(MONDAY_10)
    async with FakeWeCom(
        corp_id=CORP,
        secret=SECRET,
        token=WX_TOKEN,
        aes_key=WX_AES,
        open_kfid=KFID,
    ) as fake:
        fake.now = int(MONDAY_10.timestamp())  # WeCom's clock and ours in step
        env = WxEnv(migrated_url, api, fake, sms, clock)
        await env.start()
        try:
            yield env
        finally:
            await env.stop()
            await sms.stop()
            await api.stop()
