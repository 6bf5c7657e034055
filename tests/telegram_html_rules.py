"""What Telegram accepts as parse_mode=HTML, checked the way its parser refuses a message: every
`&` starts a known entity, every `<` a supported tag, tags closed in order, nothing left open."""

from __future__ import annotations

import re

TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}
_TOKEN = re.compile(r"<(/?)([a-z-]+)(\s[^<>]*)?>|&(?:lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")


def assert_valid_telegram_html(text: str) -> None:
    open_tags: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        bare = text[pos : m.start()]
        assert "<" not in bare and ">" not in bare and "&" not in bare, (
            f"bare markup character near {text[max(0, pos - 10) : m.start() + 10]!r}"
        )
        pos = m.end()
        if m.group(2) is None:
            continue  # an entity
        closing, name = m.group(1) == "/", m.group(2)
        assert name in TAGS, f"unsupported tag {name!r}"
        if closing:
            assert open_tags and open_tags[-1] == name, f"</{name}> closes {open_tags}"
            open_tags.pop()
        else:
            open_tags.append(name)
    tail = text[pos:]
    assert "<" not in tail and ">" not in tail and "&" not in tail, f"bare markup in {tail[:20]!r}"
    assert not open_tags, f"left open: {open_tags}"
