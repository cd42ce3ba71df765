"""Usage and cost accounting across agents."""

from __future__ import annotations

from typing import Any, Iterable

from .io import get_default


def _merge(into: dict, summary: dict | None) -> None:
    if not summary:
        return
    for model, data in summary.items():
        if model == "total_cost":
            into["total_cost"] += data
            continue
        target = into.setdefault(model, {"cost": 0.0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})
        for key in target:
            target[key] += data.get(key, 0)


def gather_usage_summary(agents: Iterable[Any]) -> dict:
    """Usage of the agents' models: including and excluding cached inference (classic shape)."""
    clients = [client for agent in agents if (client := getattr(agent, "client", None)) is not None]
    return usage_summary([c.total_usage_summary for c in clients], [c.actual_usage_summary for c in clients])


def usage_summary(totals: Iterable[dict | None], actuals: Iterable[dict | None]) -> dict:
    """Clients' total and actual usage summaries merged into the classic shape (``ChatResult.cost``)."""
    including = {"total_cost": 0.0}
    excluding = {"total_cost": 0.0}
    for summary in totals:
        _merge(including, summary)
    for summary in actuals:
        _merge(excluding, summary)
    return {"usage_including_cached_inference": including, "usage_excluding_cached_inference": excluding}


def _format(summary: dict | None, title: str) -> list[str]:
    if not summary:
        return [f"No {title.lower()} recorded."]
    lines = [f"{title}: total cost ${round(summary['total_cost'], 5)}"]
    for model, data in summary.items():
        if model == "total_cost":
            continue
        lines.append(
            f"* Model '{model}': cost ${round(data['cost'], 5)}, prompt_tokens {data['prompt_tokens']}, "
            f"completion_tokens {data['completion_tokens']}, total_tokens {data['total_tokens']}"
        )
    return lines


def print_usage(actual: dict | None, total: dict | None, mode: str | Iterable[str] = ("actual", "total")) -> None:
    modes = {mode} if isinstance(mode, str) else set(mode)
    unknown = modes - {"actual", "total"}
    if unknown:
        raise ValueError(f"mode must be 'actual', 'total' or both, got {sorted(unknown)}")
    stream = get_default()
    lines = ["-" * 100]
    if "total" in modes:
        lines += _format(total, "Usage summary including cached usage")
    if "actual" in modes:
        lines += _format(actual, "Usage summary excluding cached usage")
    lines.append("-" * 100)
    stream.print("\n".join(lines), flush=True)
