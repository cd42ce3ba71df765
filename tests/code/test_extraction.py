"""Finding code blocks with the classic rules."""

from parley.code import CodeBlock, extract_code, extract_code_blocks, infer_lang
from parley.code_utils import UNKNOWN, content_str
from parley.code_utils import extract_code as classic_extract_code

REPLY = """Plan:
```python
# filename: plot.py
print("hi")
```
then
```sh
python plot.py
```
"""


def test_fenced_blocks_in_order_with_languages():
    assert extract_code_blocks(REPLY) == [
        CodeBlock(code='# filename: plot.py\nprint("hi")', language="python"),
        CodeBlock(code="python plot.py", language="sh"),
    ]


def test_no_block_gives_empty_list_and_classic_gives_unknown():
    assert extract_code_blocks("just words, `inline` too") == []
    assert extract_code_blocks(None) == []
    assert extract_code("just words") == [(UNKNOWN, "just words")]


def test_untagged_block_language_is_inferred():
    text = "```\nx = 1\n```\n```\npip install numpy\n```\n```\nthis is not code (\n```"
    assert [b.language for b in extract_code_blocks(text)] == ["python", "sh", "unknown"]
    # classic extract_code leaves the tag empty
    assert extract_code("```\nx = 1\n```") == [("", "x = 1")]


def test_multimodal_content_list_and_crlf_and_indented_fence():
    content = [{"type": "text", "text": "```bash\r\necho a\r\n  ```"}, {"type": "image_url", "image_url": {"url": "x"}}]
    assert extract_code_blocks(content) == [CodeBlock(code="echo a", language="bash")]


def test_single_line_detection():
    assert classic_extract_code("run `ls -l` and\n```py\nx=1\n```", detect_single_line_code=True) == [
        ("", "ls -l"),
        ("py", "x=1"),
    ]


def test_infer_lang_and_content_str():
    assert infer_lang("python3 x.py") == "sh"
    assert infer_lang("print(1)") == "python"
    assert infer_lang("echo $((1+") == UNKNOWN
    assert content_str([{"type": "text", "text": "a"}]) == "a"


def test_a_tagged_block_left_open_at_the_end_still_counts():
    # Small models and replies cut at max_tokens often forget the closing fence.
    assert extract_code_blocks("Here:\n```python\nprint(1)\n") == [CodeBlock(code="print(1)", language="python")]
    both = extract_code_blocks("```python\nprint(1)\n```\nthen\n```sh\necho 2")
    assert [b.language for b in both] == ["python", "sh"]
    # An untagged opening fence with no end is prose, not code.
    assert extract_code_blocks("use ``` to fence code\nlike this") == []


# --- edges found by mutation testing (docs/mutation.md) ---

def test_shell_commands_starting_with_python_are_sh():
    assert infer_lang("python script.py --flag") == "sh"
    assert infer_lang("pip install numpy") == "sh"
    assert infer_lang("python3 -m http.server") == "sh"


def test_a_custom_pattern_is_used_and_spans_lines():
    text = "~~~py\nx = 1\ny = 2\n~~~ and ```python\nprint(1)\n```"
    assert extract_code(text, pattern=r"~~~(\w+)\n(.*?)\n~~~") == [("py", "x = 1\ny = 2")]
    assert classic_extract_code(text, pattern=r"~~~(\w+)\n(.*?)\n~~~") == [("py", "x = 1\ny = 2")]


def test_an_open_block_at_the_very_start_of_the_message():
    assert extract_code_blocks("```python\nprint(1)") == [CodeBlock(code="print(1)", language="python")]


def test_an_open_block_holding_a_fence_is_not_code():
    # The closing fence on the code's own line: no closed block, and not an open one either.
    assert extract_code_blocks("```python\nprint(1) ```") == []
