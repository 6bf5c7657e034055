"""What an agent typed after /faq, as a typed command (no Telegram, no database): the forms
are `/faq` (replying to an owner's message) or `/faq 问题文字`, `/faq N`, `/faq add 问题 | 答案`,
`/faq edit N 问题 | 答案` (`/faq edit N | 答案` changes only the answer, `/faq edit N 问题 |`
only the question), `/faq off N`, `/faq on N`, `/faq misses`. Input that fits none of them is
a BadInput naming the form that was meant and what is missing."""

from __future__ import annotations

import re
from dataclasses import dataclass

# an entry number no INTEGER column holds is no entry (PostgreSQL: out of int32 range)
MAX_ID = 2**31 - 1
# a Chinese keyboard types the full-width bar
BAR = re.compile("[|｜]")
# an entry number ends at a space, the bar or the end ("edit 3号楼…" is not entry 3)
NUMBER = re.compile(r"#?(\d+)(?=\s|[|｜]|$)\s*(.*)", re.DOTALL)
VERB = re.compile(r"(\S+)\s*(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Show:
    """The entries an owner's question matches; "" = the question of the message replied to."""

    question: str = ""


@dataclass(frozen=True, slots=True)
class ShowEntry:
    entry_id: int


@dataclass(frozen=True, slots=True)
class Add:
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class Edit:
    entry_id: int
    question: str  # "": unchanged
    answer: str  # "": unchanged


@dataclass(frozen=True, slots=True)
class SetActive:
    entry_id: int
    active: bool


@dataclass(frozen=True, slots=True)
class Misses:
    pass


@dataclass(frozen=True, slots=True)
class BadInput:
    form: str  # add / edit / off / on: the form to show
    problem: str  # no_bar / empty / number


FaqCommand = Show | ShowEntry | Add | Edit | SetActive | Misses | BadInput


def parse(args: str) -> FaqCommand:
    text = args.strip()
    verb, rest = ("", "")
    if (m := VERB.fullmatch(text)) is not None:
        verb, rest = m.group(1).lower(), m.group(2).strip()
    if verb == "add":
        return _add(rest)
    if verb == "edit":
        return _edit(rest)
    if verb in ("off", "on"):
        number = NUMBER.fullmatch(rest)
        if number is None or number.group(2).strip() or int(number.group(1)) > MAX_ID:
            return BadInput(verb, "number")
        return SetActive(int(number.group(1)), verb == "on")
    if verb == "misses":
        return Misses()
    number = NUMBER.fullmatch(text)
    if number is not None and not number.group(2).strip() and int(number.group(1)) <= MAX_ID:
        return ShowEntry(int(number.group(1)))
    return Show(text)


def _halves(text: str) -> tuple[str, str] | None:
    if not BAR.search(text):
        return None
    question, answer = BAR.split(text, maxsplit=1)
    return question.strip(), answer.strip()


def _add(rest: str) -> FaqCommand:
    halves = _halves(rest)
    if halves is None:
        return BadInput("add", "no_bar")
    if not all(halves):
        return BadInput("add", "empty")
    return Add(*halves)


def _edit(rest: str) -> FaqCommand:
    number = NUMBER.fullmatch(rest)
    if number is None or int(number.group(1)) > MAX_ID:
        return BadInput("edit", "number")
    halves = _halves(number.group(2))
    if halves is None:
        return BadInput("edit", "no_bar")
    if not any(halves):
        return BadInput("edit", "empty")
    return Edit(int(number.group(1)), *halves)
