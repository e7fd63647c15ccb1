"""The HTTP side: app factory, authentication, problem responses, server."""
