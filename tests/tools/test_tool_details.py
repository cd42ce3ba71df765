"""tools/tool.py in detail: tools made from schemas and for execution only, the exact error the
model reads for bad arguments, and sync tools in a forked child."""

import asyncio
import os

import pytest

from parley.tools import Tool


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def untyped(a, b=1):
    return f"{a}|{b}"


def run(coroutine, guard: float = 10):
    # wait_for only keeps a broken tool from hanging the test run; no timing is asserted.
    return asyncio.run(asyncio.wait_for(coroutine, guard))


def test_a_sync_tool_runs_in_a_forked_child():
    # The parent now has an idle worker thread; a forked child has none.
    assert run(Tool(add).call('{"a": 1, "b": 2}')) == "3"
    pid = os.fork()
    if pid == 0:  # the child: report by exit status only
        try:
            result = run(Tool(add).call('{"a": 2, "b": 2}'))
            os._exit(0 if result == "4" else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert run(Tool(add).call('{"a": 3, "b": 2}')) == "5"  # and the parent's workers still work


def test_from_schema():
    seen = []

    async def remote(**arguments):
        seen.append(arguments)
        return {"ok": True}

    # "type" may be left out: an object schema is the default.
    tool = Tool.from_schema("remote", "A remote tool.", {"properties": {"q": {"type": "string"}}}, remote, timeout=2.5)
    assert tool.timeout == 2.5 and tool.func is remote
    assert tool.parameters == {"properties": {"q": {"type": "string"}}}
    assert run(tool.call('{"q": "x", "extra": 1}')) == '{"ok": true}'  # unvalidated: the server checks
    assert seen == [{"q": "x", "extra": 1}]
    with pytest.raises(ValueError, match="must be a JSON object schema"):
        Tool.from_schema("remote", "d", {"type": "array"}, remote)
    with pytest.raises(ValueError) as error:
        Tool.from_schema("bad name!", "d", {}, remote)
    assert "(function 'remote')" in str(error.value)


def test_for_execution_validates_when_it_can_and_passes_arguments_as_they_are_otherwise():
    typed = Tool.for_execution(add)
    assert typed.name == "add" and typed.func is add
    assert run(typed.call('{"a": "2", "b": 3}')) == "5"  # validated: "2" became 2
    named = Tool.for_execution(add, name="plus")
    assert named.name == "plus"
    loose = Tool.for_execution(untyped)
    assert loose.name == "untyped" and loose.description is None
    assert run(loose.call('{"a": "x", "zzz": 1}')) == "Error: untyped() got an unexpected keyword argument 'zzz'"
    assert run(loose.call('{"a": "x"}')) == "x|1"


def test_a_tool_called_directly_gets_all_its_arguments():
    assert Tool(add)(1, b=2) == 3
    assert repr(Tool(add, name="plus")) == "Tool(name='plus')"


def test_no_arguments_at_all():
    def ping() -> str:
        """Ping."""
        return "pong"

    assert run(Tool(ping).call(None)) == "pong"
    assert run(Tool(ping).call("  ")) == "pong"
    assert run(Tool(add).call(None)) == (
        "Error: invalid arguments for function 'add':\n- a: Field required\n- b: Field required"
    )


@pytest.mark.parametrize(("length", "shown"), [(118, None), (119, "cut")])
def test_the_invalid_value_quoted_back_is_cut_after_120_characters(length, shown):
    value = "x" * length  # its repr has two quotes more
    message = run(Tool(add).call({"a": value, "b": 1}))
    quoted = repr(value) if shown is None else repr(value)[:120] + "..."
    assert message == (
        "Error: invalid arguments for function 'add':\n"
        f"- a: Input should be a valid integer, unable to parse string as an integer (got {quoted})"
    )


def test_several_errors_one_line_each_with_nested_locations():
    def order(items: list[int], note: str) -> str:
        """Order."""
        return note

    message = run(Tool(order).call({"items": [1, "two"], "note": 3, "tip": 1}))
    assert message == (
        "Error: invalid arguments for function 'order':\n"
        "- items.1: Input should be a valid integer, unable to parse string as an integer (got 'two')\n"
        "- note: Input should be a valid string (got 3)\n"
        "- tip: Extra inputs are not permitted (got 1)"
    )


def test_the_schema_a_tool_shows():
    assert Tool(add, name="plus").schema == {"type": "function", "function": {
        "name": "plus", "description": "Add two integers.",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer", "description": "a"},
                                                       "b": {"type": "integer", "description": "b"}},
                       "required": ["a", "b"]}}}
    assert Tool.for_execution(untyped).schema == {"type": "function", "function": {
        "name": "untyped", "parameters": {"type": "object", "properties": {}}}}
    remote = Tool.from_schema("remote", "A remote tool.", {"type": "object"}, untyped)
    assert remote.schema == {"type": "function", "function": {"name": "remote", "description": "A remote tool.",
                                                              "parameters": {"type": "object"}}}


