"""Runs one step of a conversation: maps an inbound event onto the current step, handling every
kind of bad input politely without losing what the owner already gave."""

from __future__ import annotations

from typing import Any

from .clock import Clock
from .events import Inbound, StepResult
from .flows import complaint as complaint_flow
from .flows import emergency as emergency_flow
from .policy import Policy, load_cues
from .ports import Ports
from .session import Session
from .state import ConversationState
from .steps import EVENTS, STEPS, enter, give_way, reprompt

# Flow-wide checks before a step sees the input (emergencies are checked before these, anywhere)
INTERCEPTS = {"complaint": complaint_flow.intercept}


class Engine:
    def __init__(
        self,
        policy: Policy,
        clock: Clock,
        labels: dict[str, str],
        tz: str = "Asia/Shanghai",
        cues: dict[str, list[str]] | None = None,
    ):
        self.policy = policy
        self.clock = clock
        self.labels = labels
        self.tz = tz
        self.cues = cues or load_cues()

    def session(
        self, state: ConversationState, account_id: int, ports: Ports, channel: str = "telegram"
    ) -> Session:
        return Session(
            state,
            account_id=account_id,
            ports=ports,
            channel=channel,
            policy=self.policy,
            clock=self.clock,
            cues=self.cues,
            labels=self.labels,
            tz=self.tz,
        )

    async def step(
        self,
        state: dict[str, Any],
        ev: Inbound,
        account_id: int,
        ports: Ports,
        channel: str = "telegram",
    ) -> StepResult:
        """`state` is the stored form (a dict, as kept in the database): loaded, changed by this
        step alone, and written back in place. `channel`: where the owner is, for what only
        some channels can do (a Telegram contact proves a phone; WeChat needs an SMS code)."""
        s = self.session(ConversationState.from_dict(state), account_id, ports, channel)
        had_reply_keyboard = s.state.reply_keyboard
        await self._run(s, ev)
        self._settle_reply_keyboard(s, had_reply_keyboard)
        _store(s.state, state)
        return StepResult(s.replies, s.effects, s.alert, s.durable)

    async def resume(
        self, state: dict[str, Any], account_id: int, ports: Ports, channel: str = "telegram"
    ) -> StepResult | None:
        """A channel coming back (the console relaunched): the current question asked again,
        nothing given so far lost. None when no dialog is under way (a /start greets instead)."""
        s = self.session(ConversationState.from_dict(state), account_id, ports, channel)
        if s.where not in STEPS:
            return None
        had_reply_keyboard = s.state.reply_keyboard
        await reprompt(s)
        self._settle_reply_keyboard(s, had_reply_keyboard)
        _store(s.state, state)
        return StepResult(s.replies, s.effects, s.alert, s.durable)

    @staticmethod
    def _settle_reply_keyboard(s: Session, had: bool) -> None:
        """The contact button is a reply keyboard: remove it with the first plain message after."""
        if any(r.request_contact for r in s.replies):
            s.state.reply_keyboard = True
            return
        if had:
            for r in s.replies:
                if not r.rows:
                    r.remove_keyboard = True
                    s.state.reply_keyboard = False
                    break

    async def _run(self, s: Session, ev: Inbound) -> None:
        outside = EVENTS.get(ev.kind)
        if outside is not None:
            # raised from outside the chat (a survey, a takeover): never a step's answer
            await outside(s, ev)
            return
        if self._gives_way(s, ev):
            await give_way(s, ev)
        if ev.kind == "command":
            await self._command(s, ev)
            return
        # Safety first, wherever the owner is: the menu, the start, a complaint, 补充, a survey
        # comment, the human-agent queue (DOMAIN.md: gas, trapped, fire, a serious leak, sparks).
        if await emergency_flow.intercept(s, ev):
            return
        st = STEPS.get(s.where)
        if st is None:
            await enter(s, "start")
            return

        intercept = INTERCEPTS.get(s.state.flow)
        if intercept is not None and await intercept(s, ev):
            return

        if st.raw and ev.kind != "choice":
            await st.handle(s, ev, None)
            return

        if ev.kind == "choice":
            value = s.resolve_token(ev.token)
            if value is None:
                # 按钮已失效: a stale, forged or double-tapped button changes nothing
                s.alert = "alert_stale_button"
                return
            await st.handle(s, ev, value)
            return

        # later photos of an album that already answered a step are attached without a word
        if ev.kind == "photo" and ev.album_id and ev.album_id == s.d.get("album") and not st.albums:
            s.d.setdefault("attachments", []).append({"kind": "photo", "file_id": ev.file_id})
            return

        if ev.kind == "text":
            value = s.resolve_label(ev.text) if "choice" in st.accepts else None
            if value is not None:
                await st.handle(s, ev, value)
            elif "text" in st.accepts:
                if len(ev.text) > st.text_limit:
                    s.say("bad_text_too_long", limit=st.text_limit)
                    await reprompt(s)
                elif not ev.text.strip():
                    await reprompt(s)
                else:
                    await st.handle(s, ev, None)
            else:
                s.say("bad_use_buttons")
                await reprompt(s)
            return

        if ev.kind in st.accepts:
            await st.handle(s, ev, None)
            return

        # Media where it is not the answer: kept for the next ticket, never silently dropped.
        if ev.kind in ("photo", "voice", "other") and ev.file_id:
            s.state.pending_attachments.append({"kind": ev.kind, "file_id": ev.file_id})
            s.say(f"bad_{ev.kind}_kept")
        elif ev.kind == "contact":
            s.say("bad_contact_here")
        elif ev.kind == "sticker":
            s.say("bad_sticker")
        else:
            s.say("bad_unsupported")
        await reprompt(s)

    @staticmethod
    def _gives_way(s: Session, ev: Inbound) -> bool:
        """A step on top of where the owner was takes only its own answer; anything else, and
        an emergency in words, is handled from where the owner was (see Step.leave)."""
        st = STEPS.get(s.where)
        if st is None or st.leave is None:
            return False
        if ev.kind not in st.accepts:
            return True
        return ev.kind in ("text", "photo") and emergency_flow.detect(s, ev.text) is not None

    async def _command(self, s: Session, ev: Inbound) -> None:
        cmd = ev.text.split()[0].split("@")[0].lower() if ev.text.strip() else ""
        if s.state.flow == "human":
            # a person is on the other side: /cancel and /menu leave, anything else is theirs
            if cmd in ("/cancel", "/menu"):
                await enter(s, "human.leave")
            else:
                await STEPS[s.where].handle(
                    s, Inbound("text", text=ev.text, message_id=ev.message_id), None
                )
            return
        if cmd == "/start":
            await enter(s, "start")
        elif cmd == "/menu":
            await enter(s, "menu.show", pause=True)
        elif cmd == "/cancel":
            await enter(s, "menu.cancel")
        elif cmd == "/help":
            s.say("help")
            await reprompt(s)
        else:
            s.say("bad_unknown_command")
            if s.where in STEPS:
                await reprompt(s)
            else:
                await enter(s, "start")


def _store(conv: ConversationState, stored: dict[str, Any]) -> None:
    stored.clear()
    stored.update(conv.to_dict())
