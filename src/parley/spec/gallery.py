"""The gallery: team specs shipped with parley (``parley gallery list|show|export``)."""

from __future__ import annotations

from importlib import resources

from .errors import SpecError, closest


def _folder():
    return resources.files("parley.spec") / "gallery"


def names() -> list[str]:
    return sorted(p.name[:-5] for p in _folder().iterdir() if p.name.endswith(".yaml"))


def text(name: str) -> str:
    """The YAML of the gallery team ``name``."""
    if name not in names():
        raise SpecError(f"no gallery team named {name!r}{closest(name, names())} (there are: {', '.join(names())})", "gallery")
    return (_folder() / f"{name}.yaml").read_text(encoding="utf-8")


def load(name: str):
    from .team import Team

    return Team.from_yaml(text(name))


__all__ = ["load", "names", "text"]
