"""Classic module path ``autogen.agentchat.contrib.capabilities.teachability`` (parley.retrieval.teachability)."""

from ....retrieval.memos import MemoStore
from ....retrieval.teachability import Teachability

__all__ = ["MemoStore", "Teachability"]
