"""Text from outside (owners' messages and captions, contacts, agents' replies) as it may be
stored: PostgreSQL refuses NUL in text and JSON, and other control characters only garble a
message or a log line. Every channel passes what people typed through here before it becomes an
event; line breaks and tabs are kept, a line break sent as CR LF is one line break."""

from __future__ import annotations

import re

# C0 but tab and line feed, DEL, C1; and halves of a surrogate pair that lost the other half
# (a paste cut mid-character), which no database can encode
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str | None) -> str:
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))
