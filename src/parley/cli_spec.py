"""``parley spec schema|validate|check``, ``parley gallery list|show|export``, ``parley run SPEC``
and ``parley resume RUN_ID``: teams as data on the command line.

Only argparse is imported here: ``parley --help`` stays fast; the handlers import what they use.
"""

from __future__ import annotations

import argparse
import os
import sys

_STORE_HELP = "where the run is recorded: SQLAlchemy URL or SQLite file (default: $PARLEY_STORE_URL or .parley/runs.db)"
_ALLOW_HELP = "a module the team's import paths may come from (repeatable; also $PARLEY_SPEC_ALLOW_MODULES)"
_ENV_HELP = ("an environment variable the spec may read although its name is not key-shaped (*_API_KEY, *_TOKEN) "
             "(repeatable)")
_WORK_DIR_HELP = ("a work_dir, exactly as the spec writes it, allowed although it is not a folder under the current one "
                  "(repeatable)")
_SPEC_HELP = "a spec file (YAML or JSON), or a gallery team: gallery:NAME (or NAME when no file has that name)"


def _add_grants(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-module", action="append", default=[], metavar="M", help=_ALLOW_HELP)
    parser.add_argument("--allow-env", action="append", default=[], metavar="NAME", help=_ENV_HELP)
    parser.add_argument("--allow-work-dir", action="append", default=[], metavar="DIR", help=_WORK_DIR_HELP)


def add_spec_parsers(commands: argparse._SubParsersAction) -> None:
    """Add ``spec``, ``gallery``, ``run`` and ``resume`` to the ``parley`` command."""
    spec = commands.add_parser("spec", help="team specs: print the JSON Schema, validate or check a file")
    actions = spec.add_subparsers(dest="spec_command", required=True)
    actions.add_parser("schema", help="print the JSON Schema of a team spec")
    for name, text in (("validate", "validate a spec file (YAML or JSON): errors name the path and line"),
                       ("check", "walk the team on a scripted model: every agent reachable, transitions usable, the run ends")):
        action = actions.add_parser(name, help=text)
        action.add_argument("file", help=_SPEC_HELP)
        _add_grants(action)
    spec.set_defaults(handler=_spec)

    gallery = commands.add_parser("gallery", help="the teams shipped with parley")
    actions = gallery.add_subparsers(dest="gallery_command", required=True)
    actions.add_parser("list", help="the gallery's teams")
    show = actions.add_parser("show", help="a gallery team: what it is, its agents and how it runs")
    show.add_argument("name")
    export = actions.add_parser("export", help="print a gallery team's YAML (to edit and run)")
    export.add_argument("name")
    gallery.set_defaults(handler=_gallery)

    run = commands.add_parser("run", help="run a team spec (a file or a gallery team), recorded in the run store")
    run.add_argument("spec", help=_SPEC_HELP)
    run.add_argument("--message", default=None, help="the task (fills {task} in the spec's message; default: the spec's task)")
    run.add_argument("--store", default=None, help=_STORE_HELP)
    run.add_argument("--model", default="local", choices=["local", "scripted"],
                     help="local: the spec's model references (OAI_CONFIG_LIST, else the embedded model); "
                          "scripted: a fixed script")
    _add_grants(run)
    run.add_argument("--run-id", default=None, help="the id to record the run under (default: a new uuid)")
    run.add_argument("--tasks", default=None, metavar="FILE",
                     help="run once per line of this JSONL file (a message, or an object of template variables), "
                          "many chats at once; each a run of the store (parley.distributed.run_many)")
    run.add_argument("--ray", nargs="?", const="auto", default=None, metavar="ADDRESS",
                     help="with --tasks: run the chats on Ray (default address: auto, a running cluster; "
                          "'local' starts one on this machine); without: the Ray the spec's placed agents "
                          "(placement:) join; pip install 'parley[ray]'")
    run.add_argument("--out", default=None, metavar="FILE",
                     help="with --tasks: write the results here as JSONL (default: stdout)")
    run.add_argument("--max-concurrency", type=int, default=64, metavar="N", help="with --tasks: chats at once, in all")
    run.set_defaults(handler=_run)

    resume = commands.add_parser("resume", help="continue a run of a spec that stopped (killed, crashed, waiting for input)")
    resume.add_argument("run_id", help="the run id (or a unique prefix of at least 4 characters)")
    resume.add_argument("--store", default=None, help=_STORE_HELP)
    _add_grants(resume)
    resume.add_argument("--allow-unsandboxed", action="store_true",
                        help="let the stored spec's agents run code unsandboxed, as it asks (the store grants nothing)")
    resume.add_argument("--answer", action="append", default=None, metavar="TEXT",
                        help="answers to the first human-input questions (a run stopped while waiting for input)")
    resume.set_defaults(handler=_resume)


def _load(name_or_path: str):
    from .spec import SpecError, Team, gallery

    if name_or_path.startswith("gallery:"):
        return gallery.load(name_or_path.removeprefix("gallery:"))
    if name_or_path in gallery.names():
        if os.path.exists(name_or_path):
            # A file dropped in the current folder must not pass for the gallery's team, nor the other way round.
            raise SpecError(f"{name_or_path!r} is both a file here and a gallery team: write ./{name_or_path} for the file "
                            f"or gallery:{name_or_path} for the gallery's team", "spec")
        return gallery.load(name_or_path)
    return Team.from_file(name_or_path)


def _show(text: object) -> str:
    """Spec-supplied text for the terminal: control characters escaped."""
    from .io.console import visible

    return visible(text)


def _fail(command: str, error: Exception) -> int:
    text = _show(error)
    print(f"parley {command}: {text}" if "\n" not in text else f"parley {command}:\n{text}", file=sys.stderr)
    return 1


def _grants(args: argparse.Namespace) -> dict:
    return {"allow_env": args.allow_env, "allow_work_dirs": args.allow_work_dir}


def _spec(args: argparse.Namespace) -> int:
    from .spec import SpecError

    if args.spec_command == "schema":
        import json

        from .spec import TeamSpec

        print(json.dumps(TeamSpec.model_json_schema(by_alias=True), indent=2, ensure_ascii=False))
        return 0
    try:
        team = _load(args.file)
        report = team.validate(args.allow_module, **_grants(args))
        if args.spec_command == "validate":
            print(_show(f"{args.file}: valid ({team.name or 'unnamed'}: {len(team.spec.agents)} agents, "
                        f"sha256 {team.digest[:12]})"))
            for line in report.lines():
                print(f"  {_show(line)}")
            return 0
        for line in report.lines():  # what a run would do that the walk does not (it runs no code)
            print(f"note: {_show(line)}")
        check = team.check(args.allow_module)
    except (SpecError, OSError) as error:
        return _fail(f"spec {args.spec_command}", error)
    for line in check.lines():
        print(_show(line))
    print("check: ok" if check.ok else "check: problems found")
    return 0 if check.ok else 1


def _gallery(args: argparse.Namespace) -> int:
    from .spec import SpecError, gallery

    try:
        if args.gallery_command == "list":
            for name in gallery.names():
                print(_show(f"{name:<12} {gallery.load(name).spec.description or ''}"))
        elif args.gallery_command == "export":
            sys.stdout.write(gallery.text(args.name))
        else:
            spec = gallery.load(args.name).spec
            print(f"{args.name}: {spec.description or ''}")
            for name, agent in spec.agents.items():
                extra = f", manages {agent.groupchat}" if agent.groupchat else ""
                model = f", model {agent.llm_config}" if isinstance(agent.llm_config, str) else ""
                print(f"  {name} ({agent.class_}{model}{extra})")
            run = spec.run
            target = run.recipient or " then ".join(chat.recipient for chat in run.chats or [])
            print(f"  run: {run.initiator} -> {target}" + (f"; task: {run.task}" if run.task else ""))
            print(f"parley gallery export {args.name} > {args.name}.yaml   # to edit; parley run {args.name} to run it")
    except SpecError as error:
        return _fail("gallery", error)
    return 0


def _run(args: argparse.Namespace) -> int:
    import shlex

    from .spec import SpecError
    from .spec.runs import run_recorded
    from .store import RunStore, StoreError

    try:
        team = _load(args.spec)
        store = RunStore(args.store)
    except (SpecError, OSError, StoreError) as error:
        return _fail("run", error)
    report = team.validate(args.allow_module, **_grants(args))
    for line in report.lines():
        print(f"note: {_show(line)}", file=sys.stderr)
    if args.tasks is not None or args.out is not None:
        from .distributed.cli import run_tasks

        return run_tasks(team, store, args, _fail)
    if args.ray is not None:  # one run whose placed agents join this Ray
        from .distributed.cli import join_ray_for_placement

        failed = join_ray_for_placement(team, args.ray, _fail)
        if failed:
            return failed

    def started(run_id: str) -> None:
        print(f"parley run: recording as run {run_id}", flush=True)

    try:
        with store:
            run_id, result = run_recorded(team, store, message=args.message, allow_modules=args.allow_module,
                                          model="scripted" if args.model == "scripted" else None,
                                          run_id=args.run_id, started=started, **_grants(args))
    except (SpecError, StoreError, ValueError) as error:
        return _fail("run", error)
    results = result if isinstance(result, list) else [result]
    print("\n== Summary ==")
    print(_show(results[-1].summary) if results and results[-1].summary else "(no summary)")
    store_option = f" --store {shlex.quote(args.store)}" if args.store else ""
    print(f"\nRecorded as run {run_id}: parley runs{store_option} show {run_id[:8]}")
    return 0


def _resume(args: argparse.Namespace) -> int:
    from .spec import SpecError
    from .spec.runs import resume_recorded, stored_spec
    from .store import RunStore, StoreError

    try:
        store = RunStore(args.store, create=False)
    except StoreError as error:
        return _fail("resume", error)
    try:
        with store:
            run_id = store.resolve(args.run_id)
            team, _ = stored_spec(store, run_id)
            # The stored document is checked and reported again: the store grants nothing.
            for line in team.validate(args.allow_module, **_grants(args)).lines():
                print(f"note: {_show(line)}", file=sys.stderr)
            print(f"parley resume: continuing run {run_id}", flush=True)
            result = resume_recorded(store, run_id, allow_modules=args.allow_module, answers=args.answer,
                                     allow_unsandboxed=args.allow_unsandboxed, team=team, **_grants(args))
    except (SpecError, StoreError, ValueError) as error:
        return _fail("resume", error)
    results = result if isinstance(result, list) else [result]
    print("\n== Summary ==")
    print(_show(results[-1].summary) if results and results[-1].summary else "(no summary)")
    print(f"\nRun {run_id} finished.")
    return 0
