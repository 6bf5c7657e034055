"""Telegram transport and processes: settings, factory, routers, outbox sender, console."""
