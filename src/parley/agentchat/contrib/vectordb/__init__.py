"""Classic module path ``autogen.agentchat.contrib.vectordb``: the vector stores (parley.retrieval)."""
