"""Classic ``autogen.math_utils``: grading math answers written as LaTeX ``\\boxed{...}``.

Used by math-solving agents and benchmarks: pull the last boxed answer from a response, compare
two answers after normalising their LaTeX, and vote among several responses.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

_BOX_STARTS = ("\\boxed", "\\fbox")


def last_boxed_only_string(string: str) -> str | None:
    """The last ``\\boxed{...}`` (or ``\\fbox{...}``, or ``\\boxed x``) in ``string``, braces balanced; None if absent."""
    start = max(string.rfind(marker) for marker in _BOX_STARTS)
    if start < 0:
        return None
    rest = string[start:]
    if rest.startswith("\\boxed "):
        return "\\boxed " + rest[len("\\boxed "):].split("$")[0]
    depth = 0
    for i, char in enumerate(rest):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return rest[: i + 1]
    return None


def remove_boxed(string: str) -> str | None:
    """The content of a ``\\boxed{...}`` string (None if it is not one)."""
    if string.startswith("\\boxed "):
        return string[len("\\boxed "):]
    for marker in _BOX_STARTS:
        if string.startswith(marker + "{") and string.endswith("}"):
            return string[len(marker) + 1: -1]
    return None


def get_answer(solution: str | None) -> str | None:
    """The answer boxed last in ``solution``."""
    if solution is None:
        return None
    boxed = last_boxed_only_string(solution)
    return None if boxed is None else remove_boxed(boxed)


def _fix_fracs(text: str) -> str:
    # \frac12 -> \frac{1}{2}, \frac1{2} -> \frac{1}{2}
    return re.sub(r"\\frac(?:\{([^{}]*)\}|(\w))(?:\{([^{}]*)\}|(\w))",
                  lambda m: f"\\frac{{{m.group(1) or m.group(2)}}}{{{m.group(3) or m.group(4)}}}", text)


def _fix_a_slash_b(text: str) -> str:
    match = re.fullmatch(r"(-?\d+)/(\d+)", text)
    return f"\\frac{{{match.group(1)}}}{{{match.group(2)}}}" if match else text


def _fix_sqrt(text: str) -> str:
    return re.sub(r"\\sqrt(\w)", r"\\sqrt{\1}", text)


def _strip_string(string: str) -> str:
    """Normalise a LaTeX answer so that equal answers written differently compare equal."""
    text = string.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    text = text.replace("tfrac", "frac").replace("dfrac", "frac").replace("\\left", "").replace("\\right", "")
    text = text.replace("^{\\circ}", "").replace("^\\circ", "").replace("\\$", "").replace("\\%", "").replace("%", "")
    text = re.sub(r"\\text\{\s*[a-zA-Z ]*\}$", "", text).strip()  # trailing units
    text = text.replace(" .", " 0.").replace("{.", "{0.")
    if text.startswith("."):
        text = "0" + text
    if "=" in text and len(text.split("=")[0]) <= 2:  # "x = 5" -> "5"
        text = text.split("=")[1]
    text = _fix_sqrt(text).replace(" ", "")
    text = _fix_fracs(text)
    if text == "0.5":
        text = "\\frac{1}{2}"
    return _fix_a_slash_b(text)


def is_equiv(str1: str | None, str2: str | None) -> float:
    """1.0 if the two answers are the same after normalisation, else 0.0."""
    if str1 is None or str2 is None:
        return float(str1 is None and str2 is None)
    return float(_strip_string(str1) == _strip_string(str2))


def is_equiv_chain_of_thought(str1: str, str2: str) -> float:
    """Whether the boxed answers of two solutions are equivalent."""
    return is_equiv(get_answer(str1), get_answer(str2))


def voting_counts(responses: list[str]) -> dict[str, int]:
    """How many responses gave each (normalised) boxed answer."""
    return dict(Counter(_strip_string(a) if a is not None else "" for a in map(get_answer, responses)))


def eval_math_responses(responses: list[str], solution: str | None = None, **args: Any) -> dict:
    """Vote among ``responses`` and, given the ``solution``, check them.

    Returns ``{"expected_success", "success", "success_vote", "voted_answer", "votes"}``:
    the share of correct responses, whether any is correct, whether the most voted answer is
    correct, the response carrying it, and its number of votes.
    """
    answers = [get_answer(r) for r in responses]
    normalised = [_strip_string(a) if a is not None else None for a in answers]
    counts = Counter(a for a in normalised if a is not None)
    voted_answer, votes = (None, 0)
    if counts:
        best, votes = counts.most_common(1)[0]
        voted_answer = responses[normalised.index(best)]
    expected = get_answer(solution) if solution is not None else None
    correct = [float(expected is not None and is_equiv(a, expected)) for a in answers]
    return {
        "expected_success": sum(correct) / len(correct) if correct else 0.0,
        "success": any(correct),
        "success_vote": float(voted_answer is not None and expected is not None and is_equiv(get_answer(voted_answer), expected)),
        "voted_answer": voted_answer,
        "votes": votes,
    }


__all__ = ["eval_math_responses", "get_answer", "is_equiv", "is_equiv_chain_of_thought", "last_boxed_only_string",
           "remove_boxed", "voting_counts"]
