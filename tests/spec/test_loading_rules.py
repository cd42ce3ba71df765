"""Loading a spec, rule by rule (``parley.spec.loading``): what the YAML reader refuses before
anything is built (anchors, depth, long numbers), keys written twice, and the line each issue
names. No team is built and nothing runs: each test is a few parses."""

from __future__ import annotations

import pytest
import yaml

from parley.spec import SpecError, Team, loading
from parley.spec.errors import SpecIssue
from parley.spec.loading import MAX_DEPTH, MAX_NUMBER_LENGTH, load_text, parse_yaml, validate_document

from .base_specs import team_document

VALID = "version: 1\nagents:\n  a: {}\n  b: {}\nrun: {initiator: a, recipient: b}\n"


def issues_of(call, *args) -> list[str]:
    with pytest.raises(SpecError) as caught:
        call(*args)
    return [str(issue) for issue in caught.value.issues]


def test_a_valid_text_loads():
    spec = load_text(VALID)
    assert list(spec.agents) == ["a", "b"] and spec.run.recipient == "b"


def test_malformed_yaml_names_the_source_the_problem_and_the_line():
    text = "version: 1\nagents:\n  a: {class: AssistantAgent\nrun: {initiator: a}\n"
    # The problem alone (not the error's text, which quotes the context and both marks), in
    # libyaml's words or PyYAML's own parser's.
    problem = "did not find expected ',' or '}'" if loading._Loader is yaml.CSafeLoader else "expected ',' or '}', but got ':'"
    assert issues_of(load_text, text, "team.yaml") == [f"<document> (line 4): malformed YAML in team.yaml: {problem}"]
    assert issues_of(parse_yaml, text) == [f"<document> (line 4): malformed YAML in <spec>: {problem}"]
    assert issues_of(load_text, text) == [f"<document> (line 4): malformed YAML in <spec>: {problem}"]


def test_an_error_with_only_a_context_mark_gives_that_line():
    mark = yaml.Mark("<spec>", 0, 6, 0, None, None)
    error = loading._malformed(yaml.MarkedYAMLError(context="while reading", context_mark=mark), "t.yaml")
    assert [str(i) for i in error.issues] == [("<document> (line 7): malformed YAML in t.yaml: while reading\n  "
                                              'in "<spec>", line 7, column 1')]
    both = yaml.MarkedYAMLError(problem="bad", problem_mark=mark, context_mark=yaml.Mark("", 0, 1, 0, None, None))
    error = loading._malformed(both, "t.yaml")
    assert [str(i) for i in error.issues] == ["<document> (line 7): malformed YAML in t.yaml: bad"]


def test_malformed_yaml_found_after_the_events_names_the_source_too(monkeypatch):
    # A duplicate document start is refused by the loader (get_single_node), not by the events' pass.
    (issue,) = issues_of(parse_yaml, "a: 1\n---\nb: 2\n", "two.yaml")
    assert issue.startswith("<document> (line 2): malformed YAML in two.yaml: ") and "another document" in issue


def test_a_reader_error_has_no_line_and_is_named_by_its_text():
    # The reader refuses control characters; its error has no mark and no ``problem``.
    (issue,) = issues_of(parse_yaml, "a: 1\x07\n", "bell.yaml")
    assert issue.startswith("<document>: malformed YAML in bell.yaml: unacceptable character #x0007")


def test_anchors_are_refused_at_their_own_line():
    text = "version: 1\nagents:\n  a: &x {}\n  b: *x\nrun: {initiator: a, recipient: b}\n"
    assert issues_of(load_text, text) == [
        "<document> (line 3): YAML anchors and aliases (&name, *name) are not allowed in a spec"]
    # An anchor on a scalar, never used, is refused as well (no alias follows to catch).
    assert issues_of(parse_yaml, "a: 1\nb: &x 2\n") == [
        "<document> (line 2): YAML anchors and aliases (&name, *name) are not allowed in a spec"]


def test_the_node_tree_check_refuses_aliases_the_events_pass_let_through(monkeypatch):
    # A second line of defence: with the events' pass off, the built tree is checked on its own.
    monkeypatch.setattr(loading, "_check_events", lambda text, source: None)
    assert issues_of(parse_yaml, "a: &x [1]\nb: *x\n") == [
        "<document>: YAML anchors and aliases (&name, *name) are not allowed in a spec"]


