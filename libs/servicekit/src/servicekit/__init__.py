"""Shared runtime of the services: settings, logs, tracing, Kafka, MongoDB, S3, health."""
