"""The step registry: each flow module declares its steps as data (what they accept) plus
two functions, one that asks and one that takes the answer. Flows reach each other only through
it: steps by key (goto), entry points by name (enter), events from outside the chat by kind
(EVENTS), so no flow imports another to move the owner on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .events import Inbound
from .session import Session

Prompt = Callable[[Session], Awaitable[None]]
Handler = Callable[[Session, Inbound, "str | None"], Awaitable[None]]


@dataclass(slots=True)
class Step:
    key: str
    prompt: Prompt
    handle: Handler
    # inbound kinds this step takes as an answer; "choice" includes a typed button label
    accepts: frozenset[str]
    # steps where a free-text answer is expected and buttons are only shortcuts
    text_limit: int = 4096
    # later photos of an album go to the handler instead of being attached to the draft
    albums: bool = False
    # every inbound kind goes to the handler as it is (a person is reading: nothing is "bad")
    raw: bool = False
    # a step that sits on top of where the owner was (the survey's optional comment): anything it
    # does not take as its answer, and an emergency, first closes it (leave), then is handled as
    # usual from where the owner was
    leave: Handler | None = None


STEPS: dict[str, Step] = {}


def step(
    key: str,
    accepts: set[str] | frozenset[str],
    text_limit: int = 4096,
    albums: bool = False,
    raw: bool = False,
    leave: Handler | None = None,
):
    """Register a step: decorate the prompt; the handler is attached with `.on`."""

    def deco(prompt: Prompt):
        return _Pending(key, prompt, frozenset(accepts), text_limit, albums, raw, leave)

    return deco


class _Pending:
    def __init__(
        self,
        key: str,
        prompt: Prompt,
        accepts: frozenset[str],
        text_limit: int,
        albums: bool,
        raw: bool,
        leave: Handler | None,
    ):
        self.key, self.prompt, self.accepts = key, prompt, accepts
        self.text_limit, self.albums, self.raw, self.leave = text_limit, albums, raw, leave

    async def __call__(self, s: Session) -> None:
        await self.prompt(s)

    def on(self, handler: Handler) -> Handler:
        STEPS[self.key] = Step(
            self.key,
            self.prompt,
            handler,
            self.accepts,
            self.text_limit,
            self.albums,
            self.raw,
            self.leave,
        )
        return handler


# --- entry points and outside events -------------------------------------------------------------
Entry = Callable[..., Awaitable[None]]
EventHandler = Callable[[Session, Inbound], Awaitable[None]]

ENTRIES: dict[str, Entry] = {}
EVENTS: dict[str, EventHandler] = {}


def entry(name: str):
    """Register a flow's entry point (the menu, the start, a request for a person) by name."""

    def deco(fn: Entry) -> Entry:
        ENTRIES[name] = fn
        return fn

    return deco


async def enter(s: Session, name: str, **kw) -> None:
    """Hand the owner to another flow's entry point, without importing that flow."""
    await ENTRIES[name](s, **kw)


def on_event(kind: str):
    """Register the handler of an inbound kind raised from outside the owner's chat."""

    def deco(fn: EventHandler) -> EventHandler:
        EVENTS[kind] = fn
        return fn

    return deco


async def give_way(s: Session, ev: Inbound) -> None:
    """Close a step that sits on top of where the owner was (see Step.leave), if one is current."""
    st = STEPS.get(s.where)
    if st is not None and st.leave is not None:
        await st.leave(s, ev)


async def goto(s: Session, key: str) -> None:
    """Move to a step and ask its question."""
    flow, name = key.split(".", 1)
    s.set_step(flow, name)
    s.clear_choices()
    await STEPS[key].prompt(s)


async def reprompt(s: Session) -> None:
    """Ask the current question again, keeping everything given so far."""
    st = STEPS.get(s.where)
    if st is not None:
        s.clear_choices()
        await st.prompt(s)
