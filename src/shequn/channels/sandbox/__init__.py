"""The built-in sandbox channel: groups live in Shequn and every capability works."""
