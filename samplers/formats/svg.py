"""Flame graph SVG writer (work in progress)."""

from __future__ import annotations

from samplers.errors import OutputError
from samplers.model import Profile


def write(profile: Profile) -> bytes:
    raise OutputError("the SVG writer is not ready yet")
