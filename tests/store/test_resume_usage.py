"""Usage and cost after a resume: the calls made before the interruption count, once."""

from __future__ import annotations

import pytest

from parley import ConversableAgent, ScriptedModelClient
from parley.store import RunStore


def pair(fail_at: int | None = None) -> tuple[ConversableAgent, ConversableAgent]:
    """Two agents whose replies depend on the request only; b's model fails on its
    ``fail_at``-th call (a short provider outage mid-run), and only that one."""
    calls = {"b": 0}

    def config(tag: str):
        def reply(request):
            if tag == "b":
                calls["b"] += 1
                if calls["b"] == fail_at:
                    raise RuntimeError("model down")
            return f"{tag} answers {len(request.messages)} messages"
        # A cost a binary float sums exactly, whatever the order of the calls.
        client = ScriptedModelClient(reply, model=f"scripted-{tag}", cost_per_call=0.25)
        return {"config_list": [{"model": f"scripted-{tag}", "client": client}]}

    return (ConversableAgent("a", llm_config=config("a"), human_input_mode="NEVER"),
            ConversableAgent("b", llm_config=config("b"), human_input_mode="NEVER", max_consecutive_auto_reply=6))


def failed_run(store: RunStore) -> tuple[str, tuple[ConversableAgent, ConversableAgent]]:
    a, b = pair(fail_at=4)
    with pytest.raises(RuntimeError, match="model down"), store.new_run() as run:
        a.initiate_chat(b, message="start", silent=True, summary_method="reflection_with_llm")
    return run.id, (a, b)


def test_agents_rebuilt_for_a_resume_report_the_whole_runs_usage(sqlite_url):
    a, b = pair()
    expected = a.initiate_chat(b, message="start", silent=True, summary_method="reflection_with_llm")
    with RunStore(sqlite_url) as store:
        run_id, _ = failed_run(store)
        assert len(store.records(run_id, "model_calls")) == 6  # a's three, b's three (its fourth failed)
        fresh = pair()  # as in a new process
        result = store.resume(run_id, list(fresh), summary_method="reflection_with_llm", silent=True)
    assert result.summary == expected.summary
    assert result.cost == expected.cost
    # b: 6 replies and the summary (the recipient's model summarises), 3 of them before the failure.
    assert result.cost["usage_including_cached_inference"]["scripted-b"]["cost"] == 1.75
    for resumed, uninterrupted in zip(fresh, (a, b)):
        assert resumed.get_total_usage() == uninterrupted.get_total_usage(), resumed.name
        assert resumed.get_actual_usage() == uninterrupted.get_actual_usage(), resumed.name


def test_agents_resumed_in_the_process_that_ran_them_keep_their_own_usage(sqlite_url):
    a, b = pair()
    expected = a.initiate_chat(b, message="start", silent=True)
    with RunStore(sqlite_url) as store:
        run_id, (a2, b2) = failed_run(store)
        result = store.resume(run_id, [a2, b2], silent=True)
    assert result.cost == expected.cost  # not the calls before the failure twice
