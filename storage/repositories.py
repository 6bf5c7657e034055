"""The repositories, by what they are for (kept as one import place for callers)."""

from .account_repo import AccountRepo, ConversationRow, HandoffRepo
from .registry_repo import RegistryRepo
from .ticket_repo import OPEN_STATES, TicketRepo

__all__ = [
    "OPEN_STATES",
    "AccountRepo",
    "ConversationRow",
    "HandoffRepo",
    "RegistryRepo",
    "TicketRepo",
]
