"""The report's words, from templates_zh/manager/ (labels) and the policy (category names):
no Chinese in the code, and an operator can reword a header without touching Python."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from dialogs.policy import Policy
from dialogs.texts import TEMPLATES_DIR, Texts

MANAGER_DIR = Path(TEMPLATES_DIR) / "manager"


@lru_cache(maxsize=1)
def labels() -> dict[str, Any]:
    with open(MANAGER_DIR / "report_labels.toml", "rb") as fh:
        return tomllib.load(fh)


class Words:
    def __init__(self, policy: Policy, texts: Texts | None = None):
        self.policy = policy
        self.texts = texts or Texts()
        self.labels = labels()

    def __call__(self, group: str, key: str) -> str:
        return str(self.labels.get(group, {}).get(key, key))

    def category(self, kind: str, category: str | None) -> str:
        if kind == "consult":
            return self.texts.labels.get("kind_consult", kind)
        return self.policy.category_label(kind, category)

    def kind(self, kind: str) -> str:
        return self.texts.labels.get(f"kind_{kind}", kind)

    def status(self, status: str) -> str:
        return self.texts.labels.get(f"status_{status}", status)

    def list_title(self, key: str, names: dict[int, str]) -> str:
        """The heading of a ticket list, from its anchor key ("contact-urgent-met",
        "backlog-gt3d", "agent-3"): what a manager reads, never the key itself."""
        titles = self.labels.get("list", {})
        if key in titles:
            return str(titles[key])
        head, _, rest = key.partition("-")
        if head == "backlog":
            return titles["backlog"].format(age=self("age", rest))
        if head == "low":
            return titles["low"].format(dimension=self("dimension", rest))
        if head == "agent" and rest.isdigit():
            return titles["agent"].format(agent=names.get(int(rest), rest))
        urgency, _, end = rest.partition("-")
        if head in ("contact", "arrive", "complete") and end in ("met", "all"):
            return titles[end].format(
                urgency=self("urgency", urgency), promise=self("promise", head)
            )
        return key


def page_environment() -> jinja2.Environment:
    """The HTML page's templates: autoescaped, and strict, so a missing figure is an error."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(MANAGER_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
