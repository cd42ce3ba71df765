"""Classic module path ``autogen.agentchat.user_proxy_agent``."""

from ..agents.user_proxy import UserProxyAgent

__all__ = ["UserProxyAgent"]
