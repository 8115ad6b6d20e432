"""Property-based fuzzing of the parsers with Hypothesis: the settings every fuzz test shares, and
strategies that mutate a real sample (which reaches far deeper than random bytes do).

``make test`` runs a few examples of each, the same ones every time (derandomised), so that CI is
stable; ``make fuzz`` runs many, freshly random, and reports: ``AAP_FUZZ_EXAMPLES`` and
``AAP_FUZZ_RANDOM`` set it. A crash it finds becomes a regression test of its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from types import FrameType

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

EXAMPLES = int(os.environ.get("AAP_FUZZ_EXAMPLES", "25"))
RANDOM = os.environ.get("AAP_FUZZ_RANDOM", "") == "1"


def fuzz_settings() -> settings:
    return settings(
        max_examples=EXAMPLES,
        deadline=None,  # parsers of a PDF take what they take; ``within`` bounds them
        derandomize=not RANDOM,
        database=None if not RANDOM else DirectoryBasedExampleDatabase(".hypothesis/examples"),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


class TooSlow(Exception):
    """An example went over its time: in the service, the worker pool's time limit refuses it."""


@contextlib.contextmanager
def within(seconds: int) -> Iterator[None]:
    """Interrupt the (pure Python) parse below after ``seconds``: the pool's limit, in-process."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise TooSlow(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def mutated(sample: bytes) -> st.SearchStrategy[bytes]:
    """``sample`` with a few spans replaced, cut short, or grown: close enough to be parsed far."""
    span = st.tuples(
        st.integers(0, max(len(sample) - 1, 0)),
        st.integers(0, 64),
        st.binary(max_size=64),
    )

    def apply(edits: list[tuple[int, int, bytes]], cut: int | None) -> bytes:
        data = sample
        for at, width, new in edits:
            data = data[:at] + new + data[at + width :]
        return data if cut is None else data[:cut]

    return st.builds(
        apply,
        st.lists(span, min_size=1, max_size=4),
        st.none() | st.integers(0, len(sample)),
    )


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
