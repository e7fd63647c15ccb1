"""Plumbing with no business rules: database, bus, clock, ids."""
