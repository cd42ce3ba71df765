"""Reading a speaker's name out of a model's answer (``parley.groupchat.names``), case by case:
which name, and how many mentions were counted."""

import pytest

from parley.groupchat.names import mentioned_names, parse_speaker_answer

TEAM = ["Planner", "Writer"]
NESTED = ["Planner", "Planner Two"]  # one name inside another: mentions alone cannot tell them apart


@pytest.mark.parametrize("answer, expected", [
    ("Writer", ("Writer", {"Writer": 1})),
    ("  **Writer**.\n", ("Writer", {"Writer": 1})),
    ('"Planner Two".', ("Planner Two", {"Planner Two": 1})),  # taken as a whole, not as two mentions
    ("planner two", ("Planner Two", {"Planner Two": 1})),  # the one name it is, in any case
    ("Planner Two, then Planner", (None, {"Planner": 2, "Planner Two": 1})),
    ("Writer, Writer and Writer", ("Writer", {"Writer": 3})),
    ("The next speaker is writer", ("Writer", {"Writer": 1})),
    ("nobody", (None, {})),
])
def test_the_name_an_answer_picks_and_the_mentions_counted(answer, expected):
    names = NESTED if "Two" in answer or "two" in answer else TEAM
    assert parse_speaker_answer(answer, names) == expected


def test_names_equal_but_for_case_are_not_guessed_between():
    assert parse_speaker_answer("ann", ["Ann", "ANN"]) == (None, {"Ann": 1, "ANN": 1})
    assert parse_speaker_answer("ANN", ["Ann", "ANN"]) == ("ANN", {"ANN": 1})


@pytest.mark.parametrize("answer, expected", [
    ('{"speaker": "Writer", "reason": "the Planner is done"}', ("Writer", {"Writer": 1})),  # its word, not its mentions
    ('{"speaker": " writer "}', ("Writer", {"Writer": 1})),
    ('{"speaker": 3, "note": "Writer"}', ("Writer", {"Writer": 1})),  # no name given: read as text
    ('{"next": "Writer"}', ("Writer", {"Writer": 1})),
    ('{"speaker": "Writer"', ("Writer", {"Writer": 1})),  # not JSON: read as text
])
def test_a_json_answer_is_taken_at_its_speaker_field(answer, expected):
    assert parse_speaker_answer(answer, TEAM) == expected


def test_exact_case_mentions_win_over_any_case_ones():
    assert mentioned_names("Planner, then writer", TEAM) == {"Planner": 1}
    assert mentioned_names("planner, then writer", TEAM) == {"Planner": 1, "Writer": 1}
    assert mentioned_names("planner, then writer", TEAM, any_case=False) == {}
    assert mentioned_names("Planner, then writer", TEAM, any_case=False) == {"Planner": 1}
