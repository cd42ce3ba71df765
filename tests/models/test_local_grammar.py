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