def test_outcomes_say_whether_the_call_succeeded():
    from parley.tools import ToolError

    async def stuck() -> str:
        """Never returns: the timeout is certain, whatever the machine's speed."""
        await asyncio.Event().wait()
        return "late"

    def refuses() -> str:
        """Refuses."""
        raise ToolError("not today")

    def breaks() -> str:
        """Breaks."""
        raise KeyError("k")

    outcome = run(Tool(stuck, timeout=0.01).invoke(None, timeout=99))
    assert (outcome.content, outcome.ok) == ("Error: function 'stuck' timed out after 0.01 s", False)
    outcome = run(Tool(stuck).invoke(None, timeout=0.01))
    assert (outcome.content, outcome.ok) == ("Error: function 'stuck' timed out after 0.01 s", False)
    outcome = run(Tool(refuses).invoke(None))
    assert (outcome.content, outcome.ok) == ("Error: not today", False)
    outcome = run(Tool(breaks).invoke(None))
    assert (outcome.content, outcome.ok) == ("Error: 'k'", False)
    outcome = run(Tool(add).invoke({"a": 1, "b": 1}))
    assert (outcome.content, outcome.ok) == ("2", True)


def test_a_sync_tool_may_hand_back_a_coroutine():
    async def later() -> int:
        return 7

    def deferred() -> int:
        """Deferred."""
        return later()

    assert run(Tool(deferred).call(None)) == "7"


def test_arguments_as_the_model_writes_them():
    def echo(text: str) -> str:
        """Echo."""
        return text

    assert run(Tool(echo).call('{"text": "line one\nline two\ttab"}')) == "line one\nline two\ttab"  # raw control characters
    assert run(Tool(echo).call(42)) == "Error: the arguments must be a JSON object, got int"
    assert run(Tool(echo).call("[1]")) == "Error: the arguments must be a JSON object ({...}), got list"


def test_sync_tools_run_on_daemon_worker_threads():
    import threading

    def where() -> str:
        """Where."""
        thread = threading.current_thread()
        return f"{thread.name} {thread.daemon}"

    assert run(Tool(where).call(None)) == "parley-tool True"


def test_construction_errors_are_exact(caplog):
    with pytest.raises(TypeError) as error:
        Tool(Tool(add))
    assert str(error.value) == "'add' is already a Tool"
    with pytest.raises(TypeError) as error:
        Tool(42)
    assert str(error.value) == "a tool must be callable, not int"

    class Greeter:
        """A class docstring is no description of its __call__."""

        def __call__(self, name: str) -> str:
            return name

    with pytest.raises(ValueError) as error:
        Tool(Greeter())
    assert str(error.value) == ("function 'Greeter' has no description: pass description=\"...\" (or give it a docstring) "
                                "so the model knows when to call it")
    with pytest.raises(ValueError) as error:
        Tool(add, name="bad/name")
    assert str(error.value) == ("tool name 'bad/name' (function 'add') must be 1-64 letters, digits, '_' or '-'; "
                                "pass name=\"...\"")
    with caplog.at_level("WARNING", logger="parley.tools.tool"):
        Tool(add, name="add numbers")
    assert caplog.messages == [("tool name 'add numbers' (function 'add') has spaces: OpenAI's API refuses such names; "
                                "other providers and the embedded model accept them")]

    def star(*values: int) -> None:
        """Star."""

    with pytest.raises(TypeError) as error:
        Tool(star, name="renamed")
    assert str(error.value).startswith("function 'renamed': parameter 'values' is")
