"""The transition-graph builder's messages and edge cases, checked directly (docs/mutation.md)."""

import logging

import pytest

from parley.groupchat.transitions import allowed_graph, full_graph


class Named:
    def __init__(self, name):
        self.name = name


A, B, C = Named("alice"), Named("bob"), Named("carol")


def test_full_graph_self_loops_follow_allow_repeat_speaker():
    assert full_graph([A, B], True) == {A: [A, B], B: [A, B]}
    assert full_graph([A, B], False) == {A: [B], B: [A]}
    assert full_graph([A, B, C], [B]) == {A: [B, C], B: [A, B, C], C: [A, B]}
    assert full_graph([A, B], []) == {A: [B], B: [A]}


def test_not_a_dict_is_refused_with_its_type():
    with pytest.raises(TypeError, match=r"must be a dict \{agent: \[agents\]\}, not list"):
        allowed_graph([A], "allowed", [A, B])


def test_targets_not_a_list_are_refused_with_their_type():
    with pytest.raises(TypeError, match=r"transitions\['alice'\] must be a list of agents, not set"):
        allowed_graph({A: {B}}, "allowed", [A, B])


def test_an_agent_without_a_name_is_labelled_by_itself():
    with pytest.raises(ValueError, match=r"'stranger' is not an agent of this group chat \(disallowed transitions from it\)"):
        allowed_graph({"stranger": [A]}, "disallowed", [A, B])


def test_a_graph_with_no_edge_names_its_type():
    with pytest.raises(ValueError, match=r"\(disallowed\) leaves no transition at all: no agent could ever speak after another"):
        allowed_graph({A: [A, B], B: [A, B]}, "disallowed", [A, B])


def test_a_dead_end_is_warned_about_with_every_way_into_it(caplog):
    with caplog.at_level(logging.WARNING, logger="parley.groupchat.transitions"):
        graph = allowed_graph({A: [C], B: [C]}, "allowed", [A, B, C])
    assert graph == {A: [C], B: [C]}
    expected = (
        "allowed_or_disallowed_speaker_transitions (allowed): 'carol' can be chosen to speak (after 'alice', 'bob') "
        "but has no allowed next speaker, so the chat ends after it speaks; add an edge from 'carol' to go on"
    )
    assert [r.getMessage() for r in caplog.records] == [expected]


def test_an_agent_nobody_hands_to_is_no_dead_end(caplog):
    # carol has no edges and nobody can choose her: nothing to warn about.
    with caplog.at_level(logging.WARNING, logger="parley.groupchat.transitions"):
        assert allowed_graph({A: [B], B: [A]}, "allowed", [A, B, C]) == {A: [B], B: [A]}
    assert caplog.records == []
