"""Usage and cost accounting across agents."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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


def _format(summary: dict | None, usage_type: str) -> list[str]:
    """One summary in classic's words (``print_usage_summary``, kept line for line)."""
    if summary is None:
        return ["No actual cost incurred (all completions are using cache)."]
    word = "including" if usage_type == "total" else "excluding"
    lines = [f"Usage summary {word} cached usage: ", f"Total cost: {round(summary['total_cost'], 5)}"]
    for model, data in summary.items():
        if model == "total_cost":
            continue
        lines.append(
            f"* Model '{model}': cost: {round(data['cost'], 5)}, prompt_tokens: {data['prompt_tokens']}, "
            f"completion_tokens: {data['completion_tokens']}, total_tokens: {data['total_tokens']}"
        )
    return lines


def print_usage(actual: dict | None, total: dict | None, mode: str | Iterable[str] = ("actual", "total")) -> None:
    """A client's usage as classic's ``print_usage_summary`` prints it, to the current IOStream."""
    modes = [mode] if isinstance(mode, str) else list(mode)
    if not modes or len(modes) > 2 or not set(modes) <= {"actual", "total"}:
        raise ValueError(f'Invalid mode: {mode}, choose from "actual", "total", ["actual", "total"]')
    stream = get_default()
    if total is None:
        stream.print('No usage summary. Please call "create" first.', flush=True)
        return
    lines = ["-" * 100]
    if set(modes) == {"actual", "total"}:
        lines += _format(actual, "actual")
        lines.append("")
        if total != actual:
            lines += _format(total, "total")
        else:
            lines.append("All completions are non-cached: the total cost with cached completions is the same as actual cost.")
    else:
        lines += _format(actual if modes[0] == "actual" else total, modes[0])
    lines.append("-" * 100)
    stream.print("\n".join(lines), flush=True)
