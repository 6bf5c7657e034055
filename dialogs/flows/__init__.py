"""One flow per module; importing this package registers every step."""

from . import complaint, consult, handoff, human, identify, menu, mine, repair, start  # noqa: F401
