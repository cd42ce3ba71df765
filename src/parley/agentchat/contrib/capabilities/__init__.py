"""Classic module path ``autogen.agentchat.contrib.capabilities``: add-ons that change how an agent works."""
