"""``parley runs list | show RUN_ID | export RUN_ID --format json|md``: inspecting the run store.

The store is ``--store`` (a SQLAlchemy URL or a file path), else ``$PARLEY_STORE_URL``, else
``.parley/runs.db``. A run id may be shortened to a unique prefix of at least 4 characters.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import JustifyMethod


def add_runs_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``runs`` command to the ``parley`` command's subparsers."""
    runs = subparsers.add_parser("runs", help="list, show and export stored runs")
    runs.add_argument("--store", default=None,
                      help="SQLAlchemy URL or SQLite file (default: $PARLEY_STORE_URL or .parley/runs.db)")
    actions = runs.add_subparsers(dest="runs_command", required=True)
    listing = actions.add_parser("list", help="the newest runs, one per line")
    listing.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    listing.add_argument("--status", default=None, choices=["running", "waiting_input", "finished", "interrupted", "failed"])
    show = actions.add_parser("show", help="one run: its details and transcript")
    show.add_argument("run_id")
    export = actions.add_parser("export", help="one run as JSON (everything stored) or Markdown")
    export.add_argument("run_id")
    export.add_argument("--format", default="json", choices=["json", "md"])
    export.add_argument("-o", "--output", default=None, help="write to this file instead of stdout")
    runs.set_defaults(handler=run_runs_command)


def run_runs_command(args: argparse.Namespace) -> int:
    """Handler of ``parley runs``; returns the exit status."""
    from rich.console import Console

    from .store import RunStore, StoreError

    # Stored text may hold what UTF-8 cannot encode (a lone surrogate from a non-UTF-8 file name):
    # shown as a \\udcff escape rather than failing the command.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    console = Console()
    try:
        store = RunStore(args.store, create=False)  # reading: no empty store file where there was none
    except StoreError as error:
        print(f"parley runs: {error}", file=sys.stderr)
        return 2
    try:
        if args.runs_command == "list":
            _list(console, store, args.limit, args.status)
        elif args.runs_command == "show":
            _show(console, store, args.run_id)
        else:
            text = store.export(args.run_id, args.format)
            if args.output:
                with open(args.output, "w", encoding="utf-8", errors="backslashreplace") as out:
                    out.write(text + "\n")
            else:
                sys.stdout.write(text + "\n")
    except (StoreError, OSError) as error:
        print(f"parley runs: {error}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


_STATUS_STYLE = {"running": "yellow", "waiting_input": "cyan", "finished": "green", "interrupted": "magenta", "failed": "red"}


def _list(console, store, limit: int, status: str | None) -> None:
    from rich.table import Table

    from .store.export import when

    runs = store.list_runs(limit=limit, status=status)
    if not runs:
        console.print("no runs stored in " + repr(store))
        return
    table = Table(title=f"Runs in {store!r}")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("run id", "left"), ("status", "left"), ("kind", "left"), ("agents", "left"), ("msgs", "right"), ("tokens", "right"),
        ("cost $", "right"), ("started", "left"), ("title", "left"))
    for column, justify in columns:
        table.add_column(column, justify=justify, no_wrap=column in ("run id", "started"), overflow="ellipsis")
    for run in runs:
        style = _STATUS_STYLE.get(run.status, "")
        table.add_row(
            run.id[:8], f"[{style}]{run.status}[/]" if style else run.status, run.kind,
            f"{run.initiator or '?'} → {run.recipient or '?'}", str(run.messages), str(run.tokens), f"{run.cost:.4f}",
            when(run.created_at), (run.title or "")[:60],
        )
    console.print(table)


def _show(console, store, run_id: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    from .images import display_text
    from .store.export import when

    run = store.get_run(run_id)
    details = Table.grid(padding=(0, 2))
    details.add_column(style="bold")
    details.add_column()
    for label, value in (
        ("run", run.id), ("status", run.status + (f" ({run.reason})" if run.reason else "")), ("kind", run.kind),
        ("agents", f"{run.initiator or '?'} → {run.recipient or '?'}"), ("started", when(run.created_at)),
        ("updated", when(run.updated_at)), ("messages", str(run.messages)), ("tokens", str(run.tokens)),
        ("cost", f"${run.cost:.4f}"), ("process", f"{run.pid} on {run.host}"),
    ):
        details.add_row(label, escape(_shortened(value)))
    console.print(details)
    transcript = Table(title="Transcript", show_lines=True)
    transcript.add_column("#", justify="right")
    transcript.add_column("from → to", no_wrap=True)
    transcript.add_column("content")
    for i, message in enumerate(store.messages(run.id), 1):
        try:
            text = display_text(message.message.get("content"))  # an image as its label
        except (TypeError, ValueError):
            text = str(message.message.get("content"))
        for call in message.message.get("tool_calls") or []:
            function = call.get("function", {})
            text += f"\n[calls {function.get('name', '?')}({function.get('arguments', '')})]"
        transcript.add_row(str(i), escape(f"{message.sender} → {message.recipient}"), escape(_shortened(text)))
    console.print(transcript)
    retrievals = store.retrievals(run.id)
    if retrievals:
        from .io.console import visible
        from .retrieval.reporting import summary

        console.print("[bold]retrievals:[/]")
        for event in retrievals:
            console.print(escape(visible(f"  {event.agent}: {summary(event, ids=True)}")), soft_wrap=True)
    if run.summary:
        console.print(f"[bold]summary:[/] {escape(_shortened(run.summary))}")


_SHOWN_CHARS = 4000  # a terminal view; `parley runs export` has everything


def _shortened(text: str) -> str:
    if len(text) <= _SHOWN_CHARS:
        return text
    return f"{text[:_SHOWN_CHARS]}… ({len(text) - _SHOWN_CHARS:,} more characters: see parley runs export)"
