"""JSON schemas for tool parameters, built from a function's type hints by pydantic.

One pydantic model per function describes its parameters: the same model writes the schema the
model is shown and validates the arguments the model sends back, so the two can never disagree.
``Annotated[T, "text"]`` gives a parameter its description (the classic AutoGen convention), a
parameter with a default is optional, ``Literal`` becomes an ``enum``, and pydantic models,
``Optional``, lists and dicts are described as pydantic describes them.

pydantic is imported on first use: ``import parley`` must stay light.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

if typing.TYPE_CHECKING:
    from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class ParameterModel:
    """The parameters of one function as a pydantic model, plus how to call the function."""

    model: type[BaseModel]
    """Validates the model's arguments; its fields are aliased to the parameter names."""
    fields: tuple[tuple[str, str], ...]
    """(field name in ``model``, parameter name) for each parameter the model may set."""
    json_schema: dict
    """The ``parameters`` object of the tool schema."""

    def validate(self, arguments: dict) -> dict:
        """Keyword arguments for the function, validated and converted (dicts → pydantic models).

        Raises ``pydantic.ValidationError``.
        """
        validated = self.model.model_validate(arguments)
        given = validated.model_fields_set
        # Parameters the model left out keep the function's own default (not a copy of it).
        return {param: getattr(validated, field) for field, param in self.fields if field in given}


def callable_name(func: Callable) -> str:
    return getattr(func, "__name__", None) or type(func).__name__


def type_hints(func: Callable) -> dict[str, Any]:
    """Resolved annotations (``from __future__ import annotations`` strings included), extras kept."""
    # the method of an object with __call__, to read its annotations (B004 is about callability tests)
    target = func if inspect.isfunction(func) or inspect.ismethod(func) else getattr(func, "__call__", func)  # noqa: B004
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception as error:  # an unresolvable forward reference: say which function and parameter
        where = ""
        namespace = getattr(target, "__globals__", {})
        for param_name, annotation in getattr(target, "__annotations__", {}).items():
            if isinstance(annotation, str):
                try:
                    value: Any = annotation
                    while isinstance(value, str):  # what get_type_hints does, one hint at a time
                        value = eval(value, namespace)
                except Exception:
                    where = f", parameter '{param_name}' ({annotation!r})"
                    break
        raise TypeError(
            f"cannot resolve the type hints of function '{callable_name(func)}'{where}: {error}; "
            "types named in hints must be importable from the function's module"
        ) from error


def _describe_annotated(annotation: Any) -> Any:
    """``Annotated[T, "text"]`` → ``Annotated[T, Field(description="text")]`` (pydantic ignores bare strings)."""
    if get_origin(annotation) is not Annotated:
        return annotation
    from pydantic import Field

    base, *metadata = get_args(annotation)
    texts = [m for m in metadata if isinstance(m, str)]
    if not texts:
        return annotation
    others = [m for m in metadata if not isinstance(m, str)]
    return Annotated[(base, *others, Field(description=texts[0]))]


def _strip_titles(schema: dict) -> dict:
    """Drop the titles pydantic derives from names (``"title": "City"``): noise in a prompt.

    Titles inside ``$defs`` (a pydantic model's own name) are kept, as classic AutoGen kept them.
    """
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    return schema


