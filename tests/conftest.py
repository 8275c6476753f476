"""Shared pytest set-up. Helpers for particular areas live in tests/support_*.py."""

# fixtures shared by several test modules, defined beside their helpers
pytest_plugins = ["support_tmux"]
