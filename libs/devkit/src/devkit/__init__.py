"""Developer tooling: topics, the local stack, the demo and the benchmark."""
