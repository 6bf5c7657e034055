"""Renders templates_zh/: every word an owner, agent or operator reads comes from there.

Jinja with StrictUndefined and autoescape: owner text is escaped exactly once, here.
Templates sit in folders by audience (owner/, agent/, survey/, cli/, console/, shared/) but are
named by their file name alone, so code says `render("agent_card")` wherever the file lives.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

# found through the installed package, never the repository or the working directory, so a
# regular (non-editable) install finds its templates too
TEMPLATES_DIR = Path(str(resources.files("templates_zh")))
# short words used inside messages and on buttons: labels, status and event names, time phrases
LABELS_FILE = Path("shared") / "labels.toml"


class DuplicateTemplate(ValueError):
    pass


class AudienceLoader(jinja2.FileSystemLoader):
    """Looks a template up by file name in whichever audience folder holds it. Two files of one
    name would make `render(name)` ambiguous, so they stop the loader at once."""

    def __init__(self, root: Path):
        super().__init__(str(root))
        self.paths: dict[str, str] = {}
        for path in sorted(root.rglob("*.j2")):
            where = path.relative_to(root).as_posix()
            if where.startswith("manager/"):  # the report's page: bot/reports renders it
                continue
            if path.name in self.paths:
                raise DuplicateTemplate(f"{path.name}: {self.paths[path.name]} and {where}")
            self.paths[path.name] = where

    def get_source(self, environment: jinja2.Environment, template: str):
        return super().get_source(environment, self.paths.get(template, template))

    def list_templates(self) -> list[str]:
        return sorted(self.paths)


class Texts:
    def __init__(self, tz: str = "Asia/Shanghai", directory: Path = TEMPLATES_DIR):
        self.tz = ZoneInfo(tz)
        self.loader = AudienceLoader(directory)
        self.env = jinja2.Environment(
            loader=self.loader,
            undefined=jinja2.StrictUndefined,
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["hm"] = self._hm
        self.env.filters["when"] = self._when
        self.env.filters["visit"] = self._visit
        self.env.filters["clip"] = _clip
        self.env.filters["status_word"] = self._word
        with open(directory / LABELS_FILE, "rb") as fh:
            self.labels: dict[str, str] = tomllib.load(fh)
        self._cache: dict[str, jinja2.Template] = {}

    def render(self, name: str, context: dict[str, Any] | None = None) -> str:
        tpl = self._cache.get(name)
        if tpl is None:
            tpl = self._cache[name] = self.env.get_template(f"{name}.j2")
        return tpl.render(context or {}).strip()

    def button(self, key: str, **kw: Any) -> str:
        label = self.labels[key]
        return label.format(**kw) if kw else label

    def template_names(self) -> list[str]:
        """Every template a message is rendered from (shared macros, named `_*`, are not)."""
        return [n.removesuffix(".j2") for n in self.loader.list_templates() if n[0] != "_"]

    def template_path(self, name: str) -> str:
        """Where a template lives under templates_zh/, e.g. `agent/agent_card.j2`."""
        return self.loader.paths[f"{name}.j2"]

    def _word(self, code: str, prefix: str = "status_") -> str:
        return self.labels.get(f"{prefix}{code}", code)

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz)

    def _hm(self, when: datetime | None) -> str:
        return "" if when is None else self.local(when).strftime("%H:%M")

    def _when(self, when: datetime | None, now: datetime | None = None) -> str:
        """今天15:00 / 明天09:00 / 11月25日(周三)09:00: how people say a promised time."""
        if when is None:
            return ""
        w = self.local(when)
        ref = self.local(now) if now else None
        hm = w.strftime("%H:%M")
        b = self.labels
        if ref is not None:
            delta = (w.date() - ref.date()).days
            if delta == 0:
                return b["time_today"].format(hm=hm)
            if delta == 1:
                return b["time_tomorrow"].format(hm=hm)
        return b["time_date"].format(
            month=w.month, day=w.day, weekday=b["weekdays"][w.weekday()], hm=hm
        )

    def _visit(self, window: dict[str, Any] | None) -> str:
        """The owner's visit window as said back, always with its date: 11月25日（周三）上午,
        11月28日（周六）上午10点."""
        if not window:
            return ""
        start = self.local(datetime.fromisoformat(window["start"]))
        b = self.labels
        text = b["visit_date"].format(
            month=start.month, day=start.day, weekday=b["weekdays"][start.weekday()]
        )
        text += window.get("part", "")
        if window.get("hour"):
            h, m = (int(x) for x in window["hour"].split(":"))
            if window.get("part") and h > 12:
                h -= 12  # 下午3点, not 下午15点
            key = "visit_hour" if m == 0 else "visit_half" if m == 30 else "visit_minutes"
            text += b[key].format(h=h, m=m)
        return text


def _clip(text: str, limit: int = 200) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + "……"


@lru_cache(maxsize=8)
def texts_for(tz: str) -> Texts:
    return Texts(tz)
