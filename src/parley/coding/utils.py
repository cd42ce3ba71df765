"""Classic module path ``autogen.coding.utils``: helpers for executors' working directories."""

from __future__ import annotations

from pathlib import Path

from ..code.base import prepare_work_dir
from ..code.commandline import named_code_path


def _get_file_name_from_content(code: str, workspace_path: Path) -> str | None:
    """The ``# filename:`` a block asks to be saved under, relative to ``workspace_path`` (None if none)."""
    path = named_code_path(Path(workspace_path), code)
    return None if path is None else str(path.relative_to(Path(workspace_path).resolve()) if path.is_absolute() else path)


__all__ = ["prepare_work_dir"]
