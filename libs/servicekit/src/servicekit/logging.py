"""JSON logs, one object a line, carrying the trace id and the correlation id of the event at hand.

structlog renders our own logs and, through the standard library's root handler, those of
FastStream, aiokafka and uvicorn too, so every line of a service's output is JSON.
"""

from __future__ import annotations

import logging
import sys
import time

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor, WrappedLogger


def _add_trace(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event["trace_id"] = format(ctx.trace_id, "032x")
        event["span_id"] = format(ctx.span_id, "016x")
    return event


# Libraries that log each failed attempt to reach a dependency: a 40 s Kafka outage once wrote
# 138,000 lines (30 MB) of "Unable connect to node".
REPEATING = ("aiokafka", "kafka", "psycopg", "urllib3")


class Repeats(logging.Filter):
    """Of a library's warnings and errors, the first of each kind passes; its repeats are
    counted, and ``summarise`` says how many once they have stopped (the dependency is back)."""

    def __init__(self, quiet_seconds: float = 10) -> None:
        super().__init__()
        self._quiet = quiet_seconds
        self._seen: dict[tuple[str, str], list[float]] = {}  # kind → [first, last, repeats]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not record.name.startswith(REPEATING):
            return True
        kind, now = (record.name, str(record.msg)), time.monotonic()
        if (seen := self._seen.get(kind)) is None:
            self._seen[kind] = [now, now, 0]
            return True
        seen[1], seen[2] = now, seen[2] + 1
        return False

    def summarise(self) -> list[dict[str, object]]:
        """The kinds that stopped repeating: logged once each, and forgotten (the next one is
        news again)."""
        now, stopped = time.monotonic(), []
        for (name, message), (first, last, repeats) in list(self._seen.items()):
            if now - last < self._quiet:
                continue
            del self._seen[(name, message)]
            if repeats:
                stopped.append({"logger": name, "first": message, "repeats": int(repeats),
                                "seconds": round(last - first, 1)})  # fmt: skip
        for summary in stopped:
            structlog.get_logger().warning("repeated messages stopped", **summary)
        return stopped


REPEATS = Repeats()


def configure_logging(service: str, level: str = "INFO") -> None:
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.EventRenamer("message"),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(REPEATS)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # FastStream's loggers come with coloured text handlers and do not propagate: give them ours.
    for name in ("faststream", "faststream.access.kafka"):
        logging.getLogger(name).handlers = [handler]
    structlog.contextvars.bind_contextvars(service=service)
