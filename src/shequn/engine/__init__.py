"""The engine: ingest → dedupe → append → project → rules → outbox, the scheduler."""
