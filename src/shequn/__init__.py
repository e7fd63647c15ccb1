"""Shequn 社群: community operations for chat groups (WeCom, Telegram, sandbox)."""

__version__ = "0.1.0"
