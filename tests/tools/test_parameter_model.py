"""tools/schema.py in detail: parameter models of callable objects, forward references resolved in
the function's own module, constraints kept next to descriptions, unknown arguments refused, and
the exact errors for functions that cannot be described.

No ``from __future__ import annotations`` here: some hints below are strings on purpose.
"""

from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from parley.tools.schema import callable_name, parameter_model


class Order(BaseModel):
    item: str


class Adder:
    """A callable object: its parameters are those of ``__call__``."""

    def __call__(self, a: int, b: "Order") -> int:
        return a


class NoJsonSchema:
    """A type pydantic validates (anything) but whose JSON schema fails with an empty message."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler):
        from pydantic_core import core_schema

        return core_schema.any_schema()

    @classmethod
    def __get_pydantic_json_schema__(cls, schema, handler):
        raise ValueError()


def test_a_callable_object_is_described_by_its_call_method():
    model = parameter_model(Adder())
    assert model.json_schema["required"] == ["a", "b"]
    assert model.json_schema["properties"]["a"] == {"type": "integer", "description": "a"}
    assert model.json_schema["properties"]["b"]["properties"]["item"]["type"] == "string"
    assert callable_name(Adder()) == "Adder"
    assert callable_name(len) == "len"


def test_an_unresolvable_hint_names_the_parameter_after_the_resolvable_ones():
    # "Order" resolves only in this module's namespace; "Missing" nowhere.
    def pay(order: "Order", amount: "Missing") -> None:  # noqa: F821 - unresolvable on purpose
        """Pay."""

    with pytest.raises(TypeError) as error:
        parameter_model(pay)
    assert str(error.value) == (
        "cannot resolve the type hints of function 'pay', parameter 'amount' ('Missing'): name 'Missing' is not defined; "
        "types named in hints must be importable from the function's module"
    )


def test_metadata_other_than_the_description_is_kept():
    def pick(count: Annotated[int, "how many", Field(ge=1)] = 1) -> None:
        """Pick."""

    model = parameter_model(pick)
    assert model.json_schema["properties"]["count"] == {"type": "integer", "minimum": 1, "default": 1, "description": "how many"}
    with pytest.raises(ValidationError):
        model.validate({"count": 0})


def test_unknown_arguments_are_refused():
    def add(a: int) -> int:
        """Add."""
        return a

    model = parameter_model(add)
    assert model.validate({"a": "2"}) == {"a": 2}
    with pytest.raises(ValidationError, match="zzz"):
        model.validate({"a": 1, "zzz": 2})
    assert "additionalProperties" not in model.json_schema


def test_parameters_after_an_unannotated_one_with_a_default_are_kept():
    def f(a: int, hidden=3, c: int = 2) -> None:
        """F."""

    model = parameter_model(f)
    assert list(model.json_schema["properties"]) == ["a", "c"]
    assert model.fields == (("p0", "a"), ("p2", "c"))


def test_an_optional_model_is_inlined():
    def ship(order: Order | None = None) -> None:
        """Ship."""

    schema = parameter_model(ship).json_schema
    assert "$defs" not in schema
    assert schema["properties"]["order"]["anyOf"][0]["properties"]["item"] == {"title": "Item", "type": "string"}


def test_errors_name_the_given_name_or_the_functions_own():
    def star(*values: int) -> None:
        """Star."""

    def positional(a: int, /) -> None:
        """Positional."""

    def bare(a) -> None:
        """Bare."""

    message = ("function '{}': parameter 'values' is *args/**kwargs, which a tool cannot describe; "
               "give the tool explicit parameters")
    for name, shown in ((None, "star"), ("renamed", "renamed")):
        with pytest.raises(TypeError) as error:
            parameter_model(star, name)
        assert str(error.value) == message.format(shown)
    with pytest.raises(TypeError) as error:
        parameter_model(positional)
    assert str(error.value) == "function 'positional': parameter 'a' is positional-only; tools are called with keywords"
    with pytest.raises(TypeError) as error:
        parameter_model(bare)
    assert str(error.value) == (
        "function 'bare': parameter 'a' has no type annotation; annotate it (e.g. Annotated[str, \"what it is\"]) "
        "so the model knows what to send"
    )
    with pytest.raises(TypeError) as error:
        parameter_model(dict)
    assert str(error.value).startswith("cannot read the signature of function 'dict': ")
    assert isinstance(error.value.__cause__, ValueError)


def test_a_type_without_a_name_is_shown_by_its_repr_and_an_empty_error_by_its_class():
    def take(a: int, e: NoJsonSchema | int) -> None:
        """Take."""

    with pytest.raises(TypeError) as error:
        parameter_model(take)
    assert str(error.value) == (
        f"function 'take': parameter 'e' has type {NoJsonSchema | int!r}, which has no JSON schema (ValueError); "
        "use JSON-friendly types (str, int, float, bool, list, dict, Literal, pydantic models)"
    )


def test_the_first_line_of_the_schema_error_is_quoted():
    from collections.abc import Callable

    def hook(cb: Callable[[int], int]) -> None:
        """Hook."""

    with pytest.raises(TypeError) as error:
        parameter_model(hook)
    assert str(error.value) == (
        "function 'hook': parameter 'cb' has type Callable, which has no JSON schema "
        "(Cannot generate a JsonSchema for core_schema.CallableSchema); use JSON-friendly types "
        "(str, int, float, bool, list, dict, Literal, pydantic models)"
    )
