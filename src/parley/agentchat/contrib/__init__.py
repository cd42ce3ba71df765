"""Classic module path ``autogen.agentchat.contrib``: the contributed agents and capabilities users import most."""
