"""Text compressors for ``TextMessageCompressor``: ``compress_text(text, **params) -> {"compressed_prompt": ...}``."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class TextCompressor(Protocol):
    def compress_text(self, text: str, **compression_params: Any) -> dict[str, Any]: ...


class LLMLingua:
    """Microsoft's LLMLingua prompt compression (``pip install llmlingua``; downloads its model on first use)."""

    def __init__(self, prompt_compressor_kwargs: dict | None = None, structured_compression: bool = False) -> None:
        try:
            from llmlingua import PromptCompressor
        except ImportError:
            raise ImportError("LLMLingua needs the 'llmlingua' package: pip install llmlingua") from None
        kwargs = prompt_compressor_kwargs or {"model_name": "microsoft/llmlingua-2-bert-base-multilingual-cased-meetingbank",
                                              "use_llmlingua2": True, "device_map": "cpu"}
        self._compressor = PromptCompressor(**kwargs)
        self._compress = (self._compressor.structured_compress_prompt if structured_compression
                          else self._compressor.compress_prompt)

    def compress_text(self, text: str, **compression_params: Any) -> dict[str, Any]:
        return self._compress([text], **compression_params)


__all__ = ["LLMLingua", "TextCompressor"]
