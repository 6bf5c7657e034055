"""The templates' Telegram HTML as the plain text WeChat shows, and text cut to WeChat's byte
limits.

WeChat (微信客服) draws no markup: bold becomes 【…】, other tags give their text, a link its text
and address. Owner-supplied text was escaped once by the templates' autoescape, so it is
unescaped exactly once here (the parser decodes each entity once: `&amp;lt;` shows as `&lt;`).
WeChat counts its limits in UTF-8 bytes, so every cut is made between characters, never inside
one, and a line break is the preferred place to cut."""

from __future__ import annotations

from html.parser import HTMLParser

ELLIPSIS = "…"
OPEN, CLOSE = "【", "】"
_BOLD = {"b", "strong"}


def byte_len(text: str) -> int:
    return len(text.encode("utf-8"))


class _PlainText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.bold: list[tuple[bool, int]] = []  # (brackets added, where the bold text starts)
        self.links: list[tuple[str, int]] = []  # (href, where the link text starts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.out.append("\n")
        elif tag in _BOLD:
            # already bracketed (an outer bold, or 【 written by the template): no second pair
            added = not any(a for a, _ in self.bold) and not self._inside_brackets()
            if added:
                self.out.append(OPEN)
            self.bold.append((added, len(self.out)))
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BOLD and self.bold:
            added, start = self.bold.pop()
            if added and not "".join(self.out[start:]).strip():
                del self.out[start - 1 :]  # an empty bold leaves no empty 【】
            elif added:
                self.out.append(CLOSE)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            text = "".join(self.out[start:]).strip()
            if href and href != text:
                self.out.append(f" {href}" if text else href)

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def _inside_brackets(self) -> bool:
        text = "".join(self.out)
        return text.count(OPEN) > text.count(CLOSE)

    def text(self) -> str:
        self.close()
        # a tag left open by a broken template still closes its bracket
        while self.bold:
            self.handle_endtag("b")
        return "".join(self.out)


def html_to_text(html: str) -> str:
    """What a WeChat user reads of a rendered template: no tag, every entity decoded once."""
    parser = _PlainText()
    parser.feed(html)
    return parser.text().strip()


def _cut(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` bytes (at least one, so a cut advances)."""
    raw = text.encode("utf-8")[:limit]
    return max(1, len(raw.decode("utf-8", errors="ignore")))


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` bytes, cut at line breaks where a piece can end at one and
    between characters otherwise. The line breaks cut at are dropped: joined back, the pieces
    are the text less those breaks."""
    pieces: list[str] = []
    current: str | None = None
    for line in text.split("\n"):
        joined = line if current is None else f"{current}\n{line}"
        if byte_len(joined) <= limit:
            current = joined
            continue
        if current is not None:
            pieces.append(current)
        while byte_len(line) > limit:
            n = _cut(line, limit)
            pieces.append(line[:n])
            line = line[n:]
        current = line
    if current is not None:
        pieces.append(current)
    # a cut at a blank line leaves empty pieces or pieces that begin or end with a break: the
    # message boundary already separates them
    return [p.strip("\n") for p in pieces if p.strip("\n")]


def split_last(text: str, limit: int) -> tuple[str, str]:
    """(what comes before, the end of `text` within `limit` bytes): the end is cut at a line
    break if one lies within the limit, between characters otherwise."""
    if byte_len(text) <= limit:
        return "", text
    head, tail = text, ""
    while "\n" in head:
        before, _, line = head.rpartition("\n")
        candidate = line if not tail else f"{line}\n{tail}"
        if byte_len(candidate) > limit:
            break
        head, tail = before, candidate
    if tail.strip():
        return head.rstrip("\n"), tail.strip("\n")
    # the last line alone is too long: its final characters, cut between characters
    raw = text.encode("utf-8")
    end = raw[len(raw) - limit :].decode("utf-8", errors="ignore")
    return text[: len(text) - len(end)], end


def split_at_line(text: str, limit: int) -> tuple[str, str] | None:
    """(head, tail), each within `limit` bytes, cut at the line break that leaves the longest
    head; None when no line break allows it."""
    best = None
    at = text.find("\n")
    while at != -1:
        head, tail = text[:at].rstrip("\n"), text[at + 1 :].strip("\n")
        if byte_len(head) > limit:
            break
        if head and tail and byte_len(tail) <= limit:
            best = (head, tail)
        at = text.find("\n", at + 1)
    return best


def clip_bytes(text: str, limit: int) -> str:
    """One line within `limit` bytes, clipped with "…" when it does not fit."""
    if byte_len(text) <= limit:
        return text
    room = limit - byte_len(ELLIPSIS)
    return text[: _cut(text, room)] + ELLIPSIS if room > 0 else ELLIPSIS
