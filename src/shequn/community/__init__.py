"""Workspaces, groups, members and memberships: who is where."""
