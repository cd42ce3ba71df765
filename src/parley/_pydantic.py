"""Classic ``autogen._pydantic``: the pydantic helpers classic code imports (parley needs pydantic 2)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaValue

PYDANTIC_V1 = False


def type2schema(t: Any) -> JsonSchemaValue:
    """The JSON schema of a type (``None`` is the null type)."""
    return TypeAdapter(t).json_schema()


def model_dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump()


def model_dump_json(model: BaseModel) -> str:
    return model.model_dump_json()


__all__ = ["PYDANTIC_V1", "JsonSchemaValue", "model_dump", "model_dump_json", "type2schema"]
