"""Runs one step of a conversation: maps an inbound event onto the current step, handling every
kind of bad input politely without losing what the owner already gave."""

from __future__ import annotations

from typing import Any

from .clock import Clock
from .events import Inbound, StepResult
from .flows import complaint as complaint_flow
from .flows import emergency as emergency_flow
from .flows import human as human_flow
from .flows import menu as menu_flow
from .flows import start as start_flow
from .policy import Policy, load_cues
from .ports import Ports
from .session import Session
from .steps import STEPS, reprompt

# Flow-wide checks before a step sees the input (emergencies are checked before these, anywhere)
INTERCEPTS = {"complaint": complaint_flow.intercept}


class Engine:
    def __init__(
        self,
        policy: Policy,
        clock: Clock,
        buttons: dict[str, str],
        tz: str = "Asia/Shanghai",
        cues: dict[str, list[str]] | None = None,
    ):
        self.policy = policy
        self.clock = clock
        self.buttons = buttons
        self.tz = tz
        self.cues = cues or load_cues()

    def session(self, state: dict[str, Any], account_id: int, ports: Ports) -> Session:
        return Session(
            state,
            account_id=account_id,
            ports=ports,
            policy=self.policy,
            clock=self.clock,
            cues=self.cues,
            buttons=self.buttons,
            tz=self.tz,
        )

    async def step(
        self, state: dict[str, Any], ev: Inbound, account_id: int, ports: Ports
    ) -> StepResult:
        s = self.session(state, account_id, ports)
        had_reply_keyboard = state.get("reply_kb", False)
        await self._run(s, ev)
        self._settle_reply_keyboard(s, had_reply_keyboard)
        return StepResult(s.replies, s.effects, s.alert, s.durable)

    async def resume(
        self, state: dict[str, Any], account_id: int, ports: Ports
    ) -> StepResult | None:
        """A channel coming back (the console relaunched): the current question asked again,
        nothing given so far lost. None when no dialog is under way (a /start greets instead)."""
        s = self.session(state, account_id, ports)
        if s.where not in STEPS:
            return None
        had_reply_keyboard = state.get("reply_kb", False)
        await reprompt(s)
        self._settle_reply_keyboard(s, had_reply_keyboard)
        return StepResult(s.replies, s.effects, s.alert, s.durable)

    @staticmethod
    def _settle_reply_keyboard(s: Session, had: bool) -> None:
        """The contact button is a reply keyboard: remove it with the first plain message after."""
        if any(r.request_contact for r in s.replies):
            s.state["reply_kb"] = True
            return
        if had:
            for r in s.replies:
                if not r.rows:
                    r.remove_keyboard = True
                    s.state["reply_kb"] = False
                    break

    async def _run(self, s: Session, ev: Inbound) -> None:
        if ev.kind == "command":
            await self._command(s, ev)
            return
        # Safety first, wherever the owner is: the menu, the start, a complaint, 补充, a survey
        # comment, the human-agent queue (DOMAIN.md: gas, trapped, fire, a serious leak, sparks).
        if await emergency_flow.intercept(s, ev):
            survey_id = s.state.pop("survey_comment", None)
            if survey_id:
                # the words were a survey comment too: kept there as well as on the ticket
                s.effect("survey_comment", survey_id=survey_id, text=ev.text)
            return
        if s.state.get("survey_comment") and s.state["flow"] != "human":
            # the survey's optional comment: the next words the owner types are it
            survey_id = s.state.pop("survey_comment")
            if ev.kind == "text":
                s.effect("survey_comment", survey_id=survey_id, text=ev.text)
                s.durable = True
                return
        st = STEPS.get(s.where)
        if st is None:
            await start_flow.on_start(s)
            return

        intercept = INTERCEPTS.get(s.state["flow"])
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
            s.state.setdefault("pending_attachments", []).append(
                {"kind": ev.kind, "file_id": ev.file_id}
            )
            s.say(f"bad_{ev.kind}_kept")
        elif ev.kind == "contact":
            s.say("bad_contact_here")
        elif ev.kind == "sticker":
            s.say("bad_sticker")
        else:
            s.say("bad_unsupported")
        await reprompt(s)

    async def _command(self, s: Session, ev: Inbound) -> None:
        cmd = ev.text.split()[0].split("@")[0].lower() if ev.text.strip() else ""
        if s.state["flow"] == "human":
            # a person is on the other side: /cancel and /menu leave, anything else is theirs
            if cmd in ("/cancel", "/menu"):
                await human_flow.end_by_owner(s)
            else:
                await STEPS[s.where].handle(
                    s, Inbound("text", text=ev.text, message_id=ev.message_id), None
                )
            return
        if cmd == "/start":
            await start_flow.on_start(s)
        elif cmd == "/menu":
            await menu_flow.show_menu(s, pause=True)
        elif cmd == "/cancel":
            await menu_flow.cancel(s)
        elif cmd == "/help":
            s.say("help")
            await reprompt(s)
        else:
            s.say("bad_unknown_command")
            if s.where in STEPS:
                await reprompt(s)
            else:
                await start_flow.on_start(s)
