"""Classic module path ``autogen.coding.docker_commandline_code_executor``."""

from ..code.docker_executor import DockerCommandLineCodeExecutor

__all__ = ["DockerCommandLineCodeExecutor"]
