"""The local model's token sampler on synthetic logits (``parley.models.local_sampling``).

The embedded model is loaded with a tiny context and one token evaluated; each test then writes
its own logits into that context, so every choice the sampler makes is known in advance. The
grammar sampler and the sampling chain are llama.cpp's own. No thread is started (the mutation
run forks after these tests)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'parley[local]')")

from parley.models.local_sampling import GrammarRejectedError, TokenSampler

GREEDY = {"temperature": 0.0, "top_k": 40, "top_p": 1.0, "min_p": 0.0, "repeat_penalty": 1.0}


@pytest.fixture(scope="module")
def llama() -> Any:
    from llama_cpp import Llama

    from parley.models.local import default_model_path
    from parley.models.protocol import MissingPackageError

    try:
        path = default_model_path()
    except MissingPackageError as missing:
        pytest.skip(str(missing))
    model = Llama(model_path=path, n_ctx=16, n_batch=8, n_threads=1, n_threads_batch=1, verbose=False)
    model.eval([model.token_bos()])
    yield model
    model.close()


def token(llama: Any, text: str) -> int:
    ids = llama.tokenize(text.encode(), add_bos=False)
    assert len(ids) == 1, text
    return int(ids[0])


def set_logits(llama: Any, values: dict[str, float], rest: float = -20.0) -> Any:
    """Every token gets ``rest``; the tokens of ``values`` (single-token texts) their own logit."""
    import numpy as np
    from llama_cpp import llama_cpp as C

    logits = np.ctypeslib.as_array(C.llama_get_logits_ith(llama._ctx.ctx, -1), shape=(llama.n_vocab(),))
    logits[:] = rest
    for text, value in values.items():
        logits[token(llama, text)] = value
    return logits


def sampler(llama: Any, grammar: str | None = None, **settings: Any) -> TokenSampler:
    return TokenSampler(llama, **{**GREEDY, **settings}, grammar=grammar)


def test_without_a_grammar_the_best_token_that_is_not_excluded(llama: Any) -> None:
    s = sampler(llama)
    set_logits(llama, {"a": 5.0, "b": 4.0, "c": 3.0})
    assert s.sample() == token(llama, "a")
    set_logits(llama, {"a": 5.0, "b": 4.0, "c": 3.0})
    assert s.sample([token(llama, "a")]) == token(llama, "b")
    set_logits(llama, {"a": 5.0, "b": 4.0, "c": 3.0})
    assert s.sample([token(llama, "a"), token(llama, "b")]) == token(llama, "c")
    set_logits(llama, {"a": 5.0, "d": 4.9})  # no frequency or presence penalty unless asked for
    assert s.sample() == token(llama, "a")
    s.close()


def test_excluded_tokens_are_never_drawn(llama: Any) -> None:
    a, b = token(llama, "a"), token(llama, "b")
    for seed in range(8):
        s = sampler(llama, temperature=1.0, seed=seed)
        set_logits(llama, {"a": 5.0, "b": 4.9, "c": 4.8})
        assert s.sample([a, b]) == token(llama, "c")
        s.close()


def test_a_draft_the_grammar_allows_is_kept_and_advances_the_grammar(llama: Any) -> None:
    s = sampler(llama, 'root ::= "a" "b"')
    set_logits(llama, {"a": 5.0, "b": 4.0})
    assert s.sample() == token(llama, "a")
    set_logits(llama, {"a": 5.0, "b": 4.0})  # "a" again is the draft; the grammar now wants "b"
    assert s.sample() == token(llama, "b")
    s.close()


@pytest.mark.parametrize("settings", [{}, {"repeat_penalty": 0.9}, {"temperature": 1.0, "seed": 3}])
def test_a_rejected_draft_gives_the_best_token_the_grammar_allows(llama: Any, settings: dict) -> None:
    # Greedy (the shortlist), greedy with a penalty that may raise logits (the full pass), sampled.
    s = sampler(llama, 'root ::= "b" | "c"', **settings)
    set_logits(llama, {"a": 60.0, "c": 50.0, "b": 30.0})
    assert s.sample() == token(llama, "c")
    s.close()


def test_the_allowed_token_may_lie_outside_the_shortlist(llama: Any) -> None:
    s = sampler(llama, 'root ::= "c"')
    logits = set_logits(llama, {"c": 1.0})
    logits[1000:1200] = 5.0  # 200 tokens the grammar forbids (words), all more likely than "c"
    assert token(llama, "c") < 1000
    assert s.sample() == token(llama, "c")
    s.close()


def test_the_shortlist_choice_is_the_greedy_one(llama: Any) -> None:
    s = sampler(llama, 'root ::= [a-z]')
    logits = set_logits(llama, {"x": 7.0, "y": 8.0, "z": 6.0})
    logits[1000:1050] = 9.0  # more likely, forbidden (words of more than one letter)
    assert s.sample() == token(llama, "y")
    s.close()


def full_pass_marker(s: TokenSampler) -> Any:
    """The sampler's whole-vocabulary candidate array, filled with a value no pass writes."""
    data = s._candidates.candidates_data
    data.logit[:] = 123.0
    return data


