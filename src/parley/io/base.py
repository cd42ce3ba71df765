"""Classic module path ``autogen.io.base``: the ``IOStream`` protocol and the default stream."""

from . import IOStream, get_default, set_default, set_global_default

# Classic names for a stream's two halves.
OutputStream = IOStream
InputStream = IOStream

__all__ = ["IOStream", "InputStream", "OutputStream", "get_default", "set_default", "set_global_default"]
