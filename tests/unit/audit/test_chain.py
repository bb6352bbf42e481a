"""The chain check names the first broken event and why, for each kind of damage."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flowengine import ChainBroken
from flowengine.audit.chain import ChainCursor, check_chain, require_chain
from flowengine.records.events import GENESIS, Event, seal
from tests.support.audit import new_engine, walk_standard


@pytest.fixture(scope="module")
def history() -> list[Event]:
    engine, clock = new_engine()
    case = walk_standard(engine, clock)
    return engine.history(case.id)


def test_an_untouched_history_verifies(history: list[Event]) -> None:
    assert len(history) > 10
    assert history[0].prev_hash == GENESIS
    assert check_chain(history[0].case_id, history) is None
    require_chain(history[0].case_id, history)  # does not raise


def test_changed_data_is_named_at_its_event(history: list[Event]) -> None:
    events = list(history)
    events[3] = replace(events[3], data={**events[3].data, "department": "公安局"})
    fault = check_chain(events[0].case_id, events)
    assert fault is not None and fault.seq == 4
    assert "hash does not match" in fault.why


def test_a_changed_hash_is_named_at_its_event(history: list[Event]) -> None:
    events = list(history)
    events[5] = replace(events[5], hash="f" * 64)
    fault = check_chain(events[0].case_id, events)
    assert fault is not None and fault.seq == 6


def test_a_deleted_event_names_the_missing_sequence_number(history: list[Event]) -> None:
    events = history[:4] + history[5:]
    fault = check_chain(events[0].case_id, events)
    assert fault is not None and fault.seq == 5
    assert "missing" in fault.why


def test_a_deleted_first_event_is_named(history: list[Event]) -> None:
    fault = check_chain(history[0].case_id, history[1:])
    assert fault is not None and fault.seq == 1


def test_swapped_events_are_named(history: list[Event]) -> None:
    events = list(history)
    events[2], events[3] = events[3], events[2]
    fault = check_chain(events[0].case_id, events)
    assert fault is not None and fault.seq == 3
    assert "out of order" in fault.why


def test_a_resealed_forgery_breaks_the_next_link(history: list[Event]) -> None:
    """Someone who edits an event and recomputes its hash still breaks event n+1's link."""
    events = list(history)
    events[3] = seal(replace(events[3], data={"department": "公安局"}))
    fault = check_chain(events[0].case_id, events)
    assert fault is not None and fault.seq == 5
    assert "prev_hash" in fault.why


def test_a_repeated_event_is_named(history: list[Event]) -> None:
    events = history[:3] + [history[2]] + history[3:]
    fault = check_chain(events[0].case_id, events)
    assert fault is not None and fault.seq == 3
    assert "repeated" in fault.why


def test_an_event_of_another_case_is_named(history: list[Event]) -> None:
    events = list(history)
    events[1] = replace(events[1], case_id="C999999")
    fault = check_chain(history[0].case_id, events)
    assert fault is not None and fault.seq == 2 and "C999999" in fault.why


def test_no_events_and_a_truncated_tail(history: list[Event]) -> None:
    assert check_chain("C1", []) is not None
    cursor = ChainCursor(history[0].case_id)
    for event in history[:-1]:
        cursor.feed(event)
    fault = cursor.finish(expected_last=len(history))
    assert fault is not None and fault.seq == len(history)


def test_require_chain_raises_an_exit_1_error(history: list[Event]) -> None:
    with pytest.raises(ChainBroken) as info:
        require_chain(history[0].case_id, history[1:])
    assert info.value.exit_code == 1 and info.value.seq == 1