def test_a_greedy_rejection_answered_in_the_shortlist_skips_the_full_pass(llama: Any) -> None:
    # The point of the shortlist: the grammar is asked about 64 tokens, not the whole vocabulary.
    for settings in ({}, {"repeat_penalty": 1.3, "frequency_penalty": 0.5, "presence_penalty": 0.5}):
        s = sampler(llama, 'root ::= [a-z]', **settings)
        data = full_pass_marker(s)
        logits = set_logits(llama, {"x": 7.0, "y": 8.0})
        logits[1000:1050] = 9.0
        assert s.sample() == token(llama, "y")
        assert (data.logit == 123.0).all()
        s.close()


@pytest.mark.parametrize("settings", [{"temperature": 0.5, "seed": 1}, {"repeat_penalty": 0.9},
                                      {"frequency_penalty": -0.5}, {"presence_penalty": -0.5}])
def test_without_greedy_decoding_or_with_a_penalty_that_raises_logits_the_full_pass_is_used(
        llama: Any, settings: dict) -> None:
    s = sampler(llama, 'root ::= [a-z]', **settings)
    data = full_pass_marker(s)
    logits = set_logits(llama, {"x": 7.0, "y": 30.0})
    logits[1000:1050] = 40.0
    assert s.sample() == token(llama, "y")
    assert not (data.logit == 123.0).all()
    s.close()


def test_excluded_tokens_are_avoided_unless_the_grammar_allows_nothing_else(llama: Any) -> None:
    b, c = token(llama, "b"), token(llama, "c")
    s = sampler(llama, 'root ::= "b" | "c"')
    set_logits(llama, {"b": 5.0, "c": 4.0})
    assert s.sample([b]) == c
    s.close()
    s = sampler(llama, 'root ::= "b"')
    set_logits(llama, {"a": 6.0, "b": 5.0, "c": 4.0})
    assert s.sample([b]) == b  # the grammar comes first
    s.close()
    s = sampler(llama, 'root ::= "b" | "c"', temperature=1.0, seed=5)
    set_logits(llama, {"a": 60.0, "b": 50.0, "c": 20.0})
    assert s.sample([b]) == c


def test_the_chain_rebuilt_after_a_rejection_keeps_the_penalty_history(llama: Any) -> None:
    a, b, c = token(llama, "a"), token(llama, "b"), token(llama, "c")
    s = sampler(llama, 'root ::= "a" [bc] [abc]', repeat_penalty=2.0)
    set_logits(llama, {"a": 5.0, "b": 1.0})
    assert s.sample() == a
    set_logits(llama, {"a": 10.0, "b": 3.0, "c": 4.0})  # "a" (10 / 2) is the draft; the grammar refuses it
    assert s.sample() == c
    set_logits(llama, {"a": 3.0, "b": 2.4, "c": 4.0})  # "a" and "c" were chosen: 1.5 and 2 against 2.4
    assert s.sample() == b
    s.close()


def test_a_rejected_draft_leaves_no_trace_in_the_penalties(llama: Any) -> None:
    a, b = token(llama, "a"), token(llama, "b")
    for settings in ({}, {"temperature": 1.0, "top_k": 1, "seed": 9}):
        s = sampler(llama, 'root ::= [bc] [ab]', frequency_penalty=1.0, **settings)
        set_logits(llama, {"a": 5.0, "b": 4.0})
        assert s.sample() == b  # the draft "a" was refused
        set_logits(llama, {"a": 4.2, "b": 4.5})  # "b" once: 3.5; "a" never chosen: 4.2
        assert s.sample() == a
        s.close()


