"""One flow per module; importing this package registers every step."""

from . import (  # noqa: F401
    complaint,
    consult,
    emergency,
    handoff,
    human,
    identify,
    identify_person,
    identify_unit,
    menu,
    mine,
    repair,
    repair_emergency,
    repair_readback,
    start,
    survey,
)
