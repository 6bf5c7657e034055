"""The repositories, by aggregate, one writer each (kept as one import place for callers):
accounts and their conversations, the roster, tickets (the owner's side and the agents'
casework, both writing history through ticket_history), handoffs, and the owner registry."""

from .account_repo import AccountRepo, ConversationRow
from .case_repo import CaseRepo
from .handoff_repo import HandoffRepo
from .registry_repo import RegistryRepo
from .staff_repo import StaffRepo
from .ticket_repo import TicketRepo

__all__ = [
    "AccountRepo",
    "CaseRepo",
    "ConversationRow",
    "HandoffRepo",
    "RegistryRepo",
    "StaffRepo",
    "TicketRepo",
]
