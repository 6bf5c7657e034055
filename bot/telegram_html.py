"""Rendered Telegram HTML cut into messages Telegram accepts: each piece within the 4096 limit,
cut between characters of the rendered text (never inside an entity such as `&amp;`, nor inside
a tag), the tags open at a cut closed there and opened again at the start of the next piece, a
line break preferred as the place to cut. A text too long for a few messages is clipped with
"…": an owner's 2,048 characters of `<&` once became 6,375 one-character messages for the group,
hours of its 20 a minute queued ahead of every card."""

from __future__ import annotations

import re

LIMIT = 4096
MAX_PARTS = 4
ELLIPSIS = "…"

# a tag, an entity, a run of plain text, or a lone markup character (never made by the
# templates' autoescape, kept whole all the same)
_TOKEN = re.compile(r"<[^<>]*>|&#?[0-9A-Za-z]{1,8};|[^<&]+|[<&]")
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)")


def units(text: str) -> int:
    """Length as Telegram may count it (UTF-16): a character beyond the BMP (an emoji) is two."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = LIMIT, max_parts: int = MAX_PARTS) -> list[str]:
    if units(text) <= limit:
        return [text]
    return _Splitter(limit, max_parts).run(text)


def clip_html(text: str, limit: int = LIMIT) -> str:
    """One message: the text as it fits, clipped with "…" (a card is edited in place by its id,
    so it is never split)."""
    return split_html(text, limit, 1)[0]


class _Splitter:
    def __init__(self, limit: int, max_parts: int):
        self.limit, self.max_parts = limit, max(1, max_parts)
        self.parts: list[str] = []
        self.opened: list[tuple[str, str]] = []  # (name, the opening tag as written)
        self.piece: list[str] = []
        self.size = 0  # units in self.piece
        self.fresh = True  # nothing but reopened tags in the piece yet

    def run(self, text: str) -> list[str]:
        for m in _TOKEN.finditer(text):
            tok = m.group()
            if not self._add(tok):
                break
        else:
            self.parts.append(self._closed(""))
        return self.parts

    def _room(self) -> int:
        """Units left for content, keeping space for the closing tags (and, in the last piece
        allowed, for the "…")."""
        closers = sum(len(name) + 3 for name, _ in self.opened)
        last = len(self.parts) == self.max_parts - 1
        return self.limit - self.size - closers - (len(ELLIPSIS) if last else 0)

    def _add(self, tok: str) -> bool:
        """False once the text is clipped (the last piece is full)."""
        tag = _TAG.match(tok)
        if tag is not None:
            closing, name = tag.group(1) == "/", tag.group(2).lower()
            # a closing tag's place was kept since its opening tag: it always fits
            need = 0 if closing else units(tok) + len(name) + 3
            if need > self._room() and not self.fresh and not self._cut():
                return False
            self._put(tok)
            if closing:
                for i in range(len(self.opened) - 1, -1, -1):
                    if self.opened[i][0] == name:
                        del self.opened[i]
                        break
            else:
                self.opened.append((name, tok))
            return True
        if tok[0] in "<&" or len(tok) == 1:
            while units(tok) > self._room() and not self.fresh:
                if not self._cut():
                    return False
            self._put(tok)
            return True
        while tok:  # plain text: as much as fits, the rest in the next piece
            n = _fitting(tok, self._room())
            if n >= len(tok):
                self._put(tok)
                return True
            cut = tok.rfind("\n", 0, n)
            keep = cut if cut >= 0 and self.size + units(tok[:cut]) >= self.limit // 2 else n
            if keep == 0 and self.fresh:
                keep = 1  # never an empty piece: one character more is still a valid message
            if keep:
                self._put(tok[:keep])
            tok = tok[keep + 1 :] if keep == cut else tok[keep:]
            if tok and not self._cut():
                return False
        return True

    def _put(self, tok: str) -> None:
        self.piece.append(tok)
        self.size += units(tok)
        self.fresh = False

    def _cut(self) -> bool:
        """End the piece here; False when it was the last allowed (then clipped with "…")."""
        if len(self.parts) == self.max_parts - 1:
            self.parts.append(self._closed(ELLIPSIS))
            return False
        self.parts.append(self._closed(""))
        reopen = "".join(tag for _, tag in self.opened)
        self.piece, self.size, self.fresh = [reopen], units(reopen), True
        return True

    def _closed(self, tail: str) -> str:
        body = "".join(self.piece).rstrip("\n") + tail
        return body + "".join(f"</{name}>" for name, _ in reversed(self.opened))


def _fitting(run: str, room: int) -> int:
    """How many characters of a plain run fit in `room` units."""
    if room <= 0:
        return 0
    if run.isascii() or units(run) == len(run):
        return min(len(run), room)
    used = 0
    for i, ch in enumerate(run):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > room:
            return i
    return len(run)
