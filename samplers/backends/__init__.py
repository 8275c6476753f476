"""Backends: the Sampler lifecycle, the py-spy CLI sampler, replay and synthetic sources, and
the registry that builds the live one."""
