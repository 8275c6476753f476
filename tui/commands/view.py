"""`flametop view FILE [--baseline FILE]`: open a saved profile in the live screen.

A `.flametop` capture replays through the same App as `top` (ReplaySampler; rails from
the readings stored in it) with a timeline to move through; any other format opens as a
static profile (one batch, window "everything"). Files are read, and refused with one
line, before the screen starts."""

from __future__ import annotations

import argparse
from pathlib import Path

from samplers.backends.replay import ReplaySampler
from samplers.errors import FormatError
from samplers.model import Profile
from samplers.tree.stacktree import StackTree
from tui.commands.report import load_profile
from tui.view_app import ViewApp, ViewTree


def _check_samples(path: str, profile: Profile) -> None:
    if profile.total <= 0:
        raise FormatError(f"{path}: contains no samples; there is nothing to show")


def _tree_of(profile: Profile) -> StackTree:
    # Keep every second of the capture fine-grained so stepping through time is exact
    # for captures up to an hour; older parts coarsen to minutes as in `top`.
    tree = StackTree(rate=profile.metadata.rate or 100.0, max_buckets=3600)
    return tree


def build_app(args: argparse.Namespace) -> ViewApp:
    profile, fmt = load_profile(args.file)
    profile = profile.in_mode()  # a capture of every mode is shown in its recorded one
    _check_samples(args.file, profile)
    baseline_tree: StackTree | None = None
    if getattr(args, "baseline", None):
        baseline, _ = load_profile(args.baseline)
        baseline = baseline.in_mode()
        _check_samples(args.baseline, baseline)
        baseline_tree = _tree_of(baseline)
        for batch in baseline.batches:
            baseline_tree.add(batch)
    # Speed 0: the replay hands every batch over at once; the timeline does the playing.
    sampler = ReplaySampler(profile, speed=0)
    has_timeline = fmt == "flametop" and len(profile.batches) > 1
    tree = ViewTree(_tree_of(profile), sampler.readings, baseline_tree)
    source = Path(args.file).name
    if args.baseline:
        source += f" vs {Path(args.baseline).name}"
    return ViewApp(
        sampler,
        tree,
        source=source,
        metadata=profile.metadata,
        timeline=has_timeline,
        save_dir=getattr(args, "save_dir", "flametop-snapshots"),
        window_s=None,
    )


def run_view(args: argparse.Namespace) -> int:
    app = build_app(args)
    try:
        code = app.run()
    finally:
        app.loop.stop()
    return 0 if code is None else int(code)
