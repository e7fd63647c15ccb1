"""Connections of a workspace to chat platforms: settings, secrets sealed at rest, health."""
