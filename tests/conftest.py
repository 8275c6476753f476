"""Shared pytest set-up. Helpers for particular areas live in tests/support_*.py."""
