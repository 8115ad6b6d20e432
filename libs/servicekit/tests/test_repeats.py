"""A dependency down is logged when it goes, and when its messages stop, with how many: not
once per attempt (a 40 s Kafka outage once wrote 138,000 lines)."""

from __future__ import annotations

import logging

from servicekit.logging import Repeats


def record(name: str, message: str, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, (), None)


def test_the_first_of_a_kind_passes_its_repeats_are_counted_then_summarised() -> None:
    repeats = Repeats(quiet_seconds=0)
    unable = [record("aiokafka.conn", "Unable connect to node with id %s") for _ in range(1000)]
    passed = [r for r in unable if repeats.filter(r)]
    assert len(passed) == 1
    # Our own lines, and a library's information, always pass.
    assert repeats.filter(record("archive", "Unable connect to node with id %s"))
    assert repeats.filter(record("aiokafka.conn", "joined group", logging.INFO))
    [summary] = repeats.summarise()
    assert (summary["logger"], summary["repeats"]) == ("aiokafka.conn", 999)
    # Once summarised, the next outage is news again.
    assert repeats.filter(record("aiokafka.conn", "Unable connect to node with id %s"))
    assert repeats.summarise() == []  # it did not repeat: nothing to count


def test_a_kind_still_repeating_is_not_summarised_yet() -> None:
    repeats = Repeats(quiet_seconds=3600)
    for _ in range(3):
        repeats.filter(record("psycopg.pool", "error connecting in %r: %s"))
    assert repeats.summarise() == []
