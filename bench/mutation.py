"""Mutation testing of parley's critical modules with mutmut, one module at a time.

Each module is mutated against only the tests that cover it, in its own scratch copy of the
repository (mutmut writes a ``mutants/`` tree next to the sources), so a run fits two cores.

    python bench/mutation.py                  # every module in MODULES
    python bench/mutation.py output retry     # only these (by short name)
    python bench/mutation.py --survivors      # also print each surviving mutant's diff

Prints one line per module: mutants, killed (a test failed, or the tests hung: a mutant that hangs
is caught too), survived, other (no tests / suspicious), and the kill rate. A mutant mutmut reports
as timed out is run again on its own (see ``recheck``) and counted by that run. See docs/mutation.md
for the results and each survivor's verdict.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    name: str
    source: str  # path of the module to mutate, relative to the repository root
    tests: tuple[str, ...]  # pytest selection that covers it


WRAPPER_TESTS = ("tests/models/test_client_wrappers.py", "tests/models/test_wrapper_details.py")

SELECTION_TESTS = ("tests/groupchat/test_speaker_names.py", "tests/groupchat/test_selection.py",
                   "tests/groupchat/test_bad_input.py")

STUDIO_AUTH_TESTS = ("tests/studio/test_auth_rules.py", "tests/studio/test_api_units.py")

MODULES: tuple[Target, ...] = (
    # Pure unit tests only: test_secrets.py's end-to-end tests start fake provider servers in
    # threads, and a thread alive when mutmut forks each mutant's run can leave a logging lock held
    # in the child forever (the round-1 run deadlocked that way).
    Target("secrets", "src/parley/models/secrets.py", ("tests/models/test_secret_redaction.py",)),
    Target(
        "retry",
        "src/parley/models/retry.py",
        ("tests/models/test_retry_and_pricing.py", "tests/models/test_openai_provider.py"),
    ),
    Target("output", "src/parley/code/output.py", ("tests/code/test_output.py",)),
    # Rule by rule in a child that loads the filter with prctl (no bubblewrap: a second each).
    Target("seccomp", "src/parley/code/seccomp_filter.py", ("tests/code/test_seccomp_filter.py",)),
    Target("workspace", "src/parley/code/workspace.py", ("tests/code/test_workspace.py",)),
    Target("extraction", "src/parley/code/extraction.py", ("tests/code/test_extraction.py",)),
    Target(
        "transitions",
        "src/parley/groupchat/transitions.py",
        ("tests/groupchat/test_transitions.py", "tests/groupchat/test_selection.py", "tests/groupchat/test_bad_input.py"),
    ),
    # Speaker selection: reading a name out of an answer, and classic's selection steps.
    Target("names", "src/parley/groupchat/names.py", SELECTION_TESTS),
    # "auto" selection: the selector model's prompt, re-asks and fallbacks (ScriptedModelClient).
    Target("auto", "src/parley/groupchat/auto.py",
           ("tests/groupchat/test_auto_selection.py", "tests/groupchat/test_selection.py")),
    Target("classic_selection", "src/parley/groupchat/classic_selection.py", ("tests/compat/test_classic_groupchat.py",)),
    # Termination and human-input modes are decided in the built-in replies, with the function, tool
    # and code runners (covered through the agent path by the tool-chat and classic code tests).
    Target("builtin_replies", "src/parley/agents/builtin_replies.py",
           ("tests/core/test_human_input.py", "tests/core/test_reply_chain.py", "tests/core/test_two_agent_chat.py",
            "tests/core/test_builtin_reply_functions.py", "tests/core/test_code_event_agent.py",
            "tests/tools/test_tool_chat.py", "tests/compat/test_classic_tools.py",
            "tests/code/test_local_classic.py", "tests/models/test_reply_protocol_rules.py",
            # Its MCP server is a subprocess of the interpreter running mutmut (a copied one in
            # docs/mutation.md's recipe, whose ssl module does not load); no built-in reply in it.
            "--deselect=tests/tools/test_tool_chat.py::test_mcp_server_tools_in_a_chat")),
    # The reply protocol's rules and its grammars stepped by llama.cpp over a vocabulary alone (no
    # model run). Not its end-to-end tests: the local model's (26 s a run) nor the remote ones,
    # whose fake OpenAI server is a thread alive at mutmut's fork.
    Target("reply_protocol", "src/parley/agents/reply_protocol.py",
           ("tests/models/test_reply_protocol_rules.py", "tests/models/test_reply_protocol_examples.py",
            "tests/core/test_builtin_reply_functions.py")),
    # The local model's grammars: the schema checks, and the grammars compiled and stepped by llama.cpp.
    Target("grammar", "src/parley/models/grammar.py", ("tests/models/test_local_grammar.py", "tests/tools/test_tool_schema.py")),
    # The local model's sampler, on synthetic logits written into a tiny context of the embedded model.
    Target("local_sampling", "src/parley/models/local_sampling.py", ("tests/models/test_sampling_units.py",)),
    # The wrappers around a model client, each on its own around a ScriptedModelClient (no server).
    *(Target(name, f"src/parley/models/{name}.py", WRAPPER_TESTS) for name in ("failover", "cached", "accounting")),
    Target("schema", "src/parley/tools/schema.py", ("tests/tools/test_tool_schema.py", "tests/tools/test_parameter_model.py")),
    Target("tool", "src/parley/tools/tool.py",
           ("tests/tools/test_tool_execution.py", "tests/tools/test_tool_details.py", "tests/tools/test_tool_schema.py")),
    # The sandbox's cgroup on stand-in cgroup directories (no privileges: the real groups need root or a
    # delegated cgroup, and test_sandbox.py's tests of them skip as nobody).
    Target("cgroup", "src/parley/code/cgroup.py",
           ("tests/code/test_cgroup.py",
            "tests/code/test_sandbox.py::test_cgroup_v2_writes_the_limits_into_a_delegated_group",
            "tests/code/test_sandbox.py::test_cgroup_v2_uses_the_nearest_ancestor_that_hands_out_controllers")),
    # Each test one bubblewrap run or none (test_sandbox_parts.py), then the end-to-end ones but the four
    # that take seconds each (a fork bomb, a timeout, CPU time, memory): a surviving mutant runs them all.
    Target("sandbox", "src/parley/code/sandbox.py",
           ("tests/code/test_sandbox_parts.py", "tests/code/test_sandbox_work_dir.py", "tests/code/test_sandbox.py",
            *(f"--deselect=tests/code/test_sandbox.py::{name}" for name in (
                "test_fork_bomb_is_contained", "test_infinite_loop_is_stopped_by_timeout", "test_cpu_time_limit",
                "test_memory_bomb_is_contained")))),
    Target("local", "src/parley/code/local.py",
           ("tests/code/test_local.py", "tests/code/test_local_classic.py", "tests/code/test_local_details.py")),
    # What the local and sandbox executors share: saving a block, running a process, bounding its output.
    # Its parts one by one on a clock of the tests' own (test_commandline_parts.py), then through the local executor.
    Target("commandline", "src/parley/code/commandline.py",
           ("tests/code/test_commandline_parts.py", "tests/code/test_local.py", "tests/code/test_local_classic.py",
            "tests/code/test_local_details.py")),
    # Spec validation, rule by rule: no chat is run (test_spec_attacks.py's end-to-end chats
    # do not survive mutmut's fork, see access below).
    Target("loading", "src/parley/spec/loading.py", ("tests/spec/test_loading_rules.py", "tests/spec/test_bad_specs.py")),
    Target("references", "src/parley/spec/references.py",
           ("tests/spec/test_reference_rules.py", "tests/spec/test_bad_specs.py")),
    Target("document", "src/parley/spec/document.py", ("tests/spec/test_document_rules.py", "tests/spec/test_bad_specs.py")),
    # The Studio's authentication in this process (Starlette request objects, a SQLite file): the
    # end-to-end tests start a real server, which mutmut's forked runs would not reach.
    *(Target(name, f"src/parley/studio/{name}.py", STUDIO_AUTH_TESTS) for name in ("auth", "users")),
    # What a browser's spec may ask of the Studio (models, modules, sandbox, folders), as functions.
    Target("policy", "src/parley/studio/policy.py", ("tests/studio/test_policy_rules.py", "tests/studio/test_api_units.py")),
    # Not test_spec_attacks.py: its end-to-end tests run chats whose threads and event loops do not
    # survive mutmut's fork (most of its mutant runs "timed out" there). The rule-by-rule tests do.
    Target("access", "src/parley/spec/access.py", ("tests/spec/test_access_rules.py", "tests/spec/test_bad_specs.py")),
    Target("imports", "src/parley/spec/imports.py", ("tests/spec/test_access_rules.py", "tests/spec/test_bad_specs.py")),
    # The run store, event by event and check by check (tests that take milliseconds; SQLite
    # only: the Postgres fixture starts a server for the session). Each store's writer thread is
    # joined when it closes, so no thread is alive at the fork. The end-to-end store tests (chats
    # recorded and resumed, ~40 s a run here) are not mapped: every surviving mutant would run them all.
    Target("recorder", "src/parley/store/recorder.py", ("tests/store/test_recorder_rows.py",)),
    Target("resume", "src/parley/store/resume.py",
           ("tests/store/test_resume_checks.py", "tests/store/test_sequential_resume.py", "tests/store/test_resume_usage.py",
            "tests/store/test_group_resume.py")),  # every cut point of a group chat, with and without max_turns
    # Reading, new_run and attach/detach: the same thread-free SQLite tests, and its own parts.
    Target("run_store", "src/parley/store/run_store.py",
           ("tests/store/test_run_store_parts.py", "tests/store/test_recorder_rows.py", "tests/store/test_resume_checks.py")),
)

STATUS_LINE = re.compile(r"^\s+(\S+): (\w[\w ]*)$")


def mutmut_config(target: Target) -> str:
    tests = ", ".join(f'"{t}"' for t in target.tests)
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f'only_mutate = ["{target.source}"]\n'
        f"pytest_add_cli_args_test_selection = [{tests}]\n"
        # mutmut's own timeout counts CPU time, so a mutant run stuck on a lock would wait forever
        # (seen with secrets.RedactingFilter mutants: a logging lock inherited through fork).
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "--timeout=30"]\n'
        # A CPU limit of 3x (not mutmut's 15x) the tests' time: a forked mutant run that spins is
        # stopped sooner, and every timeout is rechecked in a fresh interpreter anyway (recheck()).
        "timeout_multiplier = 3.0\n"
    )


def run_target(target: Target, workdir: Path, max_children: int, show_survivors: bool, results_only: bool,
               recheck_survivors: bool = True) -> dict[str, int]:
    scratch = workdir / target.name
    mutmut = [sys.executable, "-m", "mutmut"]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # mutmut puts mutants/src first itself
    if not results_only:
        run_mutmut(target, scratch, mutmut, env, max_children)
    return collect(target, scratch, mutmut, env, show_survivors, recheck_survivors)


def run_mutmut(target: Target, scratch: Path, mutmut: list[str], env: dict[str, str], max_children: int) -> None:
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    shutil.copytree(REPO / "src", scratch / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "tests", scratch / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    pyproject = (REPO / "pyproject.toml").read_text()
    (scratch / "pyproject.toml").write_text(pyproject + mutmut_config(target))
    subprocess.run(
        [*mutmut, "run", "--max-children", str(max_children)],
        cwd=scratch, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )


def collect(target: Target, scratch: Path, mutmut: list[str], env: dict[str, str], show_survivors: bool,
            recheck_survivors: bool = True) -> dict[str, int]:
    listing = subprocess.run(
        [*mutmut, "results", "--all", "true"], cwd=scratch, env=env,
        capture_output=True, text=True, check=True,
    ).stdout
    counts: dict[str, int] = {}
    survivors: list[str] = []
    for line in listing.splitlines():
        match = STATUS_LINE.match(line)
        if not match:
            continue
        name, status = match.groups()
        # A forked child that crashed (a mutant passing llama.cpp a bad pointer: "segfault", or an
        # abort mutmut calls "suspicious") is run again too; crashing there fails the tests: killed.
        if status in ("timeout", "segfault", "suspicious") or (status == "survived" and recheck_survivors):
            status = recheck(name, target, scratch, env)
        counts[status] = counts.get(status, 0) + 1
        if status not in ("killed", "timeout"):
            survivors.append(f"{name}: {status}")
    for entry in survivors:
        print(f"  {entry}")
        if show_survivors:
            name = entry.split(":")[0]
            diff = subprocess.run(
                [*mutmut, "show", name], check=False, cwd=scratch, env=env, capture_output=True, text=True
            ).stdout
            print("\n".join("    " + x for x in diff.splitlines()))
    return counts


def recheck(name: str, target: Target, scratch: Path, env: dict[str, str]) -> str:
    """A mutant mutmut reports as timed out, run again in a fresh interpreter (no fork).

    mutmut runs each mutant in a child forked from a process that already ran the tests; some
    children there hit mutmut's CPU limit although the same mutant, run on its own, passes every
    test in a second (seen for tools/schema.py). So a timeout is not taken as a kill: here the
    tests either fail ("killed"), hang past pytest's timeout (also a failure: "killed"), or pass
    ("survived"). Survivors are run again too: a mutant of code that runs at import time (a
    module-level object's ``__init__``) is never active in a child forked after the import.
    """
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--timeout=10", *target.tests],
        cwd=scratch / "mutants", env={**env, "MUTANT_UNDER_TEST": name, "PYTHONPATH": "src"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=300,
    )
    return "survived" if result.returncode == 0 else "killed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="short names: " + ", ".join(t.name for t in MODULES))
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutant runs (default 2)")
    parser.add_argument("--survivors", action="store_true", help="print each survivor's diff")
    parser.add_argument("--results-only", action="store_true", help="no new run: count the last run's results in --workdir")
    parser.add_argument("--timeouts-only", action="store_true",
                        help="recheck timeouts but not survivors (each recheck runs every mapped test: for a first "
                             "look at a big module; the rate can then only be too low)")
    parser.add_argument("--allow-root", action="store_true", help="run as root anyway (a throwaway machine only)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "parley-mutation")
    args = parser.parse_args()
    if os.geteuid() == 0 and not args.allow_root:
        # A mutant runs the real code with a check removed: as root, a write it should refuse
        # reaches system files (a run once overwrote /etc/passwd).
        parser.error(
            "refusing to run as root; run as an unprivileged user, e.g.\n"
            "  setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp/parley-mutation "
            "python bench/mutation.py --workdir /tmp/parley-mutation (a directory that user owns)"
        )
    chosen = [t for t in MODULES if not args.modules or t.name in args.modules]
    unknown = set(args.modules) - {t.name for t in MODULES}
    if unknown:
        parser.error(f"unknown module(s): {', '.join(sorted(unknown))}")
    rows = []
    for target in chosen:
        print(f"{target.name} ({target.source})", flush=True)
        counts = run_target(target, args.workdir, args.max_children, args.survivors, args.results_only,
                            recheck_survivors=not args.timeouts_only)
        total = sum(counts.values())
        killed = counts.get("killed", 0) + counts.get("timeout", 0)
        survived = counts.get("survived", 0)
        rate = 100.0 * killed / total if total else 0.0
        rows.append((target.name, total, killed, survived, total - killed - survived, rate))
    print(f"\n{'module':<12} {'mutants':>7} {'killed':>6} {'survived':>8} {'other':>5} {'kill %':>6}")
    for name, total, killed, survived, other, rate in rows:
        print(f"{name:<12} {total:>7} {killed:>6} {survived:>8} {other:>5} {rate:>6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