def test_has_aliases_finds_a_collection_used_twice_anywhere():
    for text in ("a: &x [1]\nb: *x\n", "a: &x {k: 1}\nb: [*x]\n", "- &x [1]\n- [[*x]]\n", "a: &x [1]\n*x : 2\n"):
        assert loading._has_aliases(yaml.compose(text)), text
    for text in ("a: [1]\nb: [1]\n", "- {k: [1, {j: 2}]}\n- []\n", "a: &x 1\nb: *x\n"):  # a scalar can't grow
        assert not loading._has_aliases(yaml.compose(text)), text
    assert not loading._has_aliases(None)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_is_limited_to_max_depth_and_named_with_the_line():
    assert MAX_DEPTH == 64
    document, _ = parse_yaml(nested(MAX_DEPTH))
    assert document is not None
    assert issues_of(parse_yaml, "a: 1\nb: " + nested(MAX_DEPTH)) == [
        "<document> (line 2): nested more than 64 levels deep"]  # the mapping is one level more
    # The depth goes down again when a collection ends: siblings are not deeper.
    parse_yaml("[" + ", ".join(nested(MAX_DEPTH - 1) for _ in range(5)) + "]")
    # ... by one: at 63 levels, an empty list and then two more levels make 65.
    assert issues_of(parse_yaml, "[" * 63 + "[], [[]]" + "]" * 63) == ["<document> (line 1): nested more than 64 levels deep"]
    parse_yaml("[" * 62 + "[], [[]]" + "]" * 62)


def test_long_numbers_are_refused_before_conversion():
    assert MAX_NUMBER_LENGTH == 100
    longest = "1" * MAX_NUMBER_LENGTH
    assert parse_yaml(f"a: {longest}\n")[0] == {"a": int(longest)}
    for value in ("1" * 101, "-" + "1" * 100, "+" + "1" * 100, "1" + "a" * 100, "9" * 5000):
        assert issues_of(parse_yaml, f"a: 1\nb: {value}\n") == [
            "<document> (line 2): a number more than 100 characters long"], value
    # Quoted, or not starting with a digit: a string, whatever its length.
    for value in ('"' + "1" * 101 + '"', "'" + "1" * 101 + "'", "a" * 101, "-" + "a" * 100, "x" + "1" * 200,
                  "X" + "1" * 200):
        document, _ = parse_yaml(f"a: {value}\n")
        assert isinstance(document["a"], str) and len(document["a"]) > 100, value


def test_what_the_constructor_still_refuses_is_a_clear_error():
    # A tagged, quoted scalar passes the events' checks; int() refuses it. The message is cut at 200.
    error = f"invalid literal for int() with base 10: {'a' * 300!r}"[:200]
    assert issues_of(parse_yaml, f'a: !!int "{"a" * 300}"\n', "big.yaml") == [
        f"<document>: can't read big.yaml: ValueError: {error}"]
    assert issues_of(parse_yaml, "a: 2024-13-01\n") == ["<document>: can't read <spec>: ValueError: month must be in 1..12"]


def test_an_empty_text_is_no_document():
    assert parse_yaml("") == (None, None)
    assert issues_of(load_text, "") == ["<document>: a spec must be a mapping (version, agents, run, ...), got NoneType"]


def test_parse_yaml_gives_the_data_and_its_node_tree():
    document, node = parse_yaml(VALID)
    assert document == {"version": 1, "agents": {"a": {}, "b": {}}, "run": {"initiator": "a", "recipient": "b"}}
    assert isinstance(node, yaml.MappingNode) and [k.value for k, _ in node.value] == ["version", "agents", "run"]


def test_every_key_written_twice_is_named_with_its_path_and_line():
    text = ("version: 1\n"
            "agents:\n"
            "  a: {}\n"
            "  a: {}\n"
            "run: {initiator: a, recipient: a}\n"
            "x:\n"
            "  - {k: 1, k: 2}\n"
            "  - [{j: 1}, {j: 1, j: 2}]\n"
            "version: 2\n")
    assert issues_of(parse_yaml, text) == [
        "agents.a (line 4): this key is written twice (the second would replace the first)",
        "x[0].k (line 7): this key is written twice (the second would replace the first)",
        "x[1][1].j (line 8): this key is written twice (the second would replace the first)",
        "version (line 9): this key is written twice (the second would replace the first)",
    ]
    parse_yaml("a: {k: 1}\nb: {k: 1}\nc: [{k: 1}, {k: 1}]\n")  # the same key in different mappings
    assert issues_of(parse_yaml, "- {k: 1}\n- {k: 1, k: 2}\n") == [
        "[1].k (line 2): this key is written twice (the second would replace the first)"]


def test_keys_are_compared_as_text():
    assert issues_of(parse_yaml, "1: a\n'1': b\n") == [
        "1 (line 2): this key is written twice (the second would replace the first)"]


TEXT = """\
version: 1
agents:
  a:
    class: AssistantAgent
  b:
    nested_chats:
      - trigger: a
        chat_queue:
          - recipient: a
run:
  initiator: a
  recipient: b
"""


