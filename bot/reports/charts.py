"""PNG charts with Chinese labels (matplotlib, Agg). A CJK font is found at run time among the
ones the machine has (Debian: fonts-noto-cjk); with none, the report stops with a clear error
rather than drawing empty boxes."""

from __future__ import annotations

import io
from functools import lru_cache

from .build import Report
from .figures import AGE_BUCKETS, PROMISES
from .satisfaction import DIMENSIONS
from .words import Words

# families tried in order; Noto Sans CJK comes with Debian's fonts-noto-cjk
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "AR PL UMing CN",
)


class NoCjkFont(RuntimeError):
    """No font on this machine can draw Chinese: install fonts-noto-cjk."""


@lru_cache(maxsize=1)
def cjk_font() -> str:
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in have:
            return family
    raise NoCjkFont("no CJK font found (tried: " + ", ".join(CJK_FAMILIES) + ")")


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = [cjk_font()]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(plt, fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def charts(r: Report, w: Words) -> dict[str, bytes]:
    """name → PNG bytes: volume per day, backlog by age, timeliness by urgency, satisfaction."""
    plt = _figure()
    f, ch = r.tickets, lambda k: w("chart", k)
    out: dict[str, bytes] = {}

    days = f.days()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.plot([d.day for d in days], [f.new_per_day[d] for d in days], label=ch("new"))
    ax.plot([d.day for d in days], [f.closed_per_day[d] for d in days], label=ch("closed"))
    ax.set_title(ch("volume"))
    ax.set_ylabel(ch("count"))
    ax.legend()
    out["volume"] = _png(plt, fig)

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.bar([w("age", k) for k, _ in AGE_BUCKETS], [f.backlog[k] for k, _ in AGE_BUCKETS])
    ax.set_title(ch("backlog"))
    ax.set_ylabel(ch("count"))
    out["backlog"] = _png(plt, fig)

    fig, ax = plt.subplots(figsize=(6, 3.2))
    width = 0.38
    for i, u in enumerate(("urgent", "normal")):
        shares = []
        for stage in PROMISES:
            tally = f.timeliness.get((stage, u))
            ratio = tally.share("").ratio if tally else None
            shares.append(0 if ratio is None else ratio * 100)
        xs = [x + i * width for x in range(len(PROMISES))]
        ax.bar(xs, shares, width=width, label=w("urgency", u))
    ax.set_xticks([x + width / 2 for x in range(len(PROMISES))])
    ax.set_xticklabels([w("promise", s) for s in PROMISES])
    ax.set_ylim(0, 100)
    ax.set_title(ch("timeliness"))
    ax.set_ylabel(ch("share"))
    ax.legend()
    out["timeliness"] = _png(plt, fig)

    fig, ax = plt.subplots(figsize=(5, 3.2))
    means = [r.satisfaction.dims[d].mean or 0 for d in DIMENSIONS]
    ax.bar([w("dimension", d) for d in DIMENSIONS], means)
    ax.set_ylim(0, 5)
    ax.set_title(ch("satisfaction"))
    ax.set_ylabel(ch("score"))
    out["satisfaction"] = _png(plt, fig)
    return out