def test_a_negative_penalty_skips_the_shortlist(llama: Any) -> None:
    # A negative presence penalty raises the logit of a token chosen before; such a token outside
    # the shortlist can beat every token in it, so the shortlist would choose wrongly.
    x = token(llama, "x")
    s = sampler(llama, 'root ::= "x" ("x" | "z")', presence_penalty=-30.0)
    set_logits(llama, {"x": 5.0})
    assert s.sample() == x
    logits = set_logits(llama, {"x": 1.0, "z": 20.0})
    logits[1000:1062] = 40.0  # the draft is one of these (forbidden)
    logits[1062] = 10.0  # the shortlist: these 63 and "z"; "x" (1 + 30 = 31) is outside it, and beats "z"
    assert s.sample() == x
    s.close()


def test_top_k_top_p_and_min_p_narrow_the_draw(llama: Any) -> None:
    a, b = token(llama, "a"), token(llama, "b")
    for narrow in ({"top_k": 1}, {"top_p": 0.05}, {"min_p": 0.99}):
        drawn = set()
        for seed in range(12):
            s = sampler(llama, **{"temperature": 1.0, "top_k": 40, "top_p": 1.0, "min_p": 0.0, "seed": seed, **narrow})
            set_logits(llama, {"a": 1.0, "b": 0.9})
            drawn.add(s.sample())
            s.close()
        assert drawn == {a}, narrow
    drawn = set()
    for seed in range(12):
        s = sampler(llama, temperature=1.0, seed=seed)
        set_logits(llama, {"a": 1.0, "b": 0.9})
        drawn.add(s.sample())
        s.close()
    assert drawn == {a, b}


def test_a_seeded_run_is_reproducible_through_rejections(llama: Any) -> None:
    runs = []
    for _ in range(2):
        s = sampler(llama, 'root ::= [b-z]+', temperature=1.0, seed=11)
        chosen = []
        for _ in range(6):
            set_logits(llama, {"a": 9.0}, rest=0.0)  # the draft is "a", always refused
            chosen.append(s.sample())
        runs.append(chosen)
        s.close()
    assert runs[0] == runs[1]


def test_a_grammar_llama_cpp_cannot_parse_is_refused_with_its_text(llama: Any) -> None:
    with pytest.raises(GrammarRejectedError, match="root ::= \\("):
        sampler(llama, "root ::= (")


def test_a_tie_at_the_edge_of_the_shortlist_goes_to_the_full_pass(llama: Any) -> None:
    # Every letter has the same logit; only one of them makes it into the shortlist, at its lowest
    # logit. A letter left out ties with it, so the full pass decides: the first letter in vocabulary
    # order, as greedy decoding over the whole vocabulary chooses.
    s = sampler(llama, 'root ::= [a-z]')
    logits = set_logits(llama, {})
    logits[1000:1063] = 40.0
    letters = [token(llama, letter) for letter in "abcdefghijklmnopqrstuvwxyz"]
    logits[letters] = 5.0
    assert s.sample() == min(letters)
    s.close()


@pytest.mark.parametrize("seed", range(4))
def test_on_random_logits_the_shortcut_chooses_the_best_allowed_token(llama: Any, seed: int) -> None:
    import numpy as np

    letters = [token(llama, letter) for letter in "abcdefghijklmnopqrstuvwxyz"]
    rng = np.random.default_rng(seed)
    s = sampler(llama, 'root ::= [a-z]')
    data = full_pass_marker(s)
    logits = set_logits(llama, {})
    logits[:] = rng.normal(0.0, 1.0, logits.shape)
    logits[letters] = rng.normal(3.6, 0.4, len(letters))  # among the most likely tokens, some in the shortlist
    logits[1000:1010] = 10.0  # the draft: a word, refused
    assert s.sample() == letters[int(np.argmax(logits[letters]))]
    assert (data.logit == 123.0).all()  # the best letter is among the 64 most likely tokens
    s.close()
