"""Conversation state: one typed object per owner that only the engine changes. It is stored as
a small JSON-able dict (to_dict / from_dict), so it survives restarts and serves every channel;
dicts stored before this type existed load unchanged.

Outside dialogs/, the stored dict is only read, and only through profile_of()."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# dialogs an owner can leave for the menu (or a person) and pick up again where they were
RESUMABLE = ("repair", "complaint", "consult")


@dataclass(slots=True)
class Paused:
    """A dialog put aside (/menu, a person, an emergency): where it was and what it had."""

    flow: str
    step: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"flow": self.flow, "step": self.step, "d": self.data}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Paused:
        return cls(raw.get("flow", "start"), raw.get("step", "new"), dict(raw.get("d") or {}))


@dataclass(slots=True)
class SurveyWait:
    """The survey's optional comment is the current step: for which survey, and where the
    owner was (and goes back to) meanwhile."""

    survey_id: int
    flow: str
    step: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.survey_id, "flow": self.flow, "step": self.step}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SurveyWait:
        return cls(int(raw["id"]), raw.get("flow", "start"), raw.get("step", "new"))


@dataclass(frozen=True, slots=True)
class Profile:
    """Who the owner is, as the agents' side needs it (read-only)."""

    salutation: str = ""
    owner_id: int | None = None
    phone: str = ""
    unit_label: str = ""


@dataclass(slots=True)
class ConversationState:
    flow: str = "start"
    step: str = "new"
    # what this dialog has collected so far
    data: dict[str, Any] = field(default_factory=dict)
    # changes with every prompt that has buttons: older buttons are stale
    nonce: int = 0
    # the values behind the current buttons, by index (never trusted from the client), and their
    # labels (an owner who types a label has pressed it)
    choices: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    # who the owner is and which unit (kept across dialogs): salutation, unit{...}, phone,
    # owner_id, role, identity_verified, emergency_ticket
    profile: dict[str, Any] = field(default_factory=dict)
    paused: Paused | None = None
    # media sent where it was not the answer: kept for the next ticket
    pending_attachments: list[dict[str, str]] = field(default_factory=list)
    # the contact button (a reply keyboard) is showing: removed with the next plain message
    reply_keyboard: bool = False
    survey: SurveyWait | None = None

    @property
    def where(self) -> str:
        return f"{self.flow}.{self.step}"

    def pause(self) -> bool:
        """Put the dialog under way aside, if there is one worth resuming."""
        if self.flow in RESUMABLE and self.data:
            self.paused = Paused(self.flow, self.step, self.data)
            return True
        return False

    def resume(self) -> Paused | None:
        """Back into the dialog put aside, with what it had; None when there is none."""
        p, self.paused = self.paused, None
        if p is not None:
            self.flow, self.step, self.data = p.flow, p.step, p.data
        return p

    # --- stored form ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "flow": self.flow,
            "step": self.step,
            "d": self.data,
            "nonce": self.nonce,
            "choices": self.choices,
            "labels": self.labels,
            "profile": self.profile,
        }
        # the rest only when set: most owners never have them, and rows stay small
        if self.paused is not None:
            out["paused"] = self.paused.to_dict()
        if self.pending_attachments:
            out["pending_attachments"] = self.pending_attachments
        if self.reply_keyboard:
            out["reply_kb"] = True
        if self.survey is not None:
            out["survey"] = self.survey.to_dict()
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> ConversationState:
        raw = raw or {}
        st = cls(
            flow=raw.get("flow") or "start",
            step=raw.get("step") or "new",
            data=dict(raw.get("d") or {}),
            nonce=int(raw.get("nonce") or 0),
            choices=list(raw.get("choices") or []),
            labels=list(raw.get("labels") or []),
            profile=dict(raw.get("profile") or {}),
            paused=Paused.from_dict(raw["paused"]) if raw.get("paused") else None,
            pending_attachments=list(raw.get("pending_attachments") or []),
            reply_keyboard=bool(raw.get("reply_kb")),
            survey=SurveyWait.from_dict(raw["survey"]) if raw.get("survey") else None,
        )
        legacy = raw.get("survey_comment")
        if legacy and st.survey is None and st.flow in ("menu", "start"):
            # stored by the bot before the survey was a flow: the owner's next words were the
            # comment, which is now the survey's current step
            st.survey = SurveyWait(int(legacy), st.flow, st.step)
            st.flow, st.step = "survey", "comment"
        return st


def profile_of(raw: dict[str, Any] | None) -> Profile:
    """The owner's profile from a stored conversation state (None or {} for a new one)."""
    p = (raw or {}).get("profile") or {}
    unit = p.get("unit") or {}
    return Profile(
        salutation=p.get("salutation", ""),
        owner_id=p.get("owner_id"),
        phone=p.get("phone", ""),
        unit_label=unit.get("label", ""),
    )
