"""Token sampling for the local model, with a grammar checked lazily.

llama-cpp-python puts the grammar first in its sampler chain, so every token pays for matching
the whole 49k-token vocabulary against the grammar (it doubled the time per token for
SmolLM2-135M). Like llama.cpp's own ``common_sampler``, this sampler first samples without the
grammar and asks the grammar about that one token; only when the grammar rejects it does it
resample with the grammar applied to every candidate. The output is the same grammar-valid
text; most tokens cost a single-candidate check.

The draft is sampled by llama.cpp itself (``llama_sampler_sample``: the candidates built and
sampled in C++, as without a grammar): building them in Python (numpy record arrays) cost more
per token than the grammar. That call also *accepts* the draft into the chain (the repetition
penalty's history); when the grammar rejects it, the chain is rebuilt from the tokens actually
chosen (the penalty reads only the last ``_PENALTY_LAST_N``), so the rejected token leaves no trace.
"""

from __future__ import annotations

import ctypes
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llama_cpp._internals import LlamaSampler

_PENALTY_LAST_N = 64  # tokens the repetition penalties look back on
_SHORTLIST = 64  # candidates the grammar is asked about first when it rejects a greedy draft


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

        self._C = C
        self._ctx = llama._ctx.ctx
        self._n_vocab = llama.n_vocab()
        self._settings = (temperature, top_k, top_p, min_p, repeat_penalty, frequency_penalty, presence_penalty)
        self._seed = seed if seed is not None else random.getrandbits(32)
        self._chain = self._new_chain(self._seed)
        self._grammar: LlamaSampler | None = None
        if grammar is not None:
            from llama_cpp._internals import LlamaSampler, LlamaTokenDataArray

            pointer = C.llama_sampler_init_grammar(llama._model.vocab, grammar.encode("utf-8"), b"root")
            if not pointer:
                raise GrammarRejectedError(f"llama.cpp rejected the generated grammar:\n{grammar}")
            self._grammar = LlamaSampler()
            C.llama_sampler_chain_add(self._grammar.sampler, pointer)
            self._candidates = LlamaTokenDataArray(n_vocab=self._n_vocab)
            self._one = (C.llama_token_data * 1)()
            # size is set before each use; the grammar reads neither ``selected`` nor ``sorted``
            self._one_array = C.llama_token_data_array(data=self._one)
            self._one_ref = ctypes.byref(self._one_array)
            self._chosen: list[int] = []  # the tokens accepted so far (to rebuild the chain from)
            self._rebuilds = 0
            # The shortlist is exact for greedy decoding when no penalty can raise a logit.
            self._greedy = temperature <= 0.0 and repeat_penalty >= 1.0 and frequency_penalty >= 0.0 \
                and presence_penalty >= 0.0
            if self._greedy:
                import numpy as np

                self._short = np.zeros(_SHORTLIST, dtype=[("id", np.intc), ("logit", np.single), ("p", np.single)])
                # size and sorted are set before each use, selected by the chain's last sampler
                self._short_array = C.llama_token_data_array(
                    data=self._short.ctypes.data_as(ctypes.POINTER(C.llama_token_data)))

    def _new_chain(self, seed: int) -> LlamaSampler:
        from llama_cpp._internals import LlamaSampler

        temperature, top_k, top_p, min_p, repeat_penalty, frequency_penalty, presence_penalty = self._settings
        chain = LlamaSampler()
        chain.add_penalties(self._n_vocab, _PENALTY_LAST_N, repeat_penalty, frequency_penalty, presence_penalty)
        if temperature <= 0.0:
            chain.add_greedy()
        else:
            chain.add_top_k(top_k)
            chain.add_top_p(top_p, 1)
            chain.add_min_p(min_p, 1)
            chain.add_temp(temperature)
            chain.add_dist(seed)
        return chain

    def sample(self, excluded: list[int] | None = None) -> int:
        """The next token; never one of ``excluded``, unless the grammar allows nothing else."""
        C = self._C
        restore = None
        if excluded:
            import numpy as np

            logits = np.ctypeslib.as_array(C.llama_get_logits_ith(self._ctx, -1), shape=(self._n_vocab,))
            restore = (logits, logits[excluded].copy())
            logits[excluded] = -np.inf
        token: int = C.llama_sampler_sample(self._chain.sampler, self._ctx, -1)  # applies and accepts
        grammar = self._grammar
        if grammar is None:
            return token
        if not self._allowed(grammar, token):
            self._rebuild_chain()
            token = self._apply_with(grammar)
            if restore is not None and not self._allowed(grammar, token):
                # Every token the grammar allows was excluded: the grammar comes first.
                restore[0][excluded] = restore[1]
                token = self._apply_with(grammar)
            C.llama_sampler_accept(self._chain.sampler, token)
        C.llama_sampler_accept(grammar.sampler, token)
        self._chosen.append(token)
        return token

    def _rebuild_chain(self) -> None:
        """A chain that has accepted the chosen tokens only, not the rejected draft. Its random
        generator is seeded anew, from the seed, so a seeded run stays reproducible."""
        self._chain.close()
        self._rebuilds += 1
        self._chain = self._new_chain((self._seed + self._rebuilds) & 0xFFFFFFFF)
        for token in self._chosen[-_PENALTY_LAST_N:]:
            self._C.llama_sampler_accept(self._chain.sampler, token)

    def _apply_with(self, grammar: LlamaSampler) -> int:
        """Sample with ``grammar`` applied first (accepts nothing)."""
        import numpy as np

        C = self._C
        logits = np.ctypeslib.as_array(C.llama_get_logits_ith(self._ctx, -1), shape=(self._n_vocab,))
        if self._greedy:
            token = self._greedy_from_shortlist(grammar, logits)
            if token is not None:
                return token
        self._candidates.copy_logits(logits)
        array = ctypes.byref(self._candidates.candidates)  # selected is set by the chain's last sampler
        C.llama_sampler_apply(grammar.sampler, array)
        C.llama_sampler_apply(self._chain.sampler, array)
        chosen = self._candidates.candidates
        return int(chosen.data[chosen.selected].id)

    def _greedy_from_shortlist(self, grammar: LlamaSampler, logits: Any) -> int | None:
        """The greedy choice among the most likely tokens the grammar allows, or None when a token
        outside the shortlist might beat it."""
        import numpy as np

        ids = np.argpartition(logits, -_SHORTLIST)[-_SHORTLIST:]
        floor = float(logits[ids].min())  # every token left out has at most this logit
        ids.sort()  # vocabulary order, as in the full pass: ties go to the same token
        short = self._short
        short["id"] = ids
        short["logit"] = logits[ids]
        array = self._short_array
        array.size, array.sorted = _SHORTLIST, False
        reference = ctypes.byref(array)
        self._C.llama_sampler_apply(grammar.sampler, reference)
        self._C.llama_sampler_apply(self._chain.sampler, reference)  # penalties, then greedy
        chosen = short[array.selected]
        return int(chosen["id"]) if float(chosen["logit"]) > floor else None

    def _allowed(self, grammar: LlamaSampler, token: int) -> bool:
        # llama-cpp-python annotates the field as c_int32; ctypes reads and writes it as an int.
        one = self._one[0]
        one.id = token  # type: ignore[assignment]
        one.logit = 1.0
        self._one_array.size = 1
        self._C.llama_sampler_apply(grammar.sampler, self._one_ref)
        return one.logit != float("-inf")

    def close(self) -> None:
        self._chain.close()
        if self._grammar is not None:
            self._grammar.close()
