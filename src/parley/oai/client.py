"""Classic module path ``autogen.oai.client``."""

from ..models.protocol import ModelClient
from ..models.wrapper import OpenAIWrapper

__all__ = ["OpenAIWrapper", "ModelClient"]
