"""Contracts between the services: the event envelope, every event and the topic registry."""
