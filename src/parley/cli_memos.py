"""``parley memos list | show ID | edit ID | delete ID``: what teachable agents remember.

The memos are those of ``Teachability(path_to_db_dir=...)``: ``--path`` (default
``./tmp/teachable_agent_db``, classic's), or ``--pgvector URL`` for memos kept in PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .retrieval.memos import DEFAULT_PATH


def add_memos_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``memos`` command to the ``parley`` command's subparsers."""
    memos = subparsers.add_parser("memos", help="list, show, edit and delete what teachable agents remember")
    memos.add_argument("--path", default=DEFAULT_PATH, help=f"the Teachability path_to_db_dir (default {DEFAULT_PATH})")
    memos.add_argument("--pgvector", default=None, metavar="URL", help="memos kept in PostgreSQL (pgvector) at this URL")
    actions = memos.add_subparsers(dest="memos_command", required=True)
    listing = actions.add_parser("list", help="every memo, oldest first")
    listing.add_argument("--json", action="store_true", help="as JSON lines")
    show = actions.add_parser("show", help="one memo")
    show.add_argument("memo_id")
    edit = actions.add_parser("edit", help="change a memo's input (what recalls it) or output (what it recalls)")
    edit.add_argument("memo_id")
    edit.add_argument("--input", dest="input_text", default=None)
    edit.add_argument("--output", dest="output_text", default=None)
    delete = actions.add_parser("delete", help="forget memos")
    delete.add_argument("memo_ids", nargs="+", metavar="memo_id")
    memos.set_defaults(handler=run_memos_command)


def _open(args: argparse.Namespace):  # -> MemoStore
    import os

    from .retrieval.memos import MemoStore

    if args.pgvector:
        from .retrieval.pgvector import PGVectorDB

        return MemoStore(vector_db=PGVectorDB(connection_string=args.pgvector))
    if not os.path.isdir(args.path):
        raise FileNotFoundError(f"no memo store at {args.path!r} (give --path, the Teachability path_to_db_dir)")
    return MemoStore(path_to_db_dir=args.path)


def run_memos_command(args: argparse.Namespace) -> int:
    """Handler of ``parley memos``; returns the exit status."""
    try:
        store = _open(args)
        if args.memos_command == "list":
            for memo in store.memos():
                if args.json:
                    print(json.dumps({"id": memo.id, "input": memo.input, "output": memo.output, "created": memo.created}))
                else:
                    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(memo.created)) if memo.created else "-"
                    print(f"{memo.id:>4}  {when}  {memo.input}\n      -> {memo.output}")
        elif args.memos_command == "show":
            memo = store.get_memo(args.memo_id)
            print(f"id: {memo.id}\ninput: {memo.input}\noutput: {memo.output}")
        elif args.memos_command == "edit":
            if args.input_text is None and args.output_text is None:
                print("parley memos edit: give --input and/or --output", file=sys.stderr)
                return 2
            memo = store.edit_memo(args.memo_id, input_text=args.input_text, output_text=args.output_text)
            print(f"memo {memo.id} updated")
        else:
            for memo_id in args.memo_ids:
                store.delete_memo(memo_id)
                print(f"memo {memo_id} deleted")
    except (KeyError, ValueError, FileNotFoundError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"parley memos: {message}", file=sys.stderr)
        return 1
    return 0


__all__ = ["add_memos_parser", "run_memos_command"]
