"""OpenTelemetry: one tracer provider per service; spans cross Kafka in W3C headers."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter


def configure_tracing(service: str, exporter: str = "none") -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": f"aap-{service}"}))
    if exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def current_trace_context() -> dict[str, str]:
    """``traceparent`` (and ``tracestate``) of the current span, for an event's envelope."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier
