"""The ``parley`` command: demos, team specs (run, resume, gallery) and run inspection."""

from __future__ import annotations

import argparse
import shlex
import sys


def _demo(args: argparse.Namespace) -> int:
    from . import demos
    from .store import RunStore

    # The run is recorded, so that `parley runs show` can look at it afterwards.
    with RunStore(args.store) as store, store.new_run() as run:
        if args.name == "coding":
            result = demos.coding_demo(model=args.model, message=args.message, work_dir=args.work_dir)
        else:
            result = demos.research_demo(model=args.model, message=args.message or demos.SEED_RESEARCH_MESSAGE,
                                         human=args.human)
    print("\n== Summary ==")
    print(result.summary if result.summary else "(no summary)")
    store_option = f" --store {shlex.quote(args.store)}" if args.store else ""
    print(f"\nRecorded as run {run.id[:8]}: parley runs{store_option} show {run.id[:8]}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description="Multi-agent conversation with the classic AutoGen API.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="run one of the seed article's examples (offline by default)")
    demo.add_argument("name", nargs="?", default="coding", choices=["coding", "research"],
                      help="coding: assistant + code-executing user proxy; research: the 7-agent group chat")
    demo.add_argument("--model", default="local", choices=["local", "scripted"],
                      help="local: OAI_CONFIG_LIST if set, else the embedded SmolLM2 model; scripted: a fixed script")
    demo.add_argument("--message", default=None, help="the task to start with")
    demo.add_argument("--work-dir", default="coding", help="where the coding demo's code runs and its files stay")
    demo.add_argument("--human", action="store_true", help="research demo: you are the Admin (asked for input)")
    demo.add_argument("--store", default=None, help="where the run is recorded: SQLAlchemy URL or SQLite file "
                      "(default: $PARLEY_STORE_URL or .parley/runs.db)")
    demo.set_defaults(handler=_demo)
    from .cli_memos import add_memos_parser
    from .cli_runs import add_runs_parser
    from .cli_spec import add_spec_parsers
    from .studio.cli import add_studio_parser

    add_runs_parser(commands)
    add_spec_parsers(commands)
    add_studio_parser(commands)
    add_memos_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(f"parley {__version__}")
        return 0
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
