"""Functions the gallery's tool-using team calls (always allowed to be imported by a build)."""

from __future__ import annotations

from typing import Annotated, Literal


def calculator(
    a: Annotated[float, "the first number"],
    b: Annotated[float, "the second number"],
    operator: Annotated[Literal["+", "-", "*", "/"], "the operation"],
) -> float:
    """Apply a simple arithmetic operation to two numbers."""
    if operator == "+":
        return a + b
    if operator == "-":
        return a - b
    if operator == "*":
        return a * b
    if operator == "/":
        return a / b
    raise ValueError(f"unknown operator {operator!r}")


def word_count(text: Annotated[str, "the text to count the words of"]) -> int:
    """Count the whitespace-separated words of a text."""
    return len(text.split())
