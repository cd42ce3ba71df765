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
