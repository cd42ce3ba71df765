"""The conversation layers (``chat/``, ``groupchat/``, ``store/``) reach agents only through the
typed ``Participant`` protocol: no private attribute of another object is read or written there,
and participants are not typed ``Any``."""

from __future__ import annotations

import ast
from pathlib import Path

import parley

SRC = Path(parley.__file__).parent
LAYERS = ("chat", "groupchat", "store")


def private_reaches(source: str, where: str) -> list[str]:
    """``x._name`` in ``source`` where ``x`` is not ``self``, ``cls`` or ``super()``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_") or node.attr.startswith("__"):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
            continue
        if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
            continue
        found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_private_attribute_of_another_object_is_reached_from_the_conversation_layers():
    reaches = [reach for layer in LAYERS for path in sorted((SRC / layer).glob("*.py"))
               for reach in private_reaches(path.read_text(), str(path.relative_to(SRC)))]
    assert reaches == []


def test_the_check_finds_a_private_reach_and_allows_an_object_s_own():
    source = "class A:\n    def f(self, agent):\n        return self._own, super()._base, agent._oai_messages\n"
    assert private_reaches(source, "probe.py") == ["probe.py:3: agent._oai_messages"]


PARTICIPANT_PARAMETERS = {"sender", "recipient", "initiator", "speaker", "selector", "last_speaker", "agent", "agents",
                          "candidates", "participants", "by_name", "manager"}


def test_participants_are_not_typed_any_in_the_conversation_layers():
    untyped = []
    for layer in LAYERS:
        for path in sorted((SRC / layer).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.arg) and node.arg in PARTICIPANT_PARAMETERS and node.annotation is not None:
                    if "Any" in ast.unparse(node.annotation):
                        untyped.append(f"{path.relative_to(SRC)}:{node.lineno}: {node.arg}: {ast.unparse(node.annotation)}")
    assert untyped == []
