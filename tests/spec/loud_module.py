"""A module whose import is visible: a spec naming it must not import it by loading."""

IMPORTED = True


def done(message: dict) -> bool:
    return "DONE" in (message.get("content") or "")


def shout(text: str) -> str:
    """Says text loudly (a tool the check must not call)."""
    raise AssertionError("the tool ran")
