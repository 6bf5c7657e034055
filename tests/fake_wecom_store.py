"""What the fake WeCom 微信客服 knows and the rules it keeps, without HTTP (tests/fake_wecom.py
serves it). Time is the fake's own clock (`now`, `advance`), so tests move 48 hours or 10
minutes without waiting.

Rules, as the 微信客服 docs state them (errcodes marked "unverified" are guesses, the docs
name none): access tokens last 7200 s (expired → 42001, unknown → 40014, wrong secret → 40001);
a callback's Token is good for sync_msg for 10 minutes (else 95007); the bot may send at most
5 messages within 48 h after the owner's last message, and none without one (95001); text
content ≤ 2048 bytes, menus ≤ 10 items with click id 1-64 and content 1-128 bytes, head/tail
≤ 1024 bytes (40058); a welcome_code sends one message within 20 s of enter_session;
sync_msg returns the last 3 days."""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any

ACCESS_TOKEN_TTL = 7200
MSG_TOKEN_TTL = 600
WELCOME_CODE_TTL = 20
BUDGET, BUDGET_WINDOW = 5, 48 * 3600
HISTORY = 3 * 24 * 3600
PAGE_MAX = 1000

INVALID_SECRET, INVALID_CORPID, MISSING_TOKEN = 40001, 40013, 41001
INVALID_TOKEN, EXPIRED_TOKEN = 40014, 42001
INVALID_MEDIA, INVALID_MSGTYPE, INVALID_PARAMETER = 40007, 40008, 40058
INVALID_OPEN_KFID, BUDGET_EXHAUSTED, INVALID_MSG_TOKEN = 95000, 95001, 95007
INVALID_EVENT_CODE = 95018  # unverified: the docs say "once, within 20 s" but name no errcode
_MSGID = re.compile(r"[0-9A-Za-z_-]{1,32}")
# msgmenu item type -> {field: (min bytes, max bytes)}
_MENU_ITEMS = {
    "click": {"id": (1, 64), "content": (1, 128)},
    "view": {"url": (1, 2048), "content": (1, 1024)},
    "miniprogram": {"appid": (1, 32), "pagepath": (1, 1024), "content": (1, 1024)},
    "text": {"content": (1, 256)},
}

_KNOWN = frozenset(
    {"text", "image", "voice", "video", "file", "link", "miniprogram", "msgmenu", "location"}
    | {"ca_link"}
)


class Refused(Exception):
    def __init__(self, errcode: int, errmsg: str = "refused by the fake"):
        super().__init__(errcode, errmsg)
        self.errcode, self.errmsg = errcode, errmsg


def _fits(value: Any, low: int, high: int) -> bool:
    return isinstance(value, str) and low <= len(value.encode("utf-8")) <= high


def content_error(body: dict[str, Any], allowed: frozenset[str] | None = None) -> int:
    """0 when a send_msg / send_msg_on_event body is one WeCom accepts, else its errcode."""
    msgtype = body.get("msgtype")
    part = body.get(msgtype) if isinstance(msgtype, str) else None
    if msgtype not in _KNOWN or (allowed is not None and msgtype not in allowed):
        return INVALID_MSGTYPE
    if not isinstance(part, dict):
        return INVALID_PARAMETER
    if msgtype == "text":
        return 0 if _fits(part.get("content"), 1, 2048) else INVALID_PARAMETER
    if msgtype in {"image", "voice", "video", "file"}:
        return 0 if _fits(part.get("media_id"), 1, 256) else INVALID_MEDIA
    if msgtype == "msgmenu":
        return _menu_error(part)
    return 0


def _menu_error(menu: dict[str, Any]) -> int:
    for key in ("head_content", "tail_content"):
        if key in menu and not _fits(menu[key], 0, 1024):
            return INVALID_PARAMETER
    items = menu.get("list", [])
    if not isinstance(items, list) or len(items) > 10:
        return INVALID_PARAMETER
    for item in items:
        kind = item.get("type") if isinstance(item, dict) else None
        fields = _MENU_ITEMS.get(kind) if isinstance(kind, str) else None
        spec = item.get(kind) if fields else None
        if not isinstance(spec, dict):
            return INVALID_PARAMETER
        if not all(_fits(spec.get(k), lo, hi) for k, (lo, hi) in fields.items()):
            return INVALID_PARAMETER
    return 0


def render(body: dict[str, Any]) -> str:
    """One transcript line's worth of a message we sent."""
    msgtype = body.get("msgtype")
    part = body.get(msgtype, {}) if isinstance(msgtype, str) else {}
    if msgtype == "text":
        return f"text: {part.get('content')}"
    if msgtype == "msgmenu":
        items = [
            f"[{(i.get(i.get('type')) or {}).get('id', i.get('type'))}] "
            f"{(i.get(i.get('type')) or {}).get('content')}"
            for i in part.get("list", [])
        ]
        shown = [part.get("head_content", ""), *items, part.get("tail_content", "")]
        return "msgmenu: " + " | ".join(s for s in shown if s)
    return f"{msgtype}: {part}"


