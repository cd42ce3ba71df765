"""Tool schemas from type hints, and the errors for functions that cannot be described."""

from __future__ import annotations

import asyncio
import datetime
import enum
from typing import Annotated, Any, Callable, Literal, Optional

import pytest
from pydantic import BaseModel, Field

from parley.tools import Tool, get_function_schema
from parley.tools.function_utils import get_typed_return_annotation, get_typed_signature


class Address(BaseModel):
    street: str
    city: str = "Paris"


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def weather(
    city: Annotated[str, "the city to look up"],
    unit: Literal["celsius", "fahrenheit"] = "celsius",
    days: Annotated[int, "how many days"] = 1,
) -> str:
    return f"{city} {unit} {days}"


def params(schema: dict) -> dict:
    return schema["function"]["parameters"]


def test_classic_weather_schema():
    schema = get_function_schema(weather, description="Weather forecast.")
    assert schema == {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "Weather forecast.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "the city to look up"},
                    # Classic: a parameter without a description is described by its name.
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius", "description": "unit"},
                    "days": {"type": "integer", "description": "how many days", "default": 1},
                },
                "required": ["city"],
            },
        },
    }


def test_name_override_and_docstring_description():
    def lookup(key: str) -> str:
        """Look a key up."""
        return key

    tool = Tool(lookup, name="kv_lookup")
    assert tool.name == "kv_lookup"
    assert tool.schema["function"]["name"] == "kv_lookup"
    assert tool.description == "Look a key up."
    # An explicit description wins over the docstring.
    assert Tool(lookup, description="Other.").description == "Other."


