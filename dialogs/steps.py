"""The step registry: each flow module declares its steps as data (what they accept) plus
two functions, one that asks and one that takes the answer."""

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


STEPS: dict[str, Step] = {}


def step(
    key: str,
    accepts: set[str] | frozenset[str],
    text_limit: int = 4096,
    albums: bool = False,
    raw: bool = False,
):
    """Register a step: decorate the prompt; the handler is attached with `.on`."""

    def deco(prompt: Prompt):
        return _Pending(key, prompt, frozenset(accepts), text_limit, albums, raw)

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
    ):
        self.key, self.prompt, self.accepts = key, prompt, accepts
        self.text_limit, self.albums, self.raw = text_limit, albums, raw

    async def __call__(self, s: Session) -> None:
        await self.prompt(s)

    def on(self, handler: Handler) -> Handler:
        STEPS[self.key] = Step(
            self.key, self.prompt, handler, self.accepts, self.text_limit, self.albums, self.raw
        )
        return handler


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
