"""Loading a spec: YAML or JSON text (PyYAML's safe loader: data only, never objects), older
versions upgraded, the document validated, the references checked. Nothing is imported or run.
Errors name the path and, for YAML text, the line."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from .document import TeamSpec
from .errors import SpecError, SpecIssue, from_validation_error
from .references import check_references
from .upgrade import upgrade

# libyaml's parser when PyYAML has it (several times faster), the pure-Python one otherwise.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A team is a few levels deep; far deeper input only exhausts the stack of what walks it.
MAX_DEPTH = 64
# Longer plain scalars that look like numbers are refused before Python's int() refuses them.
MAX_NUMBER_LENGTH = 100


def _malformed(error: yaml.YAMLError, source: str) -> SpecError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(error, "problem", None) or str(error)
    return SpecError([SpecIssue("", f"malformed YAML in {source}: {problem}", line)])


def _check_events(text: str, source: str) -> None:
    """One pass over the parser's events, before anything is built: no anchor or alias, nesting
    at most MAX_DEPTH deep, no number too long to convert."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                # A team needs none; aliased collections can make a small file expand enormously.
                raise SpecError([SpecIssue("", "YAML anchors and aliases (&name, *name) are not allowed in a spec", line)])
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise SpecError([SpecIssue("", f"nested more than {MAX_DEPTH} levels deep", line)])
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif (isinstance(event, yaml.ScalarEvent) and not event.style and len(event.value) > MAX_NUMBER_LENGTH
                  and event.value.lstrip("+-")[:1].isdigit()):
                raise SpecError([SpecIssue("", f"a number more than {MAX_NUMBER_LENGTH} characters long", line)])
    except yaml.YAMLError as error:
        raise _malformed(error, source) from None


def _check_depth(document: Any) -> None:
    """Plain data (from_dict) at most MAX_DEPTH deep, checked without recursion."""
    todo = [(document, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise SpecError([SpecIssue("", f"nested more than {MAX_DEPTH} levels deep")])
            todo.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))


def parse_yaml(text: str, source: str = "<spec>") -> tuple[Any, Any]:
    """The document and its YAML node tree (for line numbers); a clear error with the line."""
    _check_events(text, source)
    loader = _Loader(text)
    try:
        # One parse: the node tree (kept for line numbers) made into data by the safe constructor.
        node = loader.get_single_node()
        document = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        raise _malformed(error, source) from None
    except (ValueError, RecursionError) as error:  # what the events' checks could still miss
        raise SpecError([SpecIssue("", f"can't read {source}: {type(error).__name__}: {str(error)[:200]}")]) from None
    finally:
        loader.dispose()
    if _has_aliases(node):
        raise SpecError([SpecIssue("", "YAML anchors and aliases (&name, *name) are not allowed in a spec")])
    duplicates = list(_duplicate_keys(node, ""))
    if duplicates:
        # YAML would keep the last silently: an agent written twice is a mistake to show.
        raise SpecError([SpecIssue(path, "this key is written twice (the second would replace the first)", line)
                         for path, line in duplicates])
    return document, node


def _has_aliases(root: Any) -> bool:
    """Whether a collection node appears twice in the tree (what an alias makes)."""
    seen: set[int] = set()
    todo = [root] if root is not None else []
    while todo:
        node = todo.pop()
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            if id(node) in seen:
                return True
            seen.add(id(node))
            todo.extend(v for pair in node.value for v in pair) if isinstance(node, yaml.MappingNode) else todo.extend(node.value)
    return False


def _duplicate_keys(node: Any, path: str):
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key, value in node.value:
            name = str(key.value)
            here = f"{path}.{name}" if path else name
            if name in seen:
                yield here, key.start_mark.line + 1
            seen.add(name)
            yield from _duplicate_keys(value, here)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, f"{path}[{i}]")


def _line(node: Any, path: str) -> int | None:
    """The line of ``path`` (a.b[0].c) in the YAML node tree, or of the deepest part found."""
    import re

    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and part.startswith("["):
            index = int(part[1:-1])
            if index >= len(node.value):
                break
            node = node.value[index]
            line = node.start_mark.line + 1
        else:
            break
    return line


def validate_document(document: Any, node: Any = None) -> TeamSpec:
    """A TeamSpec from plain data (any version), or a SpecError listing every problem."""
    _check_depth(document)
    document = upgrade(document)
    try:
        spec = TeamSpec.model_validate(document)
    except ValidationError as error:
        raise _with_lines(from_validation_error(error, TeamSpec), node) from None
    except RecursionError:
        raise SpecError([SpecIssue("", "nested too deeply")]) from None
    issues = check_references(spec)
    if issues:
        raise _with_lines(SpecError(issues), node)
    return spec


def _with_lines(error: SpecError, node: Any) -> SpecError:
    if node is None:
        return error
    return SpecError([SpecIssue(i.path, i.message, i.line or _line(node, _located(i))) for i in error.issues])


def _located(issue: SpecIssue) -> str:
    """Where an issue's line is: an unknown key's own line, else its path's."""
    import re

    match = re.match(r"unknown key '([^']*)'", issue.message)
    if match:
        return f"{issue.path}.{match.group(1)}" if issue.path else match.group(1)
    return issue.path


def load_text(text: str, source: str = "<spec>") -> TeamSpec:
    """A spec from YAML (or JSON, which is YAML too)."""
    document, node = parse_yaml(text, source)
    return validate_document(document, node)


__all__ = ["load_text", "parse_yaml", "validate_document"]
