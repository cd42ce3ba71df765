"""Import paths (``module:function``) resolved at build time, and only from allowed modules.

Loading a spec never imports anything. A build imports a tool, a termination function or a
speaker selection function only from a module the user allowed: ``allow_modules=`` (the
``--allow-module`` flag) or ``$PARLEY_SPEC_ALLOW_MODULES`` (comma-separated), a module allowing
its submodules. The spec itself can't allow anything: that would let a file grant itself code.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Iterable
from typing import Any

from .errors import SpecError

ALLOW_ENV = "PARLEY_SPEC_ALLOW_MODULES"
# The functions the gallery's teams use, shipped with parley.
ALWAYS_ALLOWED = ("parley.spec.tools",)


def allowed_modules(extra: Iterable[str] = ()) -> tuple[str, ...]:
    from_env = [m.strip() for m in os.environ.get(ALLOW_ENV, "").split(",") if m.strip()]
    return tuple(dict.fromkeys([*ALWAYS_ALLOWED, *from_env, *extra]))


def is_allowed(module: str, allowed: Iterable[str]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def resolve(path: str, allowed: Iterable[str], where: str) -> Callable:
    """The callable ``path`` names, imported now; a SpecError naming ``where`` otherwise."""
    module_name, _, attribute = path.partition(":")
    allowed = tuple(allowed)
    if not is_allowed(module_name, allowed):
        raise SpecError(f"module {module_name!r} is not allowed to be imported: allow it with --allow-module "
                        f"{module_name} (or {ALLOW_ENV}={module_name}); allowed now: {', '.join(allowed)}", where)
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise SpecError(f"can't import module {module_name!r}: {error}", where) from None
    for part in attribute.split("."):
        if part.startswith("_"):
            raise SpecError(f"{path}: private and special names ({part}) can't be imported from a spec", where)
        if not hasattr(target, part):
            raise SpecError(f"module {module_name!r} has no {attribute!r}", where)
        target = getattr(target, part)
    if not callable(target):
        raise SpecError(f"{path} is not callable (a {type(target).__name__})", where)
    # What an allowed module merely imported (its `os`, say) is not allowed with it.
    home = getattr(target, "__module__", None)
    if not isinstance(home, str) or not is_allowed(home, allowed):
        raise SpecError(f"{path} is defined in module {home!r}, which is not allowed: name it from there "
                        f"and allow that module (--allow-module {home})", where)
    # A function or method only: a class (or any other callable object) would run its own code
    # (its __init__, __call__) with whatever arguments the model sends.
    if not (inspect.isfunction(target) or inspect.ismethod(target) or inspect.isbuiltin(target)):
        kind = "a class" if inspect.isclass(target) else f"a {type(target).__name__}"
        raise SpecError(f"{path} is not a function ({kind}): a spec can only name functions", where)
    return target


def path_of(function: Any) -> str | None:
    """``module:qualname`` of a module-level function that can be imported back, else None."""
    module, qualname = getattr(function, "__module__", None), getattr(function, "__qualname__", None)
    if not module or not qualname or "<" in qualname or module == "__main__":
        return None
    try:
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        return None
    return f"{module}:{qualname}" if target is function else None


__all__ = ["ALLOW_ENV", "allowed_modules", "is_allowed", "path_of", "resolve"]
