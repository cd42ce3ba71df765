"""Classic module path ``autogen.oai.client``."""

from ..models.protocol import ModelClient
from ..models.wrapper import OpenAIWrapper

# Classic flags and defaults scripts import: every supported SDK can call tools; classic's
# default cache (seed 41 in ".cache") which parley uses only when asked (cache_seed / cache).
TOOL_ENABLED = True
LEGACY_DEFAULT_CACHE_SEED = 41
LEGACY_CACHE_DIR = ".cache"

__all__ = ["OpenAIWrapper", "ModelClient", "TOOL_ENABLED", "LEGACY_DEFAULT_CACHE_SEED", "LEGACY_CACHE_DIR"]
