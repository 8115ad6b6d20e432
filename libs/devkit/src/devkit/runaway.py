"""Work that goes wrong on purpose, for tests of the worker pool: it must live in an importable
module, since a worker process imports what it runs."""

from __future__ import annotations


def spin() -> None:
    """Never returns: what a parser caught in a loop does."""
    while True:
        pass


def hog() -> bytes:
    """Asks for 2 GiB: what a parser expanding a bomb does."""
    return b"x" * (2 * 2**30)


def parse(text: str) -> int:
    """Ordinary work, that fails on bad input like any parser."""
    return int(text)


def environment() -> list[str]:
    """The names in the worker's environment: what a parser exploited could read there."""
    import os

    return sorted(os.environ)