class KfWorld:
    def __init__(self, corp_id: str, secret: str, open_kfid: str, now: float | None = None):
        self.corp_id, self.secret, self.open_kfid = corp_id, secret, open_kfid
        self.now = int(time.time() if now is None else now)
        self.access_tokens: dict[str, float] = {}  # token -> expires at
        self.msg_tokens: dict[str, float] = {}  # callback Token -> issued at
        self.inbox: list[tuple[str, dict[str, Any]]] = []  # (open_kfid, msg) as sync_msg has it
        self.cursors: dict[str, int] = {}
        self.empty_pages = 0  # the next N sync_msg answer [] with has_more=1
        self.welcome_codes: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []  # every message we sent that WeCom accepted
        self.refused: list[tuple[str, int, dict[str, Any]]] = []  # (api, errcode, body)
        self.repeats = 0  # sends whose msgid was seen before (recognised, not sent again)
        self.repeated_msgid_error: int | None = None  # WeCom's docs: a repeat is an error
        self.media: dict[str, tuple[bytes, str, str]] = {}
        self._last_owner: dict[tuple[str, str], float] = {}
        self._spent: dict[tuple[str, str], int] = {}
        self._msgids: dict[tuple[str, str], str] = {}
        self._ids = itertools.count(1)
        self.lines: list[str] = []

    # -- clock and tokens --------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        self.now += int(seconds)

    def expire_tokens(self) -> None:
        for token in self.access_tokens:
            self.access_tokens[token] = self.now - 1

    def issue_access_token(self, corpid: str, corpsecret: str) -> dict[str, Any]:
        if corpid != self.corp_id:
            raise Refused(INVALID_CORPID, "invalid corpid")
        if corpsecret != self.secret:
            raise Refused(INVALID_SECRET, "invalid credential")
        token = "AT" + secrets.token_urlsafe(24)
        self.access_tokens[token] = self.now + ACCESS_TOKEN_TTL
        return {"access_token": token, "expires_in": ACCESS_TOKEN_TTL}

    def check_access_token(self, token: str | None) -> None:
        if not token:
            raise Refused(MISSING_TOKEN, "access_token missing")
        if token not in self.access_tokens:
            raise Refused(INVALID_TOKEN, "invalid access_token")
        if self.now >= self.access_tokens[token]:
            raise Refused(EXPIRED_TOKEN, "access_token expired")

    def issue_msg_token(self) -> str:
        token = "ENC" + secrets.token_urlsafe(32)
        self.msg_tokens[token] = self.now
        return token

    # -- what the owner (and WeCom) put in the inbox -----------------------------------------
    def _queue(self, uid: str, msgtype: str, part: dict[str, Any], origin: int = 3) -> str:
        msgid = f"from_msgid_{next(self._ids)}"
        msg: dict[str, Any] = {"msgid": msgid, "send_time": self.now, "origin": origin}
        if msgtype != "event":  # events carry open_kfid and external_userid inside (the docs)
            msg |= {"open_kfid": self.open_kfid, "external_userid": uid}
        msg |= {"msgtype": msgtype, msgtype: part}
        self.inbox.append((self.open_kfid, msg))
        if origin == 3:  # the owner wrote: a fresh budget of 5 for 48 h
            self._last_owner[(self.open_kfid, uid)] = self.now
            self._spent[(self.open_kfid, uid)] = 0
        return msgid

    def owner_says(self, uid: str, text: str) -> str:
        self.lines.append(f"owner {uid}: {text}")
        return self._queue(uid, "text", {"content": text})

    def owner_taps(self, uid: str, menu_id: str, text: str) -> str:
        self.lines.append(f"owner {uid} taps [{menu_id}] {text}")
        return self._queue(uid, "text", {"content": text, "menu_id": menu_id})

    def owner_location(
        self, uid: str, latitude: float, longitude: float, name: str = "", address: str = ""
    ) -> str:
        self.lines.append(f"owner {uid} location {name} {address} ({latitude}, {longitude})")
        place = {"latitude": latitude, "longitude": longitude, "name": name, "address": address}
        return self._queue(uid, "location", place)

    def servicer_says(self, uid: str, text: str, servicer_userid: str = "agent1") -> str:
        self.lines.append(f"servicer {servicer_userid} → {uid}: {text}")
        msgid = self._queue(uid, "text", {"content": text}, origin=5)
        self.inbox[-1][1]["servicer_userid"] = servicer_userid
        return msgid

    def _event(self, uid: str, event_type: str, **fields: Any) -> str:
        part = {"event_type": event_type, "open_kfid": self.open_kfid, "external_userid": uid}
        return self._queue(uid, "event", part | fields, origin=4)

    def enter_session(
        self, uid: str, welcome_code: str | None = None, scene: str = "", scene_param: str = ""
    ) -> str:
        """The owner opens the chat. welcome_code None makes one; "" sends the event without
        one (WeCom omits it when a welcome was sent in the last 48 h)."""
        code = "WC" + secrets.token_urlsafe(12) if welcome_code is None else welcome_code
        fields: dict[str, Any] = {"scene": scene, "scene_param": scene_param}
        if code:
            fields["welcome_code"] = code
            self.welcome_codes[code] = {"uid": uid, "at": self.now, "used": False}
        self.lines.append(f"event enter_session {uid}" + (f" welcome_code={code}" if code else ""))
        self._event(uid, "enter_session", **fields)
        return code

    def msg_send_fail(self, uid: str, msgid: str, fail_type: int = 0) -> str:
        self.lines.append(f"event msg_send_fail {uid} msgid={msgid} fail_type={fail_type}")
        return self._event(uid, "msg_send_fail", fail_msgid=msgid, fail_type=fail_type)

    # -- the API's rules ---------------------------------------------------------------------
    def sync(self, body: dict[str, Any]) -> dict[str, Any]:
        token = body.get("token")
        issued = self.msg_tokens.get(token) if token else None
        if token and (issued is None or self.now - issued > MSG_TOKEN_TTL):
            raise Refused(INVALID_MSG_TOKEN, "invalid msg token")
        kfid = body.get("open_kfid")
        if kfid and kfid != self.open_kfid:
            raise Refused(INVALID_OPEN_KFID, "invalid open_kfid")
        cursor = body.get("cursor") or ""
        if cursor and cursor not in self.cursors:
            raise Refused(INVALID_PARAMETER, "invalid cursor")
        position = self.cursors.get(cursor, 0)
        limit = min(int(body.get("limit") or PAGE_MAX), PAGE_MAX)
        if self.empty_pages:
            self.empty_pages -= 1
            return {"next_cursor": self._cursor(position), "has_more": 1, "msg_list": []}
        picked = [
            i
            for i in range(position, len(self.inbox))
            if (not kfid or self.inbox[i][0] == kfid)
            and self.inbox[i][1]["send_time"] >= self.now - HISTORY
        ]
        page = picked[:limit]
        end = page[-1] + 1 if page else len(self.inbox)
        return {
            "next_cursor": self._cursor(end),
            "has_more": int(len(picked) > limit),
            "msg_list": [self.inbox[i][1] for i in page],
        }

    def _cursor(self, position: int) -> str:
        cursor = secrets.token_urlsafe(12)
        self.cursors[cursor] = position
        return cursor

    def _refuse(self, api: str, errcode: int, body: dict[str, Any], uid: str) -> Refused:
        self.refused.append((api, errcode, body))
        self.lines.append(f"bot ✗ {uid} {body.get('msgtype')}: errcode {errcode}")
        return Refused(errcode)

    def send(self, body: dict[str, Any]) -> str:
        uid, kfid, msgid = body.get("touser", ""), body.get("open_kfid"), body.get("msgid")
        if kfid != self.open_kfid:
            raise self._refuse("send_msg", INVALID_OPEN_KFID, body, uid)
        if not uid or (msgid is not None and not _MSGID.fullmatch(str(msgid))):
            raise self._refuse("send_msg", INVALID_PARAMETER, body, uid)
        if msgid is not None and (kfid, msgid) in self._msgids:
            self.repeats += 1
            self.lines.append(f"bot ↺ {uid} repeated msgid {msgid}, not sent again")
            if self.repeated_msgid_error:
                raise Refused(self.repeated_msgid_error, "msgid repeated")
            return self._msgids[(kfid, msgid)]
        if error := content_error(body):
            raise self._refuse("send_msg", error, body, uid)
        last = self._last_owner.get((kfid, uid))
        spent = self._spent.get((kfid, uid), 0)
        if last is None or self.now - last > BUDGET_WINDOW or spent >= BUDGET:
            raise self._refuse("send_msg", BUDGET_EXHAUSTED, body, uid)
        self._spent[(kfid, uid)] = spent + 1
        return self._record("send_msg", body, uid, msgid)

    def send_on_event(self, body: dict[str, Any]) -> str:
        code = self.welcome_codes.get(str(body.get("code")))
        uid = code["uid"] if code else "?"
        if not code or code["used"] or self.now - code["at"] > WELCOME_CODE_TTL:
            raise self._refuse("send_msg_on_event", INVALID_EVENT_CODE, body, uid)
        if error := content_error(body, frozenset({"text", "msgmenu"})):
            raise self._refuse("send_msg_on_event", error, body, uid)
        code["used"] = True
        return self._record("send_msg_on_event", body, uid, body.get("msgid"))

    def _record(self, api: str, body: dict[str, Any], uid: str, msgid: str | None) -> str:
        msgid = msgid or f"fake_out_{next(self._ids)}"
        self._msgids[(self.open_kfid, msgid)] = msgid
        self.sent.append({"api": api, "touser": uid, "msgid": msgid} | body)
        welcome = " (welcome)" if api == "send_msg_on_event" else ""
        self.lines.append(f"bot → {uid}{welcome} {render(body)}")
        return msgid

    def transcript(self) -> list[str]:
        return list(self.lines)
