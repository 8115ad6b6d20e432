"""Which failures are waited out (a dependency down or starting) and which are the message's."""

from __future__ import annotations

from aiokafka.errors import (
    LeaderNotAvailableError,
    MessageSizeTooLargeError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)

from servicekit.failures import dependency_of, is_transient


def test_a_broker_that_is_starting_is_waited_out_a_refusal_is_not() -> None:
    # A broker just restarted answers these until its partitions are loaded and led: an event
    # set aside for them would wait for a person, though the next try succeeds.
    for starting in (UnknownTopicOrPartitionError(), LeaderNotAvailableError()):
        assert is_transient(starting) and dependency_of(starting) == "Kafka"
    for refused in (MessageSizeTooLargeError(), TopicAuthorizationFailedError()):
        assert not is_transient(refused)
