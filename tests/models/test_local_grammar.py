"""JSON schema → grammar: unsupported schemas are refused with the field named."""

from __future__ import annotations

import pytest

from parley.models.grammar import SchemaError, check_schema, check_tools


@pytest.mark.parametrize(("schema", "field"), [
    ({"type": "object", "properties": {"n": {"type": "bigint"}}}, "s.properties.n.type"),
    ({"type": "object", "properties": {"n": {"not": {"type": "null"}}}}, "s.properties.n.not"),
    ({"type": "array", "items": {"type": "string", "pattern": "[a-z]+"}}, "s.items.pattern"),
    ({"type": "string", "enum": []}, "s.enum"),
    ({"type": "object", "properties": {}, "required": ["ghost"]}, "s.required"),
    ({"$ref": "https://example.com/schema.json"}, "s.$ref"),
    ({"$ref": "#/$defs/Missing", "$defs": {}}, "s.$ref"),
    ({"anyOf": [{"type": "string"}, {"type": "integer", "if": {}}]}, "s.anyOf[1].if"),
    ({"type": "object", "additionalProperties": {"type": "weird"}}, "s.additionalProperties.type"),
    ({"type": "object", "properties": {"a": 3}}, "s.properties.a"),
])
def test_unsupported_schema_names_the_field(schema: dict, field: str) -> None:
    with pytest.raises(SchemaError) as raised:
        check_schema(schema, "s")
    assert str(raised.value).startswith(field)


@pytest.mark.parametrize("schema", [
    {},
    {"type": "object", "properties": {"speaker": {"type": "string", "enum": ["a", "b"]}}, "required": ["speaker"]},
    {"type": ["string", "null"]},
    {"type": "object", "properties": {"p": {"$ref": "#/$defs/P"}}, "$defs": {"P": {"type": "integer", "minimum": 0}}},
    {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}, "minItems": 1},
    {"type": "object", "additionalProperties": False, "properties": {"x": {"type": "number", "description": "x"}}},
])
def test_supported_schema_passes(schema: dict) -> None:
    check_schema(schema, "s")


def test_tools_must_have_distinct_names_and_a_function() -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    with pytest.raises(SchemaError, match=r"tools\[1\]\.function\.name 'f' is used by two tools"):
        check_tools([tool, tool])
    with pytest.raises(SchemaError, match=r"tools\[0\]\.function is missing"):
        check_tools([{"type": "function"}])


