"""The offline console chat: the same dialogs on a database of its own (data/console.sqlite3,
CONSOLE_DATABASE_URL), the bot's messages printed, buttons as numbered choices. For trying the
bot without a token: test tickets never reach the real bot's outbox or agents.

It survives any input (a paste cut mid-character becomes U+FFFD) and, relaunched after /quit,
takes up the conversation where it stopped instead of starting over."""

from __future__ import annotations

import asyncio
import html
import re
import sys
from collections.abc import Callable
from typing import Any

from dialogs.clean_text import clean_text as stored_text
from dialogs.events import Inbound

from .factory import App
from .settings import Settings

_TAG = re.compile(r"<[^>]+>")
CHANNEL = {"channel": "console", "external_id": "local", "chat_id": "console"}


def plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def clean_text(text: str) -> str:
    """Text as it can be stored and printed: bytes of a character cut in half (read with
    surrogateescape) are decoded again with replacement; then as every channel's input (no NUL
    or other control characters, any other lone surrogate U+FFFD)."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        pass
    return stored_text(text)


class ConsoleChat:
    def __init__(self, app: App, out: Callable[[str], None] = print):
        self.app = app
        self.out = out
        self.buttons: list[str] = []  # the callback tokens (inline) or labels (reply keyboard)
        self.reply_keyboard = False

    def show(self, payloads: list[dict[str, Any]]) -> None:
        for p in payloads:
            self.out(plain(p["text"]))
            markup = p.get("reply_markup") or {}
            if "inline_keyboard" in markup:
                self._number(
                    [b["text"] for row in markup["inline_keyboard"] for b in row],
                    [b["callback_data"][2:] for row in markup["inline_keyboard"] for b in row],
                    reply=False,
                )
            elif "keyboard" in markup:
                buttons = [
                    b for row in markup["keyboard"] for b in row if not b.get("request_contact")
                ]
                self.out(self.app.texts.render("console_contact_hint"))
                self._number([b["text"] for b in buttons], [b["text"] for b in buttons], reply=True)
            elif markup.get("remove_keyboard") and self.reply_keyboard:
                # the contact keyboard is gone: its numbers no longer press anything
                self.buttons, self.reply_keyboard = [], False

    def _number(self, labels: list[str], values: list[str], reply: bool) -> None:
        self.buttons = values
        self.reply_keyboard = reply
        self.out("  ".join(f"[{i}] {label}" for i, label in enumerate(labels, 1)))

    def parse(self, line: str) -> Inbound | None:
        line = clean_text(line).strip()
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            value = self.buttons[int(line) - 1]
            return (
                Inbound("text", text=value)
                if self.reply_keyboard
                else Inbound("choice", token=value)
            )
        cmd, _, rest = line.partition(" ")
        if cmd == "/contact":
            return Inbound("contact", phone=rest.strip(), contact_is_own=True)
        if cmd == "/contact_other":
            return Inbound("contact", phone=rest.strip(), contact_is_own=False)
        if cmd == "/photo":
            return Inbound("photo", text=rest.strip(), file_id=f"console-photo-{id(line)}")
        if cmd == "/voice":
            return Inbound("voice", file_id=f"console-voice-{id(line)}")
        if cmd == "/sticker":
            return Inbound("sticker")
        if line.startswith("/"):
            return Inbound("command", text=line)
        return Inbound("text", text=line)

    async def send(self, inbound: Inbound) -> None:
        outcome = await self.app.conversations.handle(
            **CHANNEL, display_name="console", inbound=inbound, use_outbox=False
        )
        self.show_outcome(outcome)

    async def begin(self) -> None:
        """Where the owner left off, said as such; a first visit starts with the greeting."""
        outcome = await self.app.conversations.resume(**CHANNEL, display_name="console")
        if outcome is None:
            await self.send(Inbound("command", text="/start"))
            return
        self.out(self.app.texts.render("console_resumed"))
        self.show_outcome(outcome)

    def show_outcome(self, outcome) -> None:
        if outcome.result and outcome.result.alert:
            self.out(self.app.texts.render(outcome.result.alert))
        self.show(outcome.direct)
        for reply in outcome.agent_replies:
            self.out(self.app.texts.render("console_agents_header"))
            self.out(plain(self.app.texts.render(reply.template, reply.context)))


async def _read_line() -> str | None:
    line = await asyncio.to_thread(sys.stdin.readline)
    return clean_text(line) if line else None


async def console_command(settings: Settings) -> None:
    """`python -m bot console`: its own database, migrated, then the chat."""
    from .cli import migrate_database
    from .factory import build_app

    settings = settings.model_copy(update={"database_url": settings.console_database_url})
    await migrate_database(settings.database_url)
    app = build_app(settings)
    try:
        await run_console(app)
    finally:
        await app.db.dispose()


async def run_console(app: App) -> None:
    from storage.owner_import import import_owners, read_file
    from storage.uow import UnitOfWork

    from .cli import safe_url
    from .kb_cli import load_sample_faq
    from .paths import SAMPLE_OWNERS

    texts = app.texts
    print(
        texts.render(
            "console_intro",
            {
                "service_name": app.policy.service_name,
                "database": safe_url(app.settings.database_url),
            },
        )
    )
    async with UnitOfWork(app.sessionmaker) as uow:
        empty = await uow.registry.is_empty()
    if empty:
        print(texts.render("console_offer_sample", {"path": str(SAMPLE_OWNERS)}))
        answer = (await _read_line() or "").strip().lower()
        if answer == "" or answer in texts.button("console_yes").split():
            async with UnitOfWork(app.sessionmaker) as uow:
                rep = await import_owners(uow.session, read_file(SAMPLE_OWNERS))
                await uow.commit()
            print(
                texts.render(
                    "console_sample_loaded", {"units": rep.units_added, "owners": rep.owners_added}
                )
            )
            # and the starter 常见问题, so that 咨询 answers as it will in service
            faq = await load_sample_faq(app.sessionmaker, app.clock.now())
            print(texts.render("cli_kb_sample_loaded", {"count": faq}))
    chat = ConsoleChat(app)
    await chat.begin()
    while True:
        sys.stdout.write("> ")
        sys.stdout.flush()
        line = await _read_line()
        if line is None or line.strip() == "/quit":
            print(texts.render("console_bye"))
            return
        if not line.strip():
            continue
        inbound = chat.parse(line)
        if inbound is not None:
            await chat.send(inbound)
