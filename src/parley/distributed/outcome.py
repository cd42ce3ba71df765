"""What ``run_many`` returns for each task."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ChatOutcome:
    """The outcome of one task's chat, in task order. ``status``: finished (the chat ended),
    failed (the chat raised: ``error`` says why) or lost (its worker died too often)."""

    index: int
    run_id: str
    status: str
    summary: Any = None
    usage: dict = field(default_factory=dict)
    """prompt_tokens, completion_tokens, total_tokens over the whole run (resumed parts included)."""
    cost: float = 0.0
    error: str | None = None
    attempts: int = 1
    """How many workers ran it (more than 1: it was resumed after a worker died)."""

    def to_dict(self) -> dict:
        return asdict(self)

    def same_result(self) -> tuple:
        """What two runs of the same task on a deterministic model agree on (not the run id)."""
        return (self.index, self.status, self.summary, self.usage, round(self.cost, 9), self.error)


def usage_of(cost: dict) -> tuple[dict, float]:
    """Token counts and cost from a ChatResult's ``cost`` (all models, cached calls included)."""
    totals = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    including = cost.get("usage_including_cached_inference") or {}
    for model, entry in including.items():
        if model == "total_cost" or not isinstance(entry, dict):
            continue
        for key in totals:
            totals[key] += int(entry.get(key, 0) or 0)
    return totals, float(including.get("total_cost", 0.0) or 0.0)
