"""``parley studio [--host 127.0.0.1] [--port 8081] [--store URL] [--token T]`` and
``parley studio adduser NAME``. Only argparse at import (``parley --help`` stays fast)."""

from __future__ import annotations

import argparse
import sys

_STORE_HELP = "the run store: SQLAlchemy URL or SQLite file (default: $PARLEY_STORE_URL or .parley/runs.db)"


def add_studio_parser(commands: argparse._SubParsersAction) -> None:
    studio = commands.add_parser("studio", help="the browser UI: build teams, run them live, answer as the human")
    studio.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1; another needs --token)")
    studio.add_argument("--port", type=int, default=8081)
    studio.add_argument("--store", default=None, help=_STORE_HELP)
    studio.add_argument("--token", default=None, help="the access token (default: $PARLEY_STUDIO_TOKEN, else a random one)")
    studio.add_argument("--allow-unsandboxed", action="store_true",
                        help="let specs that ask for it (use_docker: false, executor: local) run code unsandboxed")
    studio.add_argument("--allow-module", action="append", default=[], metavar="M",
                        help="a module specs' tools and functions may be imported from (repeatable)")
    studio.add_argument("--allow-docs", action="append", default=[], metavar="FOLDER",
                        help="a folder (or URL) RetrieveUserProxyAgents of specs may read documents from (repeatable)")
    studio.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="a browser origin allowed besides the server's own (e.g. a reverse proxy's https://host)")
    actions = studio.add_subparsers(dest="studio_command")
    adduser = actions.add_parser("adduser", help="add an account (then every API call needs a logged-in user)")
    adduser.add_argument("name")
    adduser.add_argument("--store", default=argparse.SUPPRESS, help=_STORE_HELP)
    adduser.add_argument("--password-stdin", action="store_true", help="read the password from stdin (scripts)")
    studio.set_defaults(handler=_studio)


def _studio(args: argparse.Namespace) -> int:
    if args.studio_command == "adduser":
        return _adduser(args)
    try:
        import uvicorn

        from .app import create_app
    except ImportError as error:
        print(f"parley studio: {error.name} is missing: pip install 'parley[studio]'", file=sys.stderr)
        return 1
    from ..store import StoreError
    from .settings import SettingsError, StudioSettings

    try:
        settings = StudioSettings(host=args.host, port=args.port, store=args.store, token=args.token or "",
                                  allow_unsandboxed=args.allow_unsandboxed, allow_modules=tuple(args.allow_module),
                                  allow_docs=tuple(args.allow_docs),
                                  allow_origins=tuple(args.allow_origin))
    except SettingsError as error:
        print(f"parley studio: {error}", file=sys.stderr)
        return 2
    try:
        # No access log: the first request's URL carries the token.
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning", access_log=False,
                    ws_max_size=1 << 20)
    except StoreError as error:
        print(f"parley studio: {error}", file=sys.stderr)
        return 1
    return 0


def _adduser(args: argparse.Namespace) -> int:
    import getpass

    from ..store import RunStore, StoreError
    from .users import UserError, add_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("parley studio adduser: the passwords differ", file=sys.stderr)
            return 1
    try:
        store = RunStore(args.store)
        try:
            add_user(store.engine, args.name, password)
        finally:
            store.close()
    except (UserError, StoreError) as error:
        print(f"parley studio adduser: {error}", file=sys.stderr)
        return 1
    print(f"parley studio: user {args.name} added; the Studio now asks every caller to log in")
    return 0
