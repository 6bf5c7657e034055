"""One step of one conversation: the state being worked on (a ConversationState, see
state.py), the replies and effects produced."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .clock import Clock
from .events import Choice, Effect, Reply
from .policy import Policy
from .ports import Ports
from .state import ConversationState


def _bare(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


class Session:
    def __init__(
        self,
        state: ConversationState,
        *,
        account_id: int,
        ports: Ports,
        channel: str = "telegram",
        policy: Policy,
        clock: Clock,
        cues: dict[str, list[str]],
        labels: dict[str, str],
        tz: str,
    ):
        self.state = state
        self.account_id = account_id
        self.ports = ports
        # where the owner is (telegram / wecom / console): only for what a channel can or cannot
        # do, never for wording
        self.channel = channel
        self.policy = policy
        self.clock = clock
        self.cues = cues
        self.labels = labels
        self.tz = ZoneInfo(tz)
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []
        self.durable = False
        self.alert: str | None = None

    # --- state --------------------------------------------------------------------------------
    @property
    def d(self) -> dict[str, Any]:
        return self.state.data

    @property
    def profile(self) -> dict[str, Any]:
        return self.state.profile

    @property
    def where(self) -> str:
        return self.state.where

    def set_step(self, flow: str, step: str) -> None:
        self.state.flow, self.state.step = flow, step

    def reset_dialog(self) -> None:
        self.state.data = {}
        self.state.choices = []

    def now(self) -> datetime:
        return self.clock.now()

    def local_now(self) -> datetime:
        return self.clock.now().astimezone(self.tz)

    # --- output -------------------------------------------------------------------------------
    def base_context(self) -> dict[str, Any]:
        return {
            "salutation": self.profile.get("salutation", ""),
            "service_name": self.policy.service_name,
            "hotline": self.policy.hotline,
            "now": self.now(),
        }

    def say(self, template: str, **ctx: Any) -> Reply:
        reply = Reply(template, {**self.base_context(), **ctx})
        self.replies.append(reply)
        return reply

    def label(self, key: str, **kw: Any) -> str:
        text = self.labels[key]
        return text.format(**kw) if kw else text

    def ask(self, template: str, options: list[list[tuple[str, str]]], **ctx: Any) -> Reply:
        """A prompt with buttons: rows of (label, value). Earlier buttons become stale."""
        self.state.nonce = (self.state.nonce + 1) % 1_000_000
        values: list[str] = []
        rows: list[list[Choice]] = []
        for row in options:
            out = []
            for label, value in row:
                out.append(Choice(label, f"{self.state.nonce}:{len(values)}"))
                values.append(value)
            rows.append(out)
        self.state.choices = values
        self.state.labels = [c.label for row in rows for c in row]
        reply = self.say(template, **ctx)
        reply.rows = rows
        return reply

    def standing(self, template: str, options: list[list[tuple[str, str]]], **ctx: Any) -> Reply:
        """A message with standing buttons, rows of (label, token), each token its own pointer
        (a survey's answers): the current prompt's choices stay as they are."""
        reply = self.say(template, **ctx)
        reply.rows = [[Choice(label, token) for label, token in row] for row in options]
        reply.standing = True
        return reply

    def clear_choices(self) -> None:
        self.state.choices = []
        self.state.labels = []

    def effect(self, effect: Effect) -> None:
        self.effects.append(effect)

    # --- input --------------------------------------------------------------------------------
    def resolve_token(self, token: str) -> str | None:
        """The value behind a pressed button, or None when it is stale or forged."""
        try:
            nonce_s, idx_s = token.split(":", 1)
            nonce, idx = int(nonce_s), int(idx_s)
        except (ValueError, AttributeError):
            return None
        choices = self.state.choices
        if nonce != self.state.nonce or not 0 <= idx < len(choices):
            return None
        return choices[idx]

    def resolve_label(self, text: str) -> str | None:
        """An owner who types a button's label (or its number) has pressed it."""
        t = text.strip()
        labels = self.state.labels
        choices = self.state.choices
        for i, label in enumerate(labels):
            if t == label and i < len(choices):
                return choices[i]
        # "报修" typed for the "🔧 报修" button: the words without emoji, spaces or punctuation
        bare = _bare(t)
        if bare:
            for i, label in enumerate(labels):
                if bare == _bare(label) and i < len(choices):
                    return choices[i]
        return None

    def has_cue(self, name: str, *texts: str) -> bool:
        blob = " ".join(texts)
        return any(w in blob for w in self.cues.get(name, []))
