"""JSON schema → llama.cpp grammar (GBNF), for constrained decoding on local models.

The conversion itself is llama-cpp-python's port of llama.cpp's ``json_schema_to_grammar``.
This module adds what it lacks: a check that names the offending field when a schema uses
something the converter would silently ignore or fail on with a bare ``assert``, and the
two grammars parley needs (a JSON value matching a schema; a tool call or plain text).

Supported: ``type`` (one or a list), ``properties``/``required``/``additionalProperties``,
``items``/``prefixItems``/``minItems``/``maxItems``, ``enum``, ``const``, ``oneOf``/``anyOf``,
``allOf`` of objects, local ``$ref`` (``#/$defs/...``), string ``pattern`` (``^...$``),
``minLength``/``maxLength`` and the ``date``/``time``/``date-time``/``uuid`` formats.
Annotations (``description``, ``title``, ``default``, ``examples``...) are ignored, and so
are numeric bounds (``minimum``...), which the grammar does not enforce.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from .protocol import ModelConfigError

_TYPES = frozenset({"string", "number", "integer", "boolean", "null", "object", "array"})
# Keywords that constrain validity but that the converter would silently drop: refusing them
# is better than producing output that does not match the schema.
_UNSUPPORTED = ("not", "if", "then", "else", "patternProperties", "dependentRequired", "dependentSchemas",
                "propertyNames", "contains", "unevaluatedProperties", "unevaluatedItems", "uniqueItems",
                "minProperties", "maxProperties")
_SCHEMA_LISTS = ("oneOf", "anyOf", "allOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "$defs", "definitions")

# Plain text that cannot be mistaken for a tool call: it never starts with "{" or whitespace.
_TEXT_RULES = 'text ::= [^{ \\t\\n\\r] text-char*\ntext-char ::= [^\\x00]'


# The converter lets JSON strings hold raw newlines and control characters, which JSON forbids
# (json.loads rejects them) and which let a small model ramble inside a string.
_LAX_STRING_CHAR = r'char ::= [^"\\]'
_STRICT_STRING_CHAR = r'char ::= [^"\\\x7F\x00-\x1F]'


class SchemaError(ModelConfigError):
    """A JSON schema the grammar converter cannot handle; the message names the field."""


def check_schema(schema: object, where: str) -> None:
    """Raise :class:`SchemaError` naming the field (``where`` + path) if ``schema`` is unsupported."""
    _check(schema, where, schema)


def _check(node: object, path: str, root: object) -> None:
    if isinstance(node, bool):
        return  # true/false schemas (e.g. additionalProperties: false)
    if not isinstance(node, dict):
        raise SchemaError(f"{path} must be a JSON schema object, not {type(node).__name__}")
    for keyword in _UNSUPPORTED:
        if keyword in node:
            raise SchemaError(
                f"{path}.{keyword}: JSON schema keyword {keyword!r} is not supported by grammar-constrained decoding"
            )
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
    for k in kinds:
        if k not in _TYPES:
            raise SchemaError(f"{path}.type: unknown JSON schema type {k!r} (expected one of {sorted(_TYPES)})")
    if "enum" in node:
        if not isinstance(node["enum"], list) or not node["enum"]:
            raise SchemaError(f"{path}.enum must be a non-empty list")
    ref = node.get("$ref")
    if ref is not None:
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise SchemaError(f"{path}.$ref: only local references ('#/$defs/...') are supported, not {ref!r}")
        target = root
        for part in ref[2:].split("/"):
            if not isinstance(target, dict) or part not in target:
                raise SchemaError(f"{path}.$ref: {ref!r} does not resolve inside the schema")
            target = target[part]
    pattern = node.get("pattern")
    if pattern is not None:
        if not (isinstance(pattern, str) and pattern.startswith("^") and pattern.endswith("$")):
            raise SchemaError(f"{path}.pattern must be anchored, starting with '^' and ending with '$': {pattern!r}")
        # The converter reads some invalid patterns as another, valid one ("^(a$" as "^a$").
        try:
            re.compile(pattern)
        except re.error as error:
            raise SchemaError(f"{path}.pattern is not a valid regular expression ({error}): {pattern!r}") from None
    properties = node.get("properties", {})
    if not isinstance(properties, dict):
        raise SchemaError(f"{path}.properties must be an object")
    required = node.get("required", [])
    if not isinstance(required, list):
        raise SchemaError(f"{path}.required must be a list of property names")
    for name in required:
        if name not in properties:
            raise SchemaError(f"{path}.required names {name!r}, which is not in {path}.properties")
    for key in _SCHEMA_MAPS:
        children = node.get(key)
        if children is None:
            continue
        if not isinstance(children, dict):
            raise SchemaError(f"{path}.{key} must be an object")
        for name, child in children.items():
            _check(child, f"{path}.{key}.{name}", root)
    for key in _SCHEMA_LISTS:
        children = node.get(key)
        if children is None:
            continue
        if not isinstance(children, list) or not children:
            raise SchemaError(f"{path}.{key} must be a non-empty list of schemas")
        for i, child in enumerate(children):
            _check(child, f"{path}.{key}[{i}]", root)
    if "allOf" in node and kinds not in ([], ["object"]):
        raise SchemaError(f"{path}.allOf is only supported for objects")
    items = node.get("items")
    if isinstance(items, list):
        for i, child in enumerate(items):
            _check(child, f"{path}.items[{i}]", root)
    elif items is not None:
        _check(items, f"{path}.items", root)
    extra = node.get("additionalProperties")
    if extra is not None:
        _check(extra, f"{path}.additionalProperties", root)


def _convert(schema: dict, rule_name: str, where: str, prop_order: tuple[str, ...] = ()) -> str:
    from llama_cpp.llama_grammar import SchemaConverter

    converter = SchemaConverter(prop_order={n: i for i, n in enumerate(prop_order)}, allow_fetch=False,
                                dotall=False, raw_pattern=False)
    try:
        resolved = converter.resolve_refs(json.loads(json.dumps(schema)), "input")
        converter.visit(resolved, rule_name)
    except (AssertionError, ValueError, KeyError, TypeError) as error:
        raise SchemaError(f"{where}: cannot convert the JSON schema to a grammar: {error}") from None
    return converter.format_grammar().replace(_LAX_STRING_CHAR, _STRICT_STRING_CHAR)


def _build_json_grammar(schema_json: str, where: str) -> str:
    schema = json.loads(schema_json)
    check_schema(schema, where)
    return _convert(schema, "", where)


# Cached by wrapping, not by decorating: mutation testing (mutmut) skips decorated functions.
_json_grammar_cached = lru_cache(maxsize=128)(_build_json_grammar)


def json_grammar(schema: dict | None, where: str = "response_format") -> str:
    """GBNF for one JSON value matching ``schema`` (any JSON object when ``schema`` is None)."""
    if schema is None:
        schema = {"type": "object"}
    return _json_grammar_cached(json.dumps(schema), where)


def tool_call_schema(tools: list[dict]) -> dict:
    """The JSON shape of one call: ``{"name": <a tool's name>, "arguments": <that tool's parameters>}``."""
    calls = []
    for tool in tools:
        function = tool["function"]
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        calls.append({
            "type": "object",
            "properties": {"name": {"const": function["name"]}, "arguments": parameters},
            "required": ["name", "arguments"],
        })
    return calls[0] if len(calls) == 1 else {"oneOf": calls}


def check_tools(tools: list[dict]) -> None:
    """Raise :class:`SchemaError` naming ``tools[i]...`` for a malformed or unsupported tool schema."""
    if not isinstance(tools, list):
        raise SchemaError(f"tools must be a list of tool schemas, not {type(tools).__name__}")
    seen = set()
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict):
            raise SchemaError(f"tools[{i}].function is missing: expected {{'type': 'function', 'function': {{...}}}}")
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise SchemaError(f"tools[{i}].function.name is missing or empty")
        if name in seen:
            raise SchemaError(f"tools[{i}].function.name {name!r} is used by two tools")
        seen.add(name)
        parameters = function.get("parameters")
        if parameters is not None:
            check_schema(parameters, f"tools[{i}].function.parameters")


def _build_tool_grammar(tools_json: str, allow_text: bool) -> str:
    tools = json.loads(tools_json)
    check_tools(tools)
    # "name" first so the model commits to a tool before writing its arguments.
    rules = _convert(tool_call_schema(tools), "tool-call", "tools", prop_order=("name", "arguments"))
    if allow_text:
        return f"root ::= tool-call | text\n{rules}\n{_TEXT_RULES}"
    return f"root ::= tool-call\n{rules}"


_tool_grammar_cached = lru_cache(maxsize=64)(_build_tool_grammar)


def tool_call_grammar(tools: list[dict], *, allow_text: bool) -> str:
    """GBNF for one tool call as JSON, or (``allow_text``) plain text that does not start with ``{``."""
    return _tool_grammar_cached(json.dumps(tools), allow_text)
