"""python -m bot [run|console|migrate|import-owners FILE [--replace [--yes]]|lint-templates|
agents …|workers …|kb import|export|ask …|notice add|list|end …|
report --from --to …]

With no command: the bot when BOT_TOKEN is set (long polling, or webhook mode when WEBHOOK_URL
is set), with WeChat beside it when the WECOM_* settings are set; WeChat alone with those and no
token; the offline console chat otherwise.
Each command imports only what it needs: the ones that need no Telegram never import aiogram.
A failure the operator can fix is one line (templates_zh/cli/) and a non-zero exit; the
traceback is shown only with LOG_LEVEL=DEBUG."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from .log_redaction import redact, setup_logging
from .settings import Settings, SettingsError

log = logging.getLogger("bot")

# commands whose output is the terminal's content: library chatter stays out of it
QUIET = (
    "console",
    "import-owners",
    "lint-templates",
    "migrate",
    "agents",
    "workers",
    "notice",
    "kb",
    "report",
)


def _parser() -> argparse.ArgumentParser:
    from .kb_cli import add_parsers as add_kb_parsers
    from .notice_cli import add_parsers as add_notice_parsers
    from .reports.cli import add_parsers as add_report_parsers
    from .roster_cli import add_parsers

    p = argparse.ArgumentParser(prog="python -m bot")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("run", help="long polling, or webhook mode with WEBHOOK_URL (needs BOT_TOKEN)")
    sub.add_parser("console", help="offline console chat on its own database")
    sub.add_parser("migrate", help="apply database migrations")
    imp = sub.add_parser("import-owners", help="load the owner registry from CSV")
    imp.add_argument("file")
    imp.add_argument(
        "--replace",
        action="store_true",
        help="retire owners missing from the file (their tickets stay); asks to confirm",
    )
    imp.add_argument("--yes", action="store_true", help="with --replace: do not ask")
    sub.add_parser("lint-templates", help="check every template against the polite-language rules")
    add_parsers(sub)
    add_notice_parsers(sub)
    add_kb_parsers(sub)
    add_report_parsers(sub)
    return p


def _robust_streams() -> None:
    """A pasted text cut mid-character must not stop a command: undecodable input becomes U+FFFD
    and output that cannot be encoded is replaced rather than raised."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):  # a closed or detached stream: nothing to protect
                pass


def _dispatch(command: str, args: argparse.Namespace, settings: Settings) -> int:
    if command == "run":
        if not settings.bot_token.get_secret_value():
            if settings.wecom_enabled:
                from .wecom.serve import run_wecom  # WeChat alone (README: WeChat)

                asyncio.run(run_wecom(settings))
                return 0
            from .cli import StartupError

            raise StartupError("cli_token_missing", code=2)
        from .polling import run_polling

        asyncio.run(run_polling(settings))
        return 0
    if command == "console":
        from .console import console_command

        asyncio.run(console_command(settings))
        return 0
    if command == "migrate":
        from .cli import migrate_database

        asyncio.run(migrate_database(settings.database_url))
        return 0
    if command == "import-owners":
        from .cli import import_owners_command

        return asyncio.run(import_owners_command(settings, args.file, args.replace, args.yes))
    if command == "lint-templates":
        from .cli import lint_command

        return lint_command(settings)
    if command in ("agents", "workers"):
        from .roster_cli import run

        return asyncio.run(run(settings, args))
    if command == "kb":
        from .kb_cli import run as run_kb

        return asyncio.run(run_kb(settings, args))
    if command == "report":
        from .reports.cli import report_command

        return report_command(settings, args)
    if command == "notice":
        from .notice_cli import run as run_notice

        return asyncio.run(run_notice(settings, args))
    return 2


def _settings_invalid(e: SettingsError) -> int:
    """The environment named a value that cannot be used: one line naming each variable."""
    from dialogs.texts import Texts

    from .cli import render

    print(render(Texts(), "cli_settings_invalid", {"error": str(e)}), file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    _robust_streams()
    args = _parser().parse_args(argv)
    try:
        settings = Settings.load()
    except SettingsError as e:
        return _settings_invalid(e)
    token = settings.bot_token.get_secret_value()
    serving = bool(token) or settings.wecom_enabled
    quiet = args.command in QUIET or (args.command is None and not serving)
    setup_logging(
        "WARNING" if quiet and settings.log_level == "INFO" else settings.log_level, token
    )
    command = args.command or ("run" if serving else "console")
    debug = settings.log_level == "DEBUG"
    try:
        return _dispatch(command, args, settings)
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        from dialogs.policy import PolicyError
        from dialogs.texts import Texts

        from .cli import StartupError, render

        if debug:
            log.exception("%s failed", command)
        texts = Texts(settings.service_tz)
        if isinstance(e, StartupError):
            print(render(texts, e.template, e.context), file=sys.stderr)
            return e.code
        if isinstance(e, PolicyError):  # an operator's edit of policy.toml, each bad key named
            error = "; ".join(e.problems)
            print(
                render(texts, "cli_policy_invalid", {"path": e.path, "error": error}),
                file=sys.stderr,
            )
            return 2
        # not foreseen: still one line, the cause named; LOG_LEVEL=DEBUG shows where
        error = redact(f"{type(e).__name__}: {e}".splitlines()[0][:300], token)
        print(render(texts, "cli_unexpected", {"error": error}), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