def test_grammars_are_valid_for_llama_cpp() -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'parley[local]')")
    from parley.models.grammar import json_grammar, tool_call_grammar

    tools = [{"type": "function", "function": {"name": "get-weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    with_text = tool_call_grammar(tools, allow_text=True)
    assert with_text.startswith("root ::= tool-call | text")
    assert '"\\"get-weather\\""' in with_text
    assert "root ::= tool-call\n" in tool_call_grammar(tools, allow_text=False)
    assert "root ::=" in json_grammar({"type": "object", "properties": {"a": {"type": "integer"}}})
    # JSON strings may not hold raw control characters (newlines included).
    assert r'char ::= [^"\\\x7F\x00-\x1F]' in json_grammar({"type": "string"})


# ----------------------------------------------------------------- every refusal, by its message

@pytest.fixture(autouse=True)
def _fresh_grammars():
    # The grammars are cached by their schema; a test must build its own (under mutation testing
    # the cache filled by an earlier run would answer for the code under test).
    from parley.models import grammar

    grammar._json_grammar_cached.cache_clear()
    grammar._tool_grammar_cached.cache_clear()


@pytest.mark.parametrize(("schema", "message"), [
    (3, "s must be a JSON schema object, not int"),
    ([], "s must be a JSON schema object, not list"),
    ({"uniqueItems": True}, "s.uniqueItems: JSON schema keyword 'uniqueItems' is not supported by grammar-constrained decoding"),
    ({"maxProperties": 2}, ("s.maxProperties: JSON schema keyword 'maxProperties' is not supported by grammar-constrained "
                           "decoding")),
    ({"type": ["string", "date"]}, ("s.type: unknown JSON schema type 'date' (expected one of "
                                   "['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'])")),
    ({"enum": "a"}, "s.enum must be a non-empty list"),
    ({"enum": []}, "s.enum must be a non-empty list"),
    ({"$ref": 3}, "s.$ref: only local references ('#/$defs/...') are supported, not 3"),
    ({"$ref": "#/$defs/A/b", "$defs": {"A": {"type": "string"}}}, "s.$ref: '#/$defs/A/b' does not resolve inside the schema"),
    ({"$ref": "#/$defs/A/b", "$defs": {"A": "x"}}, "s.$ref: '#/$defs/A/b' does not resolve inside the schema"),
    ({"type": "string", "pattern": "^a"}, "s.pattern must be anchored, starting with '^' and ending with '$': '^a'"),
    ({"type": "string", "pattern": "a$"}, "s.pattern must be anchored, starting with '^' and ending with '$': 'a$'"),
    ({"type": "string", "pattern": 3}, "s.pattern must be anchored, starting with '^' and ending with '$': 3"),
    ({"type": "string", "pattern": "^(a$"}, ("s.pattern is not a valid regular expression (missing ), unterminated "
                                            "subpattern at position 1): '^(a$'")),
    ({"properties": []}, "s.properties must be an object"),
    ({"required": "a"}, "s.required must be a list of property names"),
    ({"properties": {"a": {}}, "required": ["a", "b"]}, "s.required names 'b', which is not in s.properties"),
    ({"required": ["a"]}, "s.required names 'a', which is not in s.properties"),
    ({"$defs": []}, "s.$defs must be an object"),
    ({"definitions": {"A": {"type": "nope"}}}, ("s.definitions.A.type: unknown JSON schema type 'nope' (expected one of "
                                               "['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'])")),
    ({"oneOf": []}, "s.oneOf must be a non-empty list of schemas"),
    ({"allOf": {}}, "s.allOf must be a non-empty list of schemas"),
    ({"prefixItems": [{"type": "string"}, {"not": {}}]}, ("s.prefixItems[1].not: JSON schema keyword 'not' is not supported "
                                                         "by grammar-constrained decoding")),
    ({"type": "string", "allOf": [{"type": "string"}]}, "s.allOf is only supported for objects"),
    ({"type": ["object", "null"], "allOf": [{"type": "object"}]}, "s.allOf is only supported for objects"),
    ({"type": "array", "items": [{"type": "string"}, {"if": {}}]}, ("s.items[1].if: JSON schema keyword 'if' is not supported "
                                                                  "by grammar-constrained decoding")),
    ({"type": "array", "items": {"enum": []}}, "s.items.enum must be a non-empty list"),
    ({"additionalProperties": {"enum": []}}, "s.additionalProperties.enum must be a non-empty list"),
])
def test_each_refusal_names_the_field_and_the_reason(schema, message):
    with pytest.raises(SchemaError) as raised:
        check_schema(schema, "s")
    assert str(raised.value) == message


@pytest.mark.parametrize("schema", [
    True, False,
    {"type": "object", "allOf": [{"properties": {"a": {"type": "string"}}}]},
    {"type": ["object"], "allOf": [{"properties": {"a": {"type": "string"}}}]},
    {"allOf": [{"properties": {"a": {"type": "string"}}}]},
    {"type": "object", "properties": {"a": {"$ref": "#/definitions/A"}}, "definitions": {"A": {"type": "string"}}},
    {"type": "array", "items": [{"type": "string"}, True]},
    {"type": "object", "additionalProperties": True},
    # References resolve against the whole schema from any depth.
    {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/A"}], "$defs": {"A": {"type": "string"}}},
    {"type": "array", "items": [{"$ref": "#/$defs/A"}], "$defs": {"A": {"type": "string"}}},
    {"type": "array", "items": {"$ref": "#/$defs/A"}, "$defs": {"A": {"type": "string"}}},
    {"type": "object", "additionalProperties": {"$ref": "#/$defs/A"}, "$defs": {"A": {"type": "string"}}},
])
def test_more_schemas_that_are_supported(schema):
    check_schema(schema, "s")


@pytest.mark.parametrize(("schema", "reason"), [
    ({"type": "string", "pattern": "^(?:a)$"}, 'Unsupported pattern syntax "?" at index 1 of /(?:a)/'),  # an assert
    ({"type": "string", "pattern": "^a{x}$"}, "Invalid quantifier {x} in /a{x}/"),  # a ValueError
    ({"$ref": "#/$defs/A", "$defs": {"A": {"$ref": "#/$defs/A"}}}, "'#/$defs/A'"),  # a KeyError: only itself
    ({"type": "array", "items": {"type": "string"}, "minItems": "2"}, ("'>' not supported between instances of 'str' "
                                                                      "and 'int'")),  # a TypeError
])
def test_a_schema_the_converter_fails_on_is_refused_with_where_it_came_from(schema, reason):
    from parley.models.grammar import json_grammar

    pytest.importorskip("llama_cpp")
    with pytest.raises(SchemaError) as raised:
        json_grammar(schema, "response_format.json_schema.schema")
    assert str(raised.value) == f"response_format.json_schema.schema: cannot convert the JSON schema to a grammar: {reason}"


def test_the_schema_is_checked_first_under_its_default_name():
    from parley.models.grammar import json_grammar

    pytest.importorskip("llama_cpp")
    with pytest.raises(SchemaError, match=r"^response_format\.enum must be a non-empty list$"):
        json_grammar({"enum": []})


# ----------------------------------------------------------------- the tool-call schema and its checks

def _tool(name, parameters=None):
    function = {"name": name} if parameters is None else {"name": name, "parameters": parameters}
    return {"type": "function", "function": function}


OBJECT_X = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}


def test_the_shape_of_one_call():
    from parley.models.grammar import tool_call_schema

    assert tool_call_schema([_tool("f", OBJECT_X)]) == {
        "type": "object", "properties": {"name": {"const": "f"}, "arguments": OBJECT_X}, "required": ["name", "arguments"]}
    no_parameters = {"type": "object", "properties": {"name": {"const": "g"}, "arguments": {"type": "object", "properties": {}}},
                     "required": ["name", "arguments"]}
    assert tool_call_schema([_tool("g")]) == no_parameters
    assert tool_call_schema([_tool("g", {})]) == no_parameters
    assert tool_call_schema([_tool("f", OBJECT_X), _tool("g")]) == {"oneOf": [
        tool_call_schema([_tool("f", OBJECT_X)]), no_parameters]}


@pytest.mark.parametrize(("tools", "message"), [
    ({"name": "f"}, "tools must be a list of tool schemas, not dict"),
    (["f"], "tools[0].function is missing: expected {'type': 'function', 'function': {...}}"),
    ([_tool("f"), {"type": "function", "function": "f"}], ("tools[1].function is missing: expected "
                                                          "{'type': 'function', 'function': {...}}")),
    ([{"type": "function", "function": {}}], "tools[0].function.name is missing or empty"),
    ([_tool("")], "tools[0].function.name is missing or empty"),
    ([_tool(3)], "tools[0].function.name is missing or empty"),
    ([_tool("f"), _tool("g"), _tool("f")], "tools[2].function.name 'f' is used by two tools"),
    ([_tool("f"), _tool("g", {"type": "object", "properties": {"x": {"type": "bigint"}}})],
     ("tools[1].function.parameters.properties.x.type: unknown JSON schema type 'bigint' (expected one of "
     "['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'])")),
])
def test_each_tool_refusal_names_the_tool(tools, message):
    with pytest.raises(SchemaError) as raised:
        check_tools(tools)
    assert str(raised.value) == message


def test_a_tool_schema_the_converter_fails_on_is_refused_naming_the_tools():
    from parley.models.grammar import tool_call_grammar

    pytest.importorskip("llama_cpp")
    tool = _tool("f", {"type": "object", "properties": {"s": {"type": "string", "pattern": "^(?:a)$"}}})
    with pytest.raises(SchemaError) as raised:
        tool_call_grammar([tool], allow_text=True)
    assert str(raised.value) == ('tools: cannot convert the JSON schema to a grammar: '
                                 'Unsupported pattern syntax "?" at index 1 of /(?:a)/')


def test_tools_are_checked_before_a_grammar_is_made():
    from parley.models.grammar import tool_call_grammar

    pytest.importorskip("llama_cpp")
    with pytest.raises(SchemaError, match=r"^tools\[1\]\.function\.name 'f' is used by two tools$"):
        tool_call_grammar([_tool("f"), _tool("f")], allow_text=False)


# ----------------------------------------------------------------- the grammars, compiled and stepped by llama.cpp

SPEAKER = {"type": "object", "properties": {"speaker": {"type": "string", "enum": ["alice", "bob"]}},
           "required": ["speaker"], "additionalProperties": False}


def test_a_json_reply_matches_its_schema(grammar_steps):
    from parley.models.grammar import json_grammar

    grammar = json_grammar(SPEAKER)
    assert grammar_steps.compiles(grammar)
    assert grammar_steps.accepts(grammar, '{"speaker": "bob"}')
    assert grammar_steps.accepts(grammar, '{"speaker":"alice"}')
    for wrong in ('{"speaker": "carol"}', '{"speaker": "bob", "x": 1}', '{}', '"bob"', '{"speaker": "bob"} {}'):
        assert not grammar_steps.accepts(grammar, wrong), wrong


def test_without_a_schema_a_reply_is_any_json_object(grammar_steps):
    from parley.models.grammar import json_grammar

    grammar = json_grammar(None)
    assert grammar == json_grammar({"type": "object"})
    for text in ('{}', '{"a": [1, {"b": null}]}'):
        assert grammar_steps.accepts(grammar, text), text
    for text in ('[]', '1', '"x"', '{"a": }'):
        assert not grammar_steps.accepts(grammar, text), text


def test_json_strings_hold_no_raw_control_characters(grammar_steps):
    from parley.models.grammar import json_grammar

    grammar = json_grammar({"type": "object", "properties": {"s": {"type": "string"}}, "required": ["s"]})
    assert grammar_steps.accepts(grammar, '{"s": "a\\nb \\"q\\" \\u00e9 é"}')
    for raw in ("\n", "\t", "\x01", "\x7f"):
        assert not grammar_steps.accepts(grammar, '{"s": "a' + raw + 'b"}'), repr(raw)


def test_a_pattern_is_matched_inside_quotes_and_its_dot_is_no_line_break(grammar_steps):
    from parley.models.grammar import json_grammar

    grammar = json_grammar({"type": "string", "pattern": "^a.c$"})
    assert grammar_steps.accepts(grammar, '"abc"')
    assert not grammar_steps.accepts(grammar, 'abc')
    assert not grammar_steps.accepts(grammar, '"a\nc"')
    assert not grammar_steps.accepts(grammar, '"abbc"')


def test_a_reference_is_followed(grammar_steps):
    from parley.models.grammar import json_grammar

    grammar = json_grammar({"type": "object", "properties": {"p": {"$ref": "#/$defs/P"}}, "required": ["p"],
                            "$defs": {"P": {"type": "integer"}}})
    assert grammar_steps.accepts(grammar, '{"p": 12}')
    assert not grammar_steps.accepts(grammar, '{"p": "12"}')


TOOLS = [_tool("get-weather", {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
         _tool("add", {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                       "required": ["a", "b"]})]


def test_a_tool_call_names_a_tool_first_then_that_tool_s_arguments(grammar_steps):
    from parley.models.grammar import tool_call_grammar

    grammar = tool_call_grammar(TOOLS, allow_text=False)
    assert grammar_steps.compiles(grammar)
    assert grammar_steps.accepts(grammar, '{"name": "get-weather", "arguments": {"city": "Oslo"}}')
    assert grammar_steps.accepts(grammar, '{"name": "add", "arguments": {"a": 1, "b": 2}}')
    for wrong in ('{"arguments": {"city": "Oslo"}, "name": "get-weather"}',  # the name comes first
                  '{"name": "add", "arguments": {"city": "Oslo"}}',  # another tool's arguments
                  '{"name": "sub", "arguments": {"a": 1, "b": 2}}',
                  'It is sunny.'):
        assert not grammar_steps.accepts(grammar, wrong), wrong
    one = tool_call_grammar(TOOLS[:1], allow_text=False)
    assert one.startswith("root ::= tool-call\n")
    assert grammar_steps.accepts(one, '{"name": "get-weather", "arguments": {"city": "Oslo"}}')
    assert not grammar_steps.accepts(one, '{"name": "add", "arguments": {"a": 1, "b": 2}}')


def test_a_tool_without_parameters_is_called_with_an_empty_object(grammar_steps):
    from parley.models.grammar import tool_call_grammar

    grammar = tool_call_grammar([_tool("now")], allow_text=False)
    assert grammar_steps.accepts(grammar, '{"name": "now", "arguments": {}}')
    assert not grammar_steps.accepts(grammar, '{"name": "now"}')


def test_with_text_allowed_a_reply_is_a_call_or_text_that_cannot_be_taken_for_one(grammar_steps):
    from parley.models.grammar import tool_call_grammar

    grammar = tool_call_grammar(TOOLS, allow_text=True)
    assert grammar_steps.compiles(grammar)
    assert grammar_steps.accepts(grammar, '{"name": "add", "arguments": {"a": 1, "b": 2}}')
    for text in ("It is sunny.", "x", "Two lines\nand { braces }"):
        assert grammar_steps.accepts(grammar, text), text
    for text in ("", " leading space", "\nnewline first", '{"name": "sub"}'):
        assert not grammar_steps.accepts(grammar, text), text
