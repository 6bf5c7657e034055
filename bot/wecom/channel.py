"""WeChat (微信客服) as an owner channel, put together: the API client, the callback, the puller
and what it applies, beside the renderer and the sender the factory registers (bot/factory.py).
Runs when the WECOM_* settings are present (README: WeChat)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .api import WeComApi
from .callback import WeComCallback
from .crypto import WeComCrypto
from .failures import record_send_fail
from .inbound import WeComInbound
from .puller import WeComPuller

# seconds between pulls when no callback rang (a callback lost in transit costs this much)
PULL_EVERY = 120.0


@dataclass
class WeComChannel:
    api: WeComApi
    callback: WeComCallback
    inbound: WeComInbound
    puller: WeComPuller

    def routes(self, web_app) -> None:
        self.callback.routes(web_app)

    def attach(self, runner) -> None:
        """The pull runs as a background job, woken by the callback."""
        self.puller.job = runner.add("wecom-pull", self.puller.pull, every=PULL_EVERY)


def make_api(settings) -> WeComApi:
    return WeComApi(
        settings.wecom_api_url, settings.wecom_corp_id, settings.wecom_secret.get_secret_value()
    )


def build_wecom(app, senders: Mapping[str, Any], api: WeComApi | None = None) -> WeComChannel:
    s = app.settings
    api = api or getattr(senders.get("wecom"), "api", None) or make_api(s)
    crypto = WeComCrypto(
        s.wecom_token.get_secret_value(), s.wecom_aes_key.get_secret_value(), s.wecom_corp_id
    )
    inbound = WeComInbound(app.conversations, app.desk, s.wecom_open_kfid, record_send_fail)
    puller = WeComPuller(app.sessionmaker, api, inbound, s.wecom_open_kfid, senders)
    return WeComChannel(api, WeComCallback(crypto, puller.ring), inbound, puller)
