"""Channel adapters: inbound traffic becomes events, decided actions go out."""
