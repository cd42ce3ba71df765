"""Finding code in messages, with the classic AutoGen rules.

A code block is a fenced block: three backticks, an optional language tag, a newline, the code,
a newline, three backticks. A block without a tag gets its language inferred (valid Python is
``python``; a line starting with ``pip``/``python `` is ``sh``; anything else is ``unknown``).
"""

from __future__ import annotations

import re

from parley.code.base import CodeBlock
from parley.messages import content_str

# Classic pattern: ```[ \t]*(\w+)?[ \t]*\r?\n(.*?)\r?\n[ \t]*```  (language tag optional,
# closing fence may be indented).
CODE_BLOCK_PATTERN = r"```[ \t]*(\w+)?[ \t]*\r?\n(.*?)\r?\n[ \t]*```"
UNKNOWN = "unknown"

_code_block_re = re.compile(CODE_BLOCK_PATTERN, re.DOTALL)
_with_inline_re = re.compile(CODE_BLOCK_PATTERN + r"|`([^`]+)`", re.DOTALL)
# A tagged block that the message ends inside: small models (and replies cut at max_tokens)
# often leave the closing fence out.
_unclosed_re = re.compile(r"```[ \t]*(\w+)[ \t]*\r?\n(.*?)\s*\Z", re.DOTALL)


def infer_lang(code: str) -> str:
    """Classic guess for an untagged block: ``sh``, ``python`` or ``unknown``."""
    if code.startswith(("python ", "pip", "python3 ")):
        return "sh"
    try:
        compile(code, "test", "exec")
    except (SyntaxError, ValueError):
        return UNKNOWN
    return "python"


def extract_code(
    text: str | list | None, pattern: str = CODE_BLOCK_PATTERN, detect_single_line_code: bool = False
) -> list[tuple[str, str]]:
    """Classic ``extract_code``: ``[(language, code), ...]``.

    With no block, returns ``[("unknown", text)]``. A block without a tag has language ``""``.
    With ``detect_single_line_code``, inline `code` spans are returned too, with language ``""``.
    """
    text = content_str(text)
    if not detect_single_line_code:
        regex = _code_block_re if pattern == CODE_BLOCK_PATTERN else re.compile(pattern, re.DOTALL)
        found = regex.findall(text)
        return found if found else [(UNKNOWN, text)]
    extracted = []
    for lang, block, inline in _with_inline_re.findall(text):
        if block:
            extracted.append((lang.strip(), block.strip()))
        elif inline:
            extracted.append(("", inline.strip()))
    return extracted


def extract_code_blocks(text: str | list | None) -> list[CodeBlock]:
    """The fenced code blocks of a message's content, in order; ``[]`` when there are none."""
    text = content_str(text)
    blocks = []
    end = 0
    for match in _code_block_re.finditer(text):
        lang, code = match.groups()
        blocks.append(CodeBlock(code=code, language=lang or infer_lang(code)))
        end = match.end()
    unclosed = _unclosed_re.search(text, end)
    if unclosed and unclosed.group(2).strip() and "```" not in unclosed.group(2):
        blocks.append(CodeBlock(code=unclosed.group(2), language=unclosed.group(1)))
    return blocks
