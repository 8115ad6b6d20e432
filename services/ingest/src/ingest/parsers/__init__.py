"""Parsers of untrusted bytes: pure functions of what an ERP or a user uploaded.

Nothing here does I/O beyond reading the file it is given, or keeps state: each entry point
(``read_file``, ``read_journal_file``, ``read_package_index``, ``read_package_entries``) runs in
a worker process of ``servicekit.workers`` under time and memory limits, never on the service's
event loop. What they find wrong comes back as ``Finding`` values naming a check item, for the
intake rules (``ingest.domain``) to judge.
"""
