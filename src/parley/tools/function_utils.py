"""The classic ``autogen.function_utils`` names, for code that imports them directly.

``get_function_schema`` is what users call; the helpers are the ones classic code reached for
(typed signatures, loading pydantic models from dict arguments, serialising a result).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, Field, TypeAdapter

from .schema import parameter_model, type_hints
from .tool import Tool, serialize_result

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger(__name__)

__all__ = [
    "Parameters",
    "get_default_values",
    "get_load_param_if_needed_function",
    "get_missing_annotations",
    "get_param_annotations",
    "get_parameter_json_schema",
    "get_parameters",
    "get_required_params",
    "get_typed_annotation",
    "format_json_str",
    "get_function_schema",
    "get_typed_signature",
    "get_typed_return_annotation",
    "load_basemodels_if_needed",
    "serialize_to_str",
    "wrap_function",
]


def get_function_schema(f: Callable[..., Any], *, name: str | None = None, description: str) -> dict:
    """The OpenAI tool schema of ``f``: ``{"type": "function", "function": {"description", "name", "parameters"}}``.

    Raises ``TypeError`` naming the function and parameter when a parameter cannot be described,
    ``ValueError`` when there is no description (neither given nor a docstring).
    """
    typed_signature = get_typed_signature(f)
    fname = getattr(f, "__name__", repr(f))
    missing, unannotated_with_default = get_missing_annotations(typed_signature, get_required_params(typed_signature))
    if missing:  # classic's exact text
        names = ", ".join(f"'{k}'" for k in sorted(missing))
        raise TypeError(f"All parameters of the function '{fname}' without default values must be annotated. "
                        f"The annotations are missing for the following parameters: {names}")
    if typed_signature.return_annotation is inspect.Signature.empty:
        logger.warning(f"The return type of the function '{fname}' is not annotated. Although annotating it is "
                       "optional, the function should return either a string, a subclass of 'pydantic.BaseModel'.")
    if unannotated_with_default:
        names = ", ".join(f"'{k}'" for k in sorted(unannotated_with_default))
        logger.warning(f"The following parameters of the function '{fname}' with default values are not annotated: {names}.")
    return Tool(f, name=name, description=description).schema


def get_typed_signature(call: Callable[..., Any]) -> inspect.Signature:
    """The signature of ``call`` with string annotations resolved."""
    signature = inspect.signature(call)
    hints = type_hints(call)
    parameters = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()]
    return signature.replace(
        parameters=parameters, return_annotation=hints.get("return", signature.return_annotation)
    )


def get_typed_return_annotation(call: Callable[..., Any]) -> Any:
    """The resolved return annotation of ``call``, or None when it has none."""
    return type_hints(call).get("return")


def load_basemodels_if_needed(func: F) -> F:
    """Decorator: the wrapped function receives pydantic models where its hints ask for them,
    even when called with plain dicts (as the model's JSON arguments are)."""
    parameters = parameter_model(func)

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(**kwargs: Any) -> Any:
            return await func(**parameters.validate(kwargs))

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        return func(**parameters.validate(kwargs))

    return wrapper  # type: ignore[return-value]


def wrap_function(func: F) -> F:
    """``func`` as an executing agent keeps it (classic ``ConversableAgent._wrap_function``):
    called with the model's JSON arguments, its pydantic-model parameters are validated from
    dicts and its result is the text the model reads (:func:`serialize_to_str`). The wrapper's
    ``_origin`` is ``func``. A function whose hints give no schema is called with the arguments
    as they are."""
    try:
        call: Callable[..., Any] = load_basemodels_if_needed(func)
    except TypeError:
        call = func

    def with_arguments(args: tuple, kwargs: dict) -> Any:
        # Positional arguments (a direct call, not the model's) bypass validation.
        return func(*args, **kwargs) if args else call(**kwargs)

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapped(*args: Any, **kwargs: Any) -> str:
            return serialize_to_str(await with_arguments(args, kwargs))

        wrapped: Any = async_wrapped
    else:

        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> str:
            return serialize_to_str(with_arguments(args, kwargs))

    wrapped._origin = func
    return wrapped


def format_json_str(jstr: str) -> str:
    """Model-written JSON made strict, as classic did before parsing arguments: line breaks
    between tokens are dropped, and inside strings raw newlines and tabs become ``\\n`` / ``\\t``."""
    out: list[str] = []
    in_string = escaped = False
    for char in jstr:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            out.append("\\n" if char == "\n" else "\\t" if char == "\t" else char)
        elif char == "\n":
            continue
        else:
            in_string = char == '"'
            out.append(char)
    return "".join(out)


def serialize_to_str(x: Any) -> str:
    """A tool result as text: a str as is, a pydantic model as its JSON, anything else as JSON."""
    return serialize_result(x)


# The classic building blocks of a function's schema, for code that composes its own. parley's
# own schemas come from ``parley.tools.schema`` (one pydantic model per function).


class Parameters(BaseModel):
    """The ``parameters`` object of a function schema."""

    type: str = "object"
    properties: dict[str, Any] = Field(default_factory=dict)
    required: list[str] = Field(default_factory=list)


def get_typed_annotation(annotation: Any, globalns: dict[str, Any]) -> Any:
    """``annotation`` with a string (forward reference) resolved in ``globalns``."""
    while isinstance(annotation, str):
        annotation = eval(annotation, globalns)  # what typing.get_type_hints does
    return annotation


def get_required_params(typed_signature: inspect.Signature) -> list[str]:
    """Names of the parameters without a default."""
    return [name for name, p in typed_signature.parameters.items() if p.default is inspect.Parameter.empty]


def get_default_values(typed_signature: inspect.Signature) -> dict[str, Any]:
    """``{name: default}`` of the parameters that have one."""
    return {name: p.default for name, p in typed_signature.parameters.items() if p.default is not inspect.Parameter.empty}


def get_param_annotations(typed_signature: inspect.Signature) -> dict[str, Any]:
    """``{name: annotation}`` of the annotated parameters."""
    return {name: p.annotation for name, p in typed_signature.parameters.items() if p.annotation is not inspect.Parameter.empty}


def get_missing_annotations(typed_signature: inspect.Signature, required: list[str]) -> tuple[set[str], set[str]]:
    """``(required parameters without annotation, parameters with a default but no annotation)``."""
    annotated = set(get_param_annotations(typed_signature))
    all_names = set(typed_signature.parameters)
    missing = set(required) - annotated
    return missing, all_names - annotated - missing


def get_parameter_json_schema(k: str, v: Any, default_values: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of parameter ``k`` of type ``v``: its description is the text of
    ``Annotated[T, "text"]`` (else the name), with its default when it has one."""
    description = k
    if get_origin(v) is Annotated:
        texts = [m for m in get_args(v)[1:] if isinstance(m, str)]
        if texts:
            description = texts[0]
    schema = TypeAdapter(v).json_schema()
    schema["description"] = description
    if k in default_values:
        schema["default"] = default_values[k]
    return schema


def get_parameters(required: list[str], param_annotations: dict[str, Any], default_values: dict[str, Any]) -> Parameters:
    """The ``parameters`` object for the annotated parameters."""
    properties = {k: get_parameter_json_schema(k, v, default_values) for k, v in param_annotations.items()
                  if v is not inspect.Signature.empty}
    return Parameters(properties=properties, required=required)


def get_load_param_if_needed_function(t: Any) -> Callable[[Any, Any], Any] | None:
    """For a pydantic model type (possibly ``Annotated``), a function ``(value, type) -> model``
    that validates a dict into it; None for other types."""
    if get_origin(t) is Annotated:
        t = get_args(t)[0]
    if isinstance(t, type) and issubclass(t, BaseModel):
        return lambda value, model_type: model_type.model_validate(value)
    return None