def parameter_model(func: Callable, name: str | None = None) -> ParameterModel:
    """Build the parameter model of ``func``; errors name the function and the parameter.

    Raises ``TypeError`` for a parameter without annotation (and without default), for
    ``*args``/``**kwargs``, and for a type that has no JSON schema.
    """
    from pydantic import ConfigDict, Field, create_model

    fname = name or callable_name(func)
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as error:
        raise TypeError(f"cannot read the signature of function '{fname}': {error}") from error
    hints = type_hints(func)

    definitions: dict[str, Any] = {}
    fields: list[tuple[str, str]] = []
    annotations: dict[str, Any] = {}
    for index, (param_name, param) in enumerate(signature.parameters.items()):
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(
                f"function '{fname}': parameter '{param_name}' is *args/**kwargs, which a tool cannot describe; "
                "give the tool explicit parameters"
            )
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise TypeError(
                f"function '{fname}': parameter '{param_name}' is positional-only; tools are called with keywords"
            )
        annotation = hints.get(param_name, inspect.Parameter.empty)
        if annotation is inspect.Parameter.empty:
            if param.default is inspect.Parameter.empty:
                raise TypeError(
                    f"function '{fname}': parameter '{param_name}' has no type annotation; "
                    "annotate it (e.g. Annotated[str, \"what it is\"]) so the model knows what to send"
                )
            continue  # unannotated with a default: not shown to the model, the default is used (as classic)
        annotation = _describe_annotated(annotation)
        # Fields get neutral names aliased to the parameter: any parameter name works
        # (a leading underscore, "model_config", names shadowing BaseModel methods).
        field = f"p{index}"
        default = ... if param.default is inspect.Parameter.empty else param.default
        definitions[field] = (annotation, Field(default, alias=param_name))
        annotations[param_name] = annotation
        fields.append((field, param_name))

    # Unknown arguments are refused so a model that invents a parameter hears about it.
    config = ConfigDict(extra="forbid")
    try:
        model = create_model(f"{fname}_parameters", __config__=config, **definitions)
        json_schema = model.model_json_schema()
    except Exception as error:
        raise TypeError(_locate_schema_error(fname, annotations, error)) from error
    json_schema = _classic_shape(_inline_definitions(_strip_titles(json_schema)))
    return ParameterModel(model=model, fields=tuple(fields), json_schema=json_schema)


def _classic_shape(schema: dict) -> dict:
    """The parameters object as classic AutoGen shows it: every parameter has a description (its
    name when none is given) and no top-level ``additionalProperties``. Unknown arguments are
    still refused: the parameter model forbids extras when it validates a call, and the embedded
    model's grammar allows no property a schema does not list."""
    schema.pop("additionalProperties", None)
    for name, prop in schema.get("properties", {}).items():
        if isinstance(prop, dict) and "description" not in prop:
            prop["description"] = name
    return schema


def _inline_definitions(schema: dict) -> dict:
    """Replace ``{"$ref": "#/$defs/X"}`` by a copy of X, so the parameters are self-contained.

    A schema without references survives being nested into another (a tool-call grammar for
    constrained decoding, a provider's wrapper) and suits providers with weak ``$ref`` support.
    A recursive model cannot be inlined: its references and ``$defs`` stay.
    """
    definitions = schema.get("$defs")
    if not definitions:
        return schema
    prefix = "#/$defs/"
    kept: set[str] = set()

    def expand(node: Any, expanding: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [expand(item, expanding) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(prefix) and ref[len(prefix):] in definitions:
            name = ref[len(prefix):]
            if name in expanding:  # recursion
                kept.add(name)
                return node
            siblings = {k: v for k, v in node.items() if k != "$ref"}  # e.g. a description
            return {**expand(definitions[name], (*expanding, name)), **siblings}
        return {k: (v if k == "$defs" else expand(v, expanding)) for k, v in node.items()}

    inlined = expand({k: v for k, v in schema.items() if k != "$defs"}, ())
    if kept:
        # Definitions reachable from a recursive one are kept whole, refs and all.
        inlined["$defs"] = definitions
    return inlined


def _locate_schema_error(fname: str, annotations: dict[str, Any], error: Exception) -> str:
    """Find the parameter whose type pydantic cannot describe, for an error that names it."""
    from pydantic import TypeAdapter

    for param_name, annotation in annotations.items():
        try:
            TypeAdapter(annotation).json_schema()
        except Exception as param_error:
            shown = getattr(annotation, "__name__", None) or repr(annotation)
            first_line = str(param_error).splitlines()[0] if str(param_error) else type(param_error).__name__
            return (
                f"function '{fname}': parameter '{param_name}' has type {shown}, which has no JSON schema "
                f"({first_line}); use JSON-friendly types (str, int, float, bool, list, dict, Literal, "
                "pydantic models)"
            )
    return f"function '{fname}': cannot build a JSON schema for its parameters: {error}"


def function_schema(name: str, description: str | None, parameters: dict) -> dict:
    """The OpenAI tool schema: ``{"type": "function", "function": {"name", "description", "parameters"}}``."""
    function: dict[str, Any] = {"name": name}
    if description is not None:
        function["description"] = description
    function["parameters"] = parameters
    return {"type": "function", "function": function}
