"""StreamedReply: one reply's tokens shown once over several attempts, whatever their chunking."""

from parley import events
from parley.models.stream import StreamedReply


def attempts(*streams: list[str]) -> tuple[list[str], list[str]]:
    """Feed each attempt's tokens (restart between them); what was shown, and the notices."""
    shown: list[str] = []
    reply = StreamedReply(shown.append)
    with events.capture(kinds=(events.Notice,)) as notices:
        for i, tokens in enumerate(streams):
            if i:
                reply.restart()
            for token in tokens:
                reply(token)
    return shown, [n.text for n in notices.events]


def test_a_retry_chunked_differently_shows_only_what_is_new():
    shown, notices = attempts(["alpha ", "be"], ["al", "pha b", "eta", " gamma"])
    assert "".join(shown) == "alpha beta gamma" and not notices


def test_a_retry_that_stops_inside_the_shown_part_then_a_third_attempt():
    shown, notices = attempts(["one ", "two ", "three"], ["one "], ["one two three four"])
    assert "".join(shown) == "one two three four" and not notices


def test_a_different_reply_starts_over_after_a_notice():
    shown, notices = attempts(["one ", "two"], ["one ", "six ", "seven"])
    assert shown == ["one ", "two", "one six ", "seven"]
    assert len(notices) == 1 and "differs" in notices[0]


def test_a_first_attempt_that_showed_nothing_needs_no_replay():
    shown, notices = attempts([], ["whole"])
    assert shown == ["whole"] and not notices
