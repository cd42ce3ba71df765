"""Classic module path ``autogen.function_utils``."""

from .tools.function_utils import *  # noqa: F403
from .tools.function_utils import (
    __all__,  # noqa: F401
    logger,  # noqa: F401  (classic code patches autogen.function_utils.logger)
)
