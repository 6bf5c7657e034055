"""Sample contexts that render every template, for the polite-language lint and its test.

Two supersets of every variable any template uses: one with every flag on, one with every flag
off, so both sides of each branch are rendered and checked."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .polite import Finding
from .ports import TicketEventView, TicketView
from .texts import Texts

DATA_DIR = Path(__file__).parent / "data"
# data files whose strings are shown to owners or agents (cues.toml holds owners' words instead)
MESSAGE_DATA_FILES = ("policy.toml", "polite_rules.toml", "units.toml")

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai


def _ticket(urgent: bool) -> TicketView:
    return TicketView(
        id=7,
        number="BX-20261123-0007",
        kind="repair",
        category="water",
        department="工程部",
        status="new",
        urgent=urgent,
        description="厨房水管<接口>一直滴水 & 漏到楼下",
        location="厨房",
        unit_label="阳光花园3栋1单元3A室",
        created_at=NOW,
        promised_contact_by=NOW + timedelta(minutes=30),
        promised_arrive_by=NOW + timedelta(hours=4),
        handler="小林",
        attachments=2,
        events=[
            TicketEventView(NOW, "created", ""),
            TicketEventView(NOW, "details_added", "补充照片"),
        ],
    )


def _notice(flag: bool) -> dict[str, Any]:
    """A notice of outage (公告) as the templates read it (dialogs/notices.py `context`)."""
    return {
        "id": 3,
        "kind": "water" if flag else "other",
        "community": "阳光花园" if flag else "",
        "building_labels": ["3栋", "5栋"] if flag else [],
        "starts_at": NOW,
        "ends_at": NOW + timedelta(hours=4 if flag else 20),
        "same_day": flag,
        "text": "请您提前储水 <管道检修>" if flag else "",
        "urgent": flag,
    }


def contexts() -> list[dict[str, Any]]:
    out = []
    for flag in (True, False):
        t = _ticket(flag)
        plan = {"text": "安排工程部在24小时内上门检修", "benefit": "尽快恢复正常使用"}
        report = SimpleNamespace(
            encoding_error=False,
            header_error="",
            rows=10,
            units_added=9,
            owners_added=8,
            owners_updated=0,
            links_added=10,
            retired=7 if flag else 0,
            retired_examples=[("王芳", "138****0301")] if flag else [],
            errors=[(3, "bad_phone", "12345"), (5, "bad_salutation", "小姐")] if flag else [],
        )
        from .ports import UrgeResult

        ns = SimpleNamespace(
            **{k: getattr(t, k) for k in t.__dataclass_fields__},
            escalated=flag,
            emergency=flag,
            unit_verified=flag,
        )
        ns.reporter_verified = flag
        ns.work = ["工程部张师傅"] if flag else []
        out.append(
            {
                "salutation": "王女士" if flag else "",
                "service_name": "悦居物业客服",
                "hotline": "400-800-1234",
                "now": NOW,
                "unit_label": "阳光花园3栋1单元3A室",
                "verified": flag,
                "unit_verified": flag,
                "identity_verified": flag,
                "who": "王女士",
                "flow": "repair",
                "limit": 2000,
                "building": "3",
                "unit": "1" if flag else "",
                "typed": "3F室",
                "has_options": flag,
                "place": "public" if flag else "home",
                "location": "厨房",
                "category_label": "水管/漏水",
                "description": t.description if flag else "",
                "photos": 2 if flag else 0,
                "urgent": flag,
                "slot": "今天下午" if flag else "",
                "window": {
                    "start": (NOW + timedelta(days=1)).isoformat(),
                    "end": (NOW + timedelta(days=1, hours=1)).isoformat(),
                    "part": "下午",
                    "hour": "15:00",
                }
                if flag
                else None,
                "asap": not flag,
                "location_in_description": flag,
                "earlier_than_slot": flag,
                "open": flag,
                "example": "卫生间地漏往外冒水" if flag else "",
                "area": "厨房" if flag else "",
                "gas_phone": "96777",
                "fire_phone": "119",
                "people": "2" if flag else "",
                "identified": flag,
                "stage": "contact" if flag else "arrive",
                "ticket_number": t.number if flag else "",
                "ticket": t,
                "t": ns,
                "department": "工程部",
                "advice": "leak" if flag else "power",
                "suggested": flag,
                "count": 2 if flag else 0,
                "opening": flag,
                "what": "楼下装修噪音太大",
                "where": "3栋",
                "when": "昨天",
                "expect": "尽快处理",
                "plan": plan,
                "plans": [plan, plan, plan],
                "duty_agent": "值班客服小林",
                "question": "物业费怎么交？",
                # the knowledge base (常见问题, issue 12): an answer, the choices, /faq
                "kb_question": "物业费怎么交？",
                # words typed at the menu that describe a fault (menu.fault)
                "said": "厨房水龙头坏了" if flag else "楼道灯不亮",
                "kb_answer": "可以在微信公众号缴费。\n也可以到物业服务中心<前台>缴纳 & 开票。",
                "kb_options": ["物业费怎么交？", "物业费的收费标准是多少？"],
                "kb_confident": 0.75,
                "kb_middling": 0.45,
                "faq_question": "物业费在哪里交",
                "faq_matches": [
                    SimpleNamespace(
                        entry_id=3, question="物业费怎么交？", answer="微信缴费。", score=s
                    )
                    for s in (0.9, 0.5, 0.2)
                ]
                if flag
                else [],
                "faq_entry": SimpleNamespace(
                    id=3,
                    question="物业费怎么交？",
                    alternatives=["管理费在哪交"] if flag else [],
                    answer="可以在微信公众号缴费。",
                    category="物业费" if flag else "",
                    active=flag,
                    updated_by="小林" if flag else "",
                    updated_at=NOW,
                ),
                "entry_id": 3,
                "faq_q": "物业费怎么交？",
                "faq_a": "可以在微信公众号缴费。",
                "faq_active": flag,
                "faq_misses": [("游泳池什么时候开放", 4)] if flag else [],
                "faq_days": 7,
                "faq_form": "edit" if flag else "show",
                "faq_problem": "no_bar" if flag else "no_question",
                "faq_problems": ["question_too_long", "answer_too_long", "dates_reversed"]
                if flag
                else ["missing_question", "missing_answer"],
                "kb_max_question": 100,
                "kb_max_answer": 600,
                # the knowledge base's operator commands (bot/kb_cli.py): import report, kb ask
                "kb_report": SimpleNamespace(
                    encoding_error=False,
                    header_error="",
                    errors=[
                        (3, "missing_answer", ""),
                        (4, "bad_date", "2026/13/01"),
                        (5, "duplicate_question", "2"),
                        (6, "answer_too_long", "720"),
                    ]
                    if flag
                    else [],
                    rows=46,
                    added=40,
                    updated=2,
                    unchanged=4,
                    retired=25 if flag else 0,
                    retired_examples=[(7, "物业费怎么交？")] if flag else [],
                ),
                "kb_matches": [
                    SimpleNamespace(entry_id=1, question="物业费怎么交？", category="缴费", score=s)
                    for s in ((0.82, 0.51, 0.3) if flag else (0.5, 0.2))
                ],
                "in_hours": flag,
                "minutes": 3,
                "reply_by": NOW,
                "topic": "complaint" if flag else "",
                "items": [t] if flag else [],
                "total": 1 if flag else 0,
                "page": 1,
                "pages": 1,
                "photo": flag,
                "number": t.number,
                "emergency": flag,
                "role": "owner" if flag else "tenant",
                "summary": "楼道灯不亮",
                "database": "data/wuye.sqlite3",
                "path": "bot/samples/owners.csv",
                "units": 9,
                "owners": 8,
                "report": report,
                "findings": [("sample", Finding("样例", "样例改写", 0))] if not flag else [],
                "issues": [Finding("这个", "这个改写", 0)],
                "handler": "小林" if flag else "",
                "work": ["工程部张师傅 今天15:00前"] if flag else [],
                "last_event": "已到场" if flag else "",
                "reason": "already_taken" if flag else "state_closed",
                "workers": flag,
                "worker": "张师傅",
                "roster": "agents" if flag else "workers",
                "agent": "小林",
                "supervisors": ["周主管"] if flag else [],
                # notices (公告, issue 12): one notice as dialogs/notices.py `context` makes it
                "notice": _notice(flag),
                "notices": [{**_notice(flag), "told": 12, "state": "active", "created_by": "小林"}]
                if flag
                else [],
                "reach": 12 if flag else 0,
                "held_until": NOW + timedelta(hours=18) if flag else None,
                "early": flag,
                "old_end": NOW + timedelta(hours=4),
                "change": "extended" if flag else "ended",
                "known_buildings": ["1", "3", "5"],
                "bad_buildings": ["9"] if flag else [],
                "bad_time": "明天下午三点半" if flag else "",
                "quiet": "21:00-08:00",
                "options": ["停水", "停电"],
                "hours": 2,
                "kind": "text" if flag else "recheck",
                "text": "水管还在漏 <急>",
                "phone": "13800000301",
                "by": "owner" if flag else "agent",
                "tickets": [t],
                "due": NOW,
                "step": "维修人员已出发",
                "step_code": "departed",
                "note": "已更换接头",
                "reminder": not flag,
                "first": flag,
                "commented": flag,
                "deadline": NOW,
                "new_time": NOW,
                "mood_word": "不满",
                "sv": SimpleNamespace(
                    overall=2,
                    speed=3,
                    attitude=1,
                    solved=False if flag else None,
                    comment="师傅迟到" if flag else "",
                ),
                "ok": flag,
                "op": "add" if flag else "list",
                "item": SimpleNamespace(
                    name="小林",
                    role="agent",
                    telegram_user_id="7001",
                    department="工程部",
                    phone="139",
                    id=1,
                ),
                "agent_list": [
                    SimpleNamespace(
                        name="小林", role="supervisor", telegram_user_id="7001", on_duty=True
                    )
                ],
                "worker_list": [
                    SimpleNamespace(
                        id=1,
                        department="工程部",
                        name="张师傅",
                        phone="139",
                        telegram_user_id="7002" if flag else None,
                    )
                ],
                "server": "https://api.telegram.org",
                "attempt": 2,
                "seconds": 4,
                "error": "ClientConnectorError: Cannot connect to host",
                "url": "sqlite+aiosqlite:///data/wuye.sqlite3",
                "value": "12345",
                "departments": ["工程部", "保洁"],
                "res": UrgeResult("escalated" if flag else "sent", t.number, "小林", flag, 5),
                # proving a phone by SMS (identify_sms.py) and the card's channel
                "reporter_verified": flag,
                "channel": "wecom" if flag else "telegram",
                "later": flag,
                "fresh": flag,
                "digits": flag,
                "tail": "0301",
                "until": NOW + timedelta(minutes=5),
                "next_at": NOW + timedelta(minutes=1),
                "tries": 5,
                "tries_left": 4 if flag else 1,
                # one fault, one ticket (issue 12): the shared fault, merges and splits
                "reporters": 3 if flag else 1,
                "merged_into": "BX-20261123-0001" if flag else "",
                "arrive_by": NOW + timedelta(hours=4) if flag else None,
                "already": not flag,
                "into": "BX-20261123-0001",
                "was": "BX-20261123-0001",
                "moved": 2,
                "new_number": "BX-20261123-0008",
                "refusal": "supervisor_only" if flag else "ambiguous",
                "candidates": [
                    SimpleNamespace(salutation="王女士", phone_tail="0301"),
                    SimpleNamespace(salutation="", phone_tail="0302"),
                ],
                "status": "done",
                # the agents' group's report (bot/reports/pack.py `headline`)
                "figures": _figures(flag),
            }
        )
    return out


def _figures(flag: bool) -> dict[str, Any]:
    share = {"met": 3, "n": 4, "pct": 75} if flag else {"met": 0, "n": 0, "pct": None}
    return {
        "weekly": flag,
        "start": NOW - timedelta(days=7),
        "end": NOW,
        "created": 12,
        "closed": 9,
        "backlog": 3,
        "overdue": 1 if flag else 0,
        "promises": {"contact": share, "arrive": share, "complete": share},
        "completed": 8 if flag else 0,
        "first_fix_pct": 88 if flag else None,
        "reopen_pct": 13 if flag else None,
        "urges": 2,
        "escalations": 1,
        "surveys_sent": 6,
        "surveys_answered": 4,
        "overall": 4.5 if flag else None,
        "bad_reviews": 1 if flag else 0,
        "callbacks": 1 if flag else 0,
        "callbacks_in_time": 1 if flag else 0,
        "bot_answered": 5 if flag else 0,
        "consultations": 7 if flag else 0,
        "bot_pct": 71 if flag else None,
        "attention": [
            {"name": "小林", "held": 2, "late": 1},
            {"name": "小王", "held": 0, "late": 1},
        ]
        if flag
        else [],
    }


def _plain(html: str) -> str:
    """What the reader sees of a rendered message: tags dropped, entities decoded."""
    return unescape(re.sub(r"<[^<>]+>", "", html))


def _data_strings() -> list[tuple[str, str]]:
    """Strings from the data files that end up in messages (plans, reasons, steps, rewrites)."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k != "pattern":  # regular expressions, not words
                    walk(f"{prefix}.{k}", v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{prefix}.{i}", v)
        elif isinstance(value, str):
            out.append((prefix, value))

    for name in MESSAGE_DATA_FILES:
        with open(DATA_DIR / name, "rb") as fh:
            walk(name, tomllib.load(fh))
    return out


def lint_all(texts: Texts) -> tuple[int, list[tuple[str, Finding]]]:
    """Render every template with both sample contexts and run the polite-language checker and
    the typography checks (punctuation, salutation as a third person, doubled words) over it;
    the button labels and the data files' message strings too. Returns (count, findings)."""
    from .polite import check
    from .typography import check_typography

    found: list[tuple[str, Finding]] = []

    def add(name: str, findings: list[Finding]) -> None:
        for f in findings:
            if (name, f) not in found:
                found.append((name, f))

    names = [n for n in texts.template_names() if n != "cli_lint_report"]
    for name in names:
        for ctx in contexts():
            html = texts.render(name, ctx)
            add(name, check(html))
            add(name, check_typography(_plain(html), ctx["salutation"]))
    for label_key, label in texts.labels.items():
        add(f"labels.toml:{label_key}", check(label) + check_typography(label))
    for where, value in _data_strings():
        add(where, check_typography(value))
    return len(names), found