@pytest.mark.parametrize("path, line", [
    ("", 1), ("version", 1), ("agents", 2), ("agents.a", 3), ("agents.a.class", 4), ("agents.b.nested_chats", 6),
    ("agents.b.nested_chats[0]", 7), ("agents.b.nested_chats[0].chat_queue[0]", 9),
    ("agents.b.nested_chats[0].chat_queue[0].recipient", 9), ("run.recipient", 12),
    # Not found: the line of the deepest part that was.
    ("agents.c", 2), ("agents.a.nothing", 3), ("agents.b.nested_chats[3]", 6),
    ("agents.b.nested_chats[1]", 6), ("agents.b.nested_chats.x", 6),
    ("agents.a.class.x", 4), ("agents[0]", 2), ("run.recipient[0]", 12),
])
def test_the_line_of_a_path(path, line):
    _, node = parse_yaml(TEXT)
    assert loading._line(node, path) == line


def test_the_line_of_nothing():
    assert loading._line(None, "agents") is None


def test_validation_issues_get_the_line_of_their_path():
    text = TEXT.replace("class: AssistantAgent", "class: Robot").replace("recipient: a\n", "recipient: z\n")
    assert issues_of(load_text, text)[0].startswith("agents.a.class (line 4): must be one of")
    text = TEXT.replace("recipient: a\n", "recipient: z\n")
    assert issues_of(load_text, text) == [("agents.b.nested_chats[0].chat_queue[0].recipient (line 9): no agent named 'z' "
                                          "(known: a, b)")]


def test_an_unknown_key_gets_its_own_line():
    text = TEXT.replace("run:\n", "extra: 1\nrun:\n")
    text = text.replace("    class: AssistantAgent\n", "    class: AssistantAgent\n    klass: x\n")
    assert issues_of(load_text, text) == ["agents.a (line 5): unknown key 'klass'; did you mean 'class'?",
                                          "<document> (line 11): unknown key 'extra'"]


def test_plain_data_gets_no_line():
    document = team_document()
    document["agents"]["Engineer"]["klass"] = 1
    assert issues_of(validate_document, document) == ["agents.Engineer: unknown key 'klass'; did you mean 'class'?"]
    document = team_document()
    document["run"]["initiator"] = "nobody"
    assert issues_of(validate_document, document) == [
        "run.initiator: no agent named 'nobody' (known: Admin, Engineer, Executor, Critic, Reviewer, manager)"]


def test_with_lines_keeps_a_line_already_given():
    _, node = parse_yaml(TEXT)
    error = loading._with_lines(SpecError([SpecIssue("run.recipient", "x", 2), SpecIssue("run.recipient", "y")]), node)
    assert [(i.path, i.message, i.line) for i in error.issues] == [("run.recipient", "x", 2), ("run.recipient", "y", 12)]
    plain = SpecError([SpecIssue("run", "z")])
    assert loading._with_lines(plain, None) is plain


def test_located():
    assert loading._located(SpecIssue("agents.a", "unknown key 'klass'; did you mean 'class'?")) == "agents.a.klass"
    assert loading._located(SpecIssue("", "unknown key 'x'")) == "x"
    assert loading._located(SpecIssue("agents.a", "must be unknown key 'x'")) == "agents.a"  # only at the start


def test_plain_data_nesting_is_limited_too():
    def deep(depth: int, make) -> object:
        value: object = 1
        for _ in range(depth):
            value = make(value)
        return value

    for make in (lambda v: [v], lambda v: {"k": v}):
        document = {"version": 1, "x": deep(MAX_DEPTH - 1, make)}  # 64 levels with the document itself
        assert "nested" not in " ".join(issues_of(validate_document, document))
        document = {"version": 1, "x": deep(MAX_DEPTH, make)}
        assert issues_of(validate_document, document) == ["<document>: nested more than 64 levels deep"]
    # Values deeper than the limit are found anywhere: after shallow siblings, in lists of mappings.
    document = {"version": 1, "a": [1, {"b": 2}], "z": [{"k": deep(MAX_DEPTH - 2, lambda v: [v])}]}
    assert issues_of(validate_document, document) == ["<document>: nested more than 64 levels deep"]


def test_an_older_version_is_upgraded_before_validation():
    spec = validate_document({"version": 0, "agents": {"a": {"model": "m"}, "b": {}}, "models": {
        "m": {"config_list": [{"model": "gpt-4o"}]}}, "start": {"initiator": "a", "recipient": "b"}})
    assert spec.agents["a"].llm_config == "m" and spec.run.initiator == "a"


def test_team_from_yaml_and_from_dict_agree():
    assert Team.from_yaml(VALID).spec == validate_document(yaml.safe_load(VALID))
