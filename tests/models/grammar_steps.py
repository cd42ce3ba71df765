"""llama.cpp's own grammar engine, stepped over text without running a model.

The embedded model's vocabulary is loaded alone (``vocab_only``: no weights, a fraction of a
second); a GBNF grammar is compiled into llama.cpp's grammar sampler, and a text is fed to it
token by token exactly as generation would: each token is first offered to the grammar (which
sets its logit to -inf when the grammar forbids it) and accepted only when allowed; at the end
the grammar must allow the end-of-generation token. So ``accepts(grammar, text)`` says whether
a reply constrained by ``grammar`` could be ``text``.
"""

from __future__ import annotations

import ctypes
from typing import Any


class GrammarSteps:
    def __init__(self, model_path: str) -> None:
        from llama_cpp import llama_cpp as C
        from llama_cpp._logger import set_verbose

        set_verbose(False)  # llama.cpp logs every metadata key of the file otherwise
        C.llama_backend_init()
        params = C.llama_model_default_params()
        params.vocab_only = True
        self._C = C
        self._model = C.llama_model_load_from_file(model_path.encode(), params)
        if not self._model:
            raise RuntimeError(f"llama.cpp could not load the vocabulary of {model_path}")
        self._vocab = C.llama_model_get_vocab(self._model)
        self._end = C.llama_vocab_eos(self._vocab)
        self._one = (C.llama_token_data * 1)()
        self._array = C.llama_token_data_array(data=self._one, size=1, selected=-1, sorted=False)

    def compiles(self, grammar: str) -> bool:
        """Whether llama.cpp parses ``grammar`` (its ``root`` rule and every rule it uses)."""
        sampler = self._sampler(grammar)
        if not sampler:
            return False
        self._C.llama_sampler_free(sampler)
        return True

    def accepts(self, grammar: str, text: str) -> bool:
        """Whether ``text`` is a whole reply the grammar allows."""
        sampler = self._sampler(grammar)
        if not sampler:
            raise ValueError(f"llama.cpp rejects the grammar:\n{grammar}")
        try:
            for token in self.tokens(text):
                if not self._allowed(sampler, token):
                    return False
                self._C.llama_sampler_accept(sampler, token)
            return self._allowed(sampler, self._end)
        finally:
            self._C.llama_sampler_free(sampler)

    def tokens(self, text: str) -> list[int]:
        data = text.encode("utf-8")
        room = len(data) + 16
        buffer = (self._C.llama_token * room)()
        count = self._C.llama_tokenize(self._vocab, data, len(data), buffer, room, False, False)
        assert count >= 0, text
        tokens = list(buffer[:count])
        assert b"".join(self._piece(t) for t in tokens) == data, f"{text!r} does not tokenize back to itself"
        return tokens

    def _piece(self, token: int) -> bytes:
        buffer = ctypes.create_string_buffer(256)
        size = self._C.llama_token_to_piece(self._vocab, token, buffer, len(buffer), 0, False)
        return buffer.raw[:size]

    def _sampler(self, grammar: str) -> Any:
        return self._C.llama_sampler_init_grammar(self._vocab, grammar.encode("utf-8"), b"root")

    def _allowed(self, sampler: Any, token: int) -> bool:
        self._one[0].id = token
        self._one[0].logit = 1.0
        self._one[0].p = 0.0
        self._array.size = 1
        self._array.selected = -1
        self._C.llama_sampler_apply(sampler, ctypes.byref(self._array))
        return self._one[0].logit != float("-inf")
