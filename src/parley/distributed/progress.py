"""The fan-out's progress bar (rich, on stderr), shown only on a terminal unless asked."""

from __future__ import annotations

import sys
from typing import Any


class FanOutProgress:
    def __init__(self, total: int, show: bool | None) -> None:
        self.show = sys.stderr.isatty() if show is None else show
        self._progress: Any = None
        self._task: Any = None
        self.total = total
        self.failed = 0
        self.retried = 0

    def __enter__(self) -> FanOutProgress:
        if self.show:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("chats"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                      TextColumn("{task.description}"), console=Console(stderr=True))
            self._progress.__enter__()
            self._task = self._progress.add_task("", total=self.total)
        return self

    def done(self, status: str) -> None:
        if status != "finished":
            self.failed += 1
        self._update(1)

    def retry(self) -> None:
        self.retried += 1
        self._update(0)

    def _update(self, advance: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=advance,
                                  description=f"failed {self.failed}  resumed {self.retried}")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
