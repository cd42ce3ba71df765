"""Functions as code-execution tools: classic ``autogen.coding.func_with_reqs``.

An executor given ``functions=[...]`` writes them into a module in its working directory, so that
model-written code can ``from functions import f``; the prompt shows their stubs. Each function
carries the pip packages and imports it needs (``@with_requirements``).
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class Alias:
    """``import name as alias``."""

    name: str
    alias: str


@dataclass
class ImportFromModule:
    """``from module import a, b as c``."""

    module: str
    imports: list[str | Alias]


Import = str | ImportFromModule | Alias


def _import_to_str(im: Import) -> str:
    if isinstance(im, str):
        return f"import {im}"
    if isinstance(im, Alias):
        return f"import {im.name} as {im.alias}"
    names = ", ".join(n if isinstance(n, str) else f"{n.name} as {n.alias}" for n in im.imports)
    return f"from {im.module} import {names}"


def _stub_from_source(source: str) -> str:
    """The signature and docstring of the first function in ``source``, body replaced by ``...``."""
    tree = ast.parse(textwrap.dedent(source))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            docstring = ast.get_docstring(node)
            node.decorator_list = []
            node.body = [ast.Expr(ast.Constant(...))]
            header = ast.unparse(node).split("\n")[0]
            lines = [header]
            if docstring:
                lines.append(textwrap.indent(f'"""{docstring}"""', "    "))
            lines.append("    ...")
            return "\n".join(lines) + "\n"
    raise ValueError("no function definition found")


def to_stub(func: Callable[..., Any] | FunctionWithRequirements | FunctionWithRequirementsStr) -> str:
    """``def f(a: int) -> int:`` + docstring + ``...``: what a prompt shows of a function."""
    if isinstance(func, FunctionWithRequirementsStr):
        return _stub_from_source(func.func)
    target = func.func if isinstance(func, FunctionWithRequirements) else func
    return _stub_from_source(inspect.getsource(target))


@dataclass
class FunctionWithRequirementsStr:
    """A function given as source text, with its requirements."""

    func: str
    python_packages: list[str] = field(default_factory=list)
    global_imports: list[Import] = field(default_factory=list)
    _func_name: str = field(init=False, default="")

    def __post_init__(self) -> None:
        try:
            tree = ast.parse(textwrap.dedent(self.func))
        except SyntaxError as error:
            raise ValueError(f"Could not compile function: {error}") from error
        functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if len(functions) != 1:
            raise ValueError(f"The source must define exactly one function, found {len(functions)}")
        self._func_name = functions[0].name
        self.func = textwrap.dedent(self.func)

    @property
    def name(self) -> str:
        return self._func_name


@dataclass
class FunctionWithRequirements(Generic[T]):
    """A callable with the pip packages and imports it needs (call it like the function)."""

    func: Callable[..., T]
    python_packages: list[str] = field(default_factory=list)
    global_imports: list[Import] = field(default_factory=list)

    @classmethod
    def from_callable(cls, func: Callable[..., T], python_packages: list[str] | None = None,
                      global_imports: list[Import] | None = None) -> FunctionWithRequirements[T]:
        return cls(func=func, python_packages=list(python_packages or []), global_imports=list(global_imports or []))

    @staticmethod
    def from_str(func: str, python_packages: list[str] | None = None,
                 global_imports: list[Import] | None = None) -> FunctionWithRequirementsStr:
        return FunctionWithRequirementsStr(func=func, python_packages=list(python_packages or []),
                                           global_imports=list(global_imports or []))

    @property
    def name(self) -> str:
        return self.func.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> T:
        return self.func(*args, **kwargs)


def with_requirements(python_packages: list[str] | None = None, global_imports: list[Import] | None = None
                      ) -> Callable[[Callable[..., T]], FunctionWithRequirements[T]]:
    """Decorator: the function, wrapped with the packages and imports it needs."""

    def wrap(func: Callable[..., T]) -> FunctionWithRequirements[T]:
        wrapped = FunctionWithRequirements.from_callable(func, python_packages, global_imports)
        functools.update_wrapper(wrapped, func)
        return wrapped

    return wrap


def _function_source(func: Any) -> str:
    if isinstance(func, FunctionWithRequirementsStr):
        return func.func
    target = func.func if isinstance(func, FunctionWithRequirements) else func
    tree = ast.parse(textwrap.dedent(inspect.getsource(target)))
    node = tree.body[0]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        node.decorator_list = []  # @with_requirements is not importable in the executor's module
    return ast.unparse(tree) + "\n"


def build_functions_module(functions: list[Any]) -> str:
    """Source of a module defining ``functions``, their global imports first."""
    imports: list[str] = []
    for func in functions:
        for im in getattr(func, "global_imports", []):
            line = _import_to_str(im)
            if line not in imports:
                imports.append(line)
    body = "\n\n".join(_function_source(func) for func in functions)
    return "\n".join(imports) + ("\n\n" if imports else "") + body


__all__ = [
    "Alias",
    "FunctionWithRequirements",
    "FunctionWithRequirementsStr",
    "Import",
    "ImportFromModule",
    "build_functions_module",
    "to_stub",
    "with_requirements",
]
