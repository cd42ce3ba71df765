"""Output truncation keeps exactly the first and the last bytes, whatever the write sizes."""

import random

import pytest

from parley.code.output import BoundedOutput, cut_marker, truncate_text

# Non-repeating output: a byte lost or duplicated anywhere changes what is kept (runs of one
# repeated letter hide that).
DATA = bytes(random.Random(23).choice(b"abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(600))


def expected(data: bytes, limit: int) -> str:
    if len(data) <= limit:
        return data.decode()
    head = limit // 2
    return data[:head].decode() + cut_marker(len(data) - limit) + data[len(data) - (limit - head):].decode()


@pytest.mark.parametrize("limit", [2, 3, 64, 65, 200])
def test_two_writes_split_anywhere_keep_the_exact_head_and_tail(limit):
    for split in range(len(DATA) + 1):
        bounded = BoundedOutput(limit)
        bounded.write(DATA[:split])
        bounded.write(DATA[split:])
        assert bounded.text() == expected(DATA, limit), f"limit {limit}, split at {split}"
        assert bounded.total == len(DATA)


def test_many_small_writes_crossing_the_half_limit():
    limit = 101
    for step in (1, 7, 50, 51, 99):
        bounded = BoundedOutput(limit)
        for start in range(0, len(DATA), step):
            bounded.write(DATA[start:start + step])
        assert bounded.text() == expected(DATA, limit), f"step {step}"


def test_output_under_the_limit_is_whole():
    bounded = BoundedOutput(1000)
    bounded.write(DATA[:250])
    bounded.write(DATA[250:])
    assert bounded.text() == DATA.decode()


def test_truncate_text_matches():
    text = DATA.decode()
    assert truncate_text(text, 99) == expected(DATA, 99)
    assert truncate_text(text, 600) == text


@pytest.mark.parametrize("limit", [4, 5, 40, 41])
def test_output_near_the_limit_written_in_two_pieces(limit):
    # Around the limit every byte is kept (or exactly the right ones cut): a byte lost where a
    # write crosses the half-limit shows as a bogus "1 bytes cut" or a wrong character.
    for size in range(limit - 3, limit + 4):
        data = DATA[:size]
        for split in range(size + 1):
            bounded = BoundedOutput(limit)
            bounded.write(data[:split])
            bounded.write(data[split:])
            assert bounded.text() == expected(data, limit), f"size {size}, split at {split}"


def test_a_limit_under_two_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match="max_output_bytes must be at least 2, got 1"):
        BoundedOutput(1)


@pytest.mark.parametrize("write_size", [1, 3, 17, 1000])
def test_memory_stays_bounded_whatever_the_write_size(write_size):
    # The tail is trimmed back to what text() keeps once it exceeds twice that, after every write.
    limit = 10
    keep = limit - limit // 2
    bounded = BoundedOutput(limit)
    for start in range(0, 5000, write_size):
        bounded.write(bytes(range(256))[:write_size] * 1)
        assert len(bounded._tail) <= 2 * keep, f"after {start + write_size} bytes"
    assert len(bounded._head) == limit // 2


def test_a_cut_inside_a_multibyte_character_is_replaced_not_an_error():
    # 'é' is two bytes: a head of 3 bytes ends inside the second one.
    text = "é" * 50 + "a"
    out = truncate_text(text, 7)
    assert out == "é\ufffd" + cut_marker(94) + "\ufffdéa"
    bounded = BoundedOutput(7)
    bounded.write(text.encode())
    assert bounded.text() == out


def test_invalid_utf8_from_a_process_is_replaced_whole_or_cut():
    bounded = BoundedOutput(100)
    bounded.write(b"ok \xff\xfe done")
    assert bounded.text() == "ok \ufffd\ufffd done"
    cut = BoundedOutput(4)
    cut.write(b"\xffabcdef\xfe")
    assert cut.text() == "\ufffda" + cut_marker(4) + "f\ufffd"


def test_truncate_text_with_a_lone_surrogate():
    # Text from a tool can hold a lone surrogate; it is not UTF-8 encodable as is.
    assert truncate_text("ab\ud800", 3) == "ab\ud800"  # 3 bytes once replaced: at the limit, untouched
    assert truncate_text("abcd\ud800", 4) == "ab" + cut_marker(1) + "d?"
