"""Classic module path ``autogen.exception_utils``: parley's exceptions under their classic names."""

from .errors import (
    AgentNameConflict,
    InvalidCarryOverType,
    ModelToolNotSupportedError,
    NoEligibleSpeaker,
    SenderRequired,
    UndefinedNextAgent,
)

__all__ = [
    "AgentNameConflict",
    "InvalidCarryOverType",
    "ModelToolNotSupportedError",
    "NoEligibleSpeaker",
    "SenderRequired",
    "UndefinedNextAgent",
]