def test_optional_list_dict_and_nested_types():
    def f(
        tags: list[str],
        scores: dict[str, float],
        note: Optional[str] = None,
        when: datetime.date | None = None,
        color: Color = Color.RED,
        pairs: list[tuple[int, int]] = [],
    ) -> None:
        pass

    p = params(get_function_schema(f, description="d"))
    assert p["required"] == ["tags", "scores"]
    assert p["properties"]["tags"] == {"type": "array", "items": {"type": "string"}, "description": "tags"}
    assert p["properties"]["scores"] == {"type": "object", "additionalProperties": {"type": "number"}, "description": "scores"}
    assert p["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "description": "note"}
    assert {"type": "string", "format": "date"} in p["properties"]["when"]["anyOf"]
    assert p["properties"]["color"]["default"] == "red"
    assert p["properties"]["color"]["enum"] == ["red", "blue"]
    assert "$defs" not in p
    assert p["properties"]["pairs"]["items"]["type"] == "array"


def test_pydantic_model_parameter_and_field_metadata():
    def ship(to: Annotated[Address, "where to ship"], weight: Annotated[float, Field(gt=0)] = 1.0) -> Address:
        return to

    p = params(get_function_schema(ship, description="Ship a parcel."))
    assert p["required"] == ["to"]
    # The model's schema is inlined (no $ref), with the parameter's description on top.
    assert p["properties"]["to"] == {
        "type": "object",
        "title": "Address",
        "description": "where to ship",
        "properties": {"street": {"type": "string", "title": "Street"}, "city": {"type": "string", "title": "City", "default": "Paris"}},
        "required": ["street"],
    }
    assert "$defs" not in p
    assert p["properties"]["weight"] == {"type": "number", "exclusiveMinimum": 0, "default": 1.0, "description": "weight"}


class TreeNode(BaseModel):
    label: str
    children: list["TreeNode"] = []


def test_recursive_model_keeps_its_definitions():
    def walk(tree: TreeNode, depth: int = 1) -> int:
        return depth

    p = params(get_function_schema(walk, description="Walk a tree."))
    # Inlined once; the recursion stays a reference into the kept definitions.
    assert p["properties"]["tree"]["properties"]["children"]["items"] == {"$ref": "#/$defs/TreeNode"}
    assert p["$defs"]["TreeNode"]["properties"]["children"]["items"] == {"$ref": "#/$defs/TreeNode"}
    assert asyncio.run(Tool(walk, description="d").call({"tree": {"label": "a", "children": [{"label": "b"}]}})) == "1"


def test_schemas_fit_constrained_decoding():
    """The embedded model turns tool schemas into a grammar: ours must pass its checks."""
    from parley.models.grammar import check_tools

    def ship(to: Annotated[Address, "where"], when: datetime.date | None = None, color: Color = Color.RED) -> str:
        return "ok"

    check_tools([get_function_schema(ship, description="Ship."), get_function_schema(weather, description="Weather.")])
    pytest.importorskip("llama_cpp")
    from parley.models.grammar import tool_call_grammar

    assert "root ::=" in tool_call_grammar([get_function_schema(ship, description="Ship.")], allow_text=True)


def test_any_parameter_names_work():
    # Names pydantic would refuse or that shadow BaseModel attributes.
    def f(_private: int, model_config: str, json: bool, schema: str = "s") -> None:
        pass

    p = params(get_function_schema(f, description="d"))
    assert list(p["properties"]) == ["_private", "model_config", "json", "schema"]
    assert p["required"] == ["_private", "model_config", "json"]


def test_unannotated_parameter_with_default_is_hidden():
    def f(query: str, verbose=False) -> str:
        return query

    p = params(get_function_schema(f, description="d"))
    assert list(p["properties"]) == ["query"]


def test_string_annotations_are_resolved():
    # This module uses `from __future__ import annotations`: every hint here is a string.
    def f(n: Annotated[int, "count"]) -> Address:
        raise NotImplementedError

    assert params(get_function_schema(f, description="d"))["properties"]["n"] == {"type": "integer", "description": "count"}
    assert get_typed_return_annotation(f) is Address
    assert get_typed_signature(f).parameters["n"].annotation.__metadata__ == ("count",)


def test_methods_and_async_functions():
    class Calculator:
        def add(self, a: int, b: int) -> int:
            """Add."""
            return a + b

    async def fetch(url: str) -> str:
        """Fetch."""
        return url

    assert list(params(Tool(Calculator().add).schema)["properties"]) == ["a", "b"]
    assert Tool(fetch).schema["function"]["name"] == "fetch"


# ------------------------------------------------------------------ errors at registration


def test_missing_description_names_the_function():
    def undocumented(x: int) -> int:
        return x

    with pytest.raises(ValueError, match=r"function 'undocumented' has no description"):
        Tool(undocumented)


def test_missing_annotation_names_function_and_parameter():
    def f(city, days: int = 1) -> str:
        return city

    # get_function_schema is the classic entry point: classic's text, which names both.
    with pytest.raises(TypeError, match=r"function 'f' without default values must be annotated\. "
                       r"The annotations are missing for the following parameters: 'city'"):
        get_function_schema(f, description="d")
    with pytest.raises(TypeError, match=r"function 'f': parameter 'city' has no type annotation"):
        Tool(f, description="d")


class Connection:
    """A type pydantic cannot describe."""


def test_type_without_json_schema_names_function_and_parameter():
    def query(sql: str, conn: Connection) -> str:
        return sql

    with pytest.raises(TypeError, match=r"function 'query': parameter 'conn' has type Connection, which has no JSON schema"):
        get_function_schema(query, description="d")

    def apply(fn: Callable[[int], int]) -> int:
        return fn(1)

    with pytest.raises(TypeError, match=r"function 'apply': parameter 'fn'"):
        get_function_schema(apply, description="d")


def test_var_args_are_refused():
    def f(*values: int) -> int:
        return sum(values)

    def g(**options: Any) -> None:
        pass

    with pytest.raises(TypeError, match=r"function 'f': parameter 'values' is \*args/\*\*kwargs"):
        get_function_schema(f, description="d")
    with pytest.raises(TypeError, match=r"function 'g': parameter 'options'"):
        get_function_schema(g, description="d")


def test_bad_tool_name_is_refused():
    with pytest.raises(ValueError, match=r"tool name '<lambda>'"):
        Tool(lambda x: x, description="d")


def test_tool_name_with_spaces_is_accepted_as_classic(caplog):
    tool = Tool(weather, name="has space", description="d")
    assert tool.schema["function"]["name"] == "has space"
    assert "OpenAI's API refuses such names" in caplog.text


def test_unresolvable_forward_reference_names_the_function():
    def f(x: "NoSuchType") -> None:  # noqa: F821
        pass

    with pytest.raises(TypeError, match=r"cannot resolve the type hints of function 'f', parameter 'x' .*name 'NoSuchType' is not defined"):
        Tool(f, description="d")


def test_from_schema_checks_its_schema():
    async def forward(**arguments: Any) -> str:
        return "ok"

    tool = Tool.from_schema("remote", "A remote tool.", {"type": "object", "properties": {"q": {"type": "string"}}}, forward)
    assert tool.schema == {
        "type": "function",
        "function": {"name": "remote", "description": "A remote tool.", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}},
    }
    with pytest.raises(ValueError, match=r"tool 'remote': the parameters schema must be a JSON object schema"):
        Tool.from_schema("remote", "d", {"type": "array"}, forward)
