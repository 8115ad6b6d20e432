"""Shared runtime of the services: settings, logs, tracing, Kafka, PostgreSQL, S3, health."""
