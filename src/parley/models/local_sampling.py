"""Token sampling for the local model, with a grammar checked lazily.

llama-cpp-python puts the grammar first in its sampler chain, so every token pays for matching
the whole 49k-token vocabulary against the grammar (it doubled the time per token for
SmolLM2-135M). Like llama.cpp's own ``common_sampler``, this sampler first samples without the
grammar and asks the grammar about that one token; only when the grammar rejects it does it
resample with the grammar applied to every candidate. The output is the same grammar-valid
text; most tokens cost a single-candidate check.
"""

from __future__ import annotations

import ctypes
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llama_cpp._internals import LlamaSampler


class GrammarRejectedError(ValueError):
    """llama.cpp could not parse a generated grammar (a converter bug, not user input)."""


class TokenSampler:
    """Samples the next token from the logits of the last evaluated position of ``llama``."""

    def __init__(
        self,
        llama: Any,
        *,
        temperature: float,
        top_k: int,
        top_p: float,
        min_p: float,
        repeat_penalty: float,
        frequency_penalty: float = 0.0,
        presence_penalty: float = 0.0,
        seed: int | None = None,
        grammar: str | None = None,
    ) -> None:
        from llama_cpp import llama_cpp as C
        from llama_cpp._internals import LlamaSampler, LlamaTokenDataArray

        self._C = C
        self._ctx = llama._ctx.ctx
        self._n_vocab = llama.n_vocab()
        chain = LlamaSampler()
        chain.add_penalties(self._n_vocab, 64, repeat_penalty, frequency_penalty, presence_penalty)
        if temperature <= 0.0:
            chain.add_greedy()
        else:
            chain.add_top_k(top_k)
            chain.add_top_p(top_p, 1)
            chain.add_min_p(min_p, 1)
            chain.add_temp(temperature)
            chain.add_dist(seed if seed is not None else random.getrandbits(32))
        self._chain = chain
        self._grammar: LlamaSampler | None = None
        if grammar is not None:
            pointer = C.llama_sampler_init_grammar(llama._model.vocab, grammar.encode("utf-8"), b"root")
            if not pointer:
                raise GrammarRejectedError(f"llama.cpp rejected the generated grammar:\n{grammar}")
            self._grammar = LlamaSampler()
            C.llama_sampler_chain_add(self._grammar.sampler, pointer)
            self._candidates = LlamaTokenDataArray(n_vocab=self._n_vocab)
            self._one = (C.llama_token_data * 1)()
            self._one_array = C.llama_token_data_array(data=self._one, size=1, selected=-1, sorted=False)

    def sample(self) -> int:
        C = self._C
        grammar = self._grammar
        if grammar is None:
            return C.llama_sampler_sample(self._chain.sampler, self._ctx, -1)  # applies and accepts
        token = self._apply(None)
        if not self._allowed(grammar, token):
            token = self._apply(grammar)
        C.llama_sampler_accept(grammar.sampler, token)
        C.llama_sampler_accept(self._chain.sampler, token)
        return token

    def _apply(self, grammar: LlamaSampler | None) -> int:
        """Sample from all candidates, with ``grammar`` applied first when given."""
        import numpy as np

        C = self._C
        logits = np.ctypeslib.as_array(C.llama_get_logits_ith(self._ctx, -1), shape=(self._n_vocab,))
        self._candidates.copy_logits(logits)
        array = ctypes.byref(self._candidates.candidates)
        self._candidates.candidates.selected = -1
        if grammar is not None:
            C.llama_sampler_apply(grammar.sampler, array)
        C.llama_sampler_apply(self._chain.sampler, array)
        chosen = self._candidates.candidates
        return int(chosen.data[chosen.selected].id)

    def _allowed(self, grammar: LlamaSampler, token: int) -> bool:
        # llama-cpp-python annotates the field as c_int32; ctypes reads and writes it as an int.
        self._one[0].id = token  # type: ignore[assignment]
        self._one[0].logit = 1.0
        self._one[0].p = 0.0
        self._one_array.size = 1
        self._one_array.selected = -1
        self._C.llama_sampler_apply(grammar.sampler, ctypes.byref(self._one_array))
        return self._one[0].logit != float("-inf")

    def close(self) -> None:
        self._chain.close()
        if self._grammar is not None:
            self._grammar.close()
