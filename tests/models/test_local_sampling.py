"""The local model's sampler and its repetition cut, run for real on the embedded model.

The sampler's shortcuts (a draft sampled without the grammar, a shortlist when the grammar
rejects it) must choose exactly the tokens a sampler that applies the grammar to the whole
vocabulary at every token chooses."""

from __future__ import annotations

import itertools

import pytest

import parley

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'parley[local]')")

from parley.agents import reply_protocol as rp
from parley.models import local_sampling
from parley.models.local import LocalModelClient
from parley.models.protocol import ModelConfigError, ModelRequest

pytestmark = pytest.mark.local_model

PROMPTS = ["Count the words in the sentence 'the quick brown fox'.", "Print the first ten square numbers."]


def ask(text: str) -> list[dict]:
    return [{"role": "system", "content": "You are a helpful AI assistant."}, {"role": "user", "content": text}]


class FullPassSampler(local_sampling.TokenSampler):
    """The reference: the grammar applied to every candidate at every token, no shortcut."""

    def _allowed(self, grammar, token):  # type: ignore[no-untyped-def]
        return False

    def _greedy_from_shortlist(self, grammar, logits):  # type: ignore[no-untyped-def]
        return None


def fresh(client: LocalModelClient) -> None:
    """Evaluate the next prompt from scratch: a prompt evaluated in one batch or reused from the
    cache gives slightly different logits, and greedy decoding may then part ways."""
    model = client.load()
    model.llama.reset()
    model._saved.clear()


async def create(client: LocalModelClient, request: ModelRequest):  # type: ignore[no-untyped-def]
    fresh(client)
    return await client.create(request)


async def generate(client: LocalModelClient, prompt: str, params: dict, sampler: type) -> str:
    fresh(client)
    original = local_sampling.TokenSampler
    local_sampling.TokenSampler = sampler  # type: ignore[misc]
    try:
        response = await client.create(ModelRequest(ask(prompt), response_format=rp.request_format(rp.CODE, local=True),
                                                     params=params))
    finally:
        local_sampling.TokenSampler = original  # type: ignore[misc]
    return response.message["content"]


@pytest.mark.parametrize("params", [
    {"temperature": 0.0, "repeat_penalty": 1.0},
    {"temperature": 0.0, "repeat_penalty": 1.3},  # the chain rebuilt after a rejected draft keeps its penalties
    {"temperature": 0.8, "seed": 7},
])
async def test_the_shortcuts_choose_what_the_full_grammar_pass_chooses(params: dict) -> None:
    client = LocalModelClient({"api_type": "local", "max_tokens": 48})
    for prompt in PROMPTS:
        fast = await generate(client, prompt, params, local_sampling.TokenSampler)
        full = await generate(client, prompt, params, FullPassSampler)
        if params["temperature"] == 0.0:
            assert fast == full  # greedy: the same tokens
        # Sampled: the random streams differ after a rejection; both must hold the grammar.
        assert rp.parses_as(rp.complete_shape(fast, rp.CODE), rp.CODE) and fast.startswith("```")


async def test_text_that_repeats_itself_is_cut_before_the_repeat() -> None:
    client = LocalModelClient({"api_type": "local", "temperature": 0.0, "max_tokens": 160, "repeat_penalty": 1.0})
    request = [{"role": "system", "content": parley.AssistantAgent.DEFAULT_SYSTEM_MESSAGE},
               {"role": "user", "content": "Count the words in the sentence 'the quick brown fox'."}]
    uncut = await create(client, ModelRequest(request, params={"repetition_cut": 0}))
    cut = await create(client, ModelRequest(request, params={"repetition_cut": 12}))
    model = client.load()

    def repeats(text: str, span: int) -> bool:
        ids = model.llama.tokenize(text.encode(), add_bos=False)
        runs = [tuple(ids[i:i + span]) for i in range(len(ids) - span + 1)]
        return len(set(runs)) < len(runs)

    assert repeats(uncut.message["content"], 12)  # the model does repeat itself here
    text = cut.message["content"]
    assert text and uncut.message["content"].startswith(text)
    assert not repeats(text, 12)
    assert cut.raw.finish_reason == "stop" and cut.completion_tokens < uncut.completion_tokens


async def test_a_copy_ban_keeps_runs_of_the_prompt_out_of_the_reply() -> None:
    client = LocalModelClient({"api_type": "local", "temperature": 0.0, "max_tokens": 60})
    passage = ("Large language models help people write drafts, summarize long documents and plan their work, "
               "but they make mistakes that a careful reader has to check.")
    request = ask(f"Here is a text:\n\n{passage}\n\nWrite the text again.")
    model = client.load()
    prompt = model.tokenize_chat(request)

    def copied_runs(text: str, span: int) -> int:
        ids = model.llama.tokenize(text.encode(), add_bos=False)
        seen = {tuple(prompt[i:i + span]) for i in range(len(prompt) - span + 1)}
        return sum(tuple(ids[i:i + span]) in seen for i in range(len(ids) - span + 1))

    free = await create(client, ModelRequest(request, params={"copy_ban": 0}))
    banned = await create(client, ModelRequest(request, params={"copy_ban": 6}))
    assert copied_runs(free.message["content"], 6) > 3  # asked to, the model copies
    assert banned.message["content"].strip()
    # Tokenized alone the reply may split its first word differently; the runs inside it are its own.
    assert copied_runs(banned.message["content"], 6) <= 1


async def test_constrained_text_is_not_cut() -> None:
    # Code repeats itself legitimately: under a grammar the cut changes nothing.
    client = LocalModelClient({"api_type": "local", "temperature": 0.0, "max_tokens": 120, "repeat_penalty": 1.0})
    request = ask("Write a script that prints 'a', then 'b', then 'c', each with its own print call.")
    replies = []
    for params in ({}, {"repetition_cut": 2}):
        response = await create(client, ModelRequest(request, response_format=rp.request_format(rp.CODE, local=True),
                                                     params=params))
        replies.append(response.message["content"])
    model = client.load()
    ids = model.llama.tokenize(replies[0].encode(), add_bos=False)
    pairs = list(itertools.pairwise(ids))
    assert len(set(pairs)) < len(pairs)  # without the grammar, the cut would have ended it early
    assert replies[0] == replies[1]


async def test_a_copy_ban_yields_to_a_grammar_that_allows_nothing_else() -> None:
    # The grammar forces the exact words of the prompt; the ban would exclude each of them.
    client = LocalModelClient({"api_type": "local", "temperature": 0.0, "max_tokens": 40})
    words = "Introduction to the productivity report for the team"
    grammar = {"type": "grammar", "grammar": f'root ::= "{words}\\n" [A-Z] [^\\n]+'}
    response = await create(client, ModelRequest(ask(f"Write a heading: {words}"), response_format=grammar,
                                                 params={"copy_ban": 3}))
    assert response.message["content"].startswith(words + "\n")


@pytest.mark.parametrize("key", ["repetition_cut", "copy_ban"])
def test_a_bad_repetition_option_names_the_field(key: str) -> None:
    with pytest.raises(ModelConfigError, match=f"'{key}'"):
        LocalModelClient({"api_type": "local", key: -1})
