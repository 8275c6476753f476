"""py-spy's `--format raw` output as the live py-spy CLI backend reads it: text in,
Samples out (nothing here runs a program). The grammar is stack_text's, shared with the
folded reader; what is decided here is what the roots become: process roots stay in the
stack (the tree tells processes apart by them), the thread root names the sample's thread
and stays a frame only when the user asked for per-thread roots."""

from __future__ import annotations

from samplers.formats.stack_text import (
    FrameCache,
    parse_frame,
    records,
    split_stack,
    starts_with_root,
)
from samplers.model import Frame, Sample


def parse_raw_line(
    line: str, keep_thread_frame: bool, cache: FrameCache | None = None
) -> Sample | None:
    """One `frame;frame;... COUNT` record to a Sample (root first); None if malformed."""
    stack_text, _, count_text = line.rstrip("\r\n ").rpartition(" ")
    if not stack_text or not count_text.isdigit():
        return None
    parts = split_stack(stack_text, glue=True)
    # a command line may hold newlines: one line in the frame
    frames = [Frame(" ".join(root.split())) for _, root in parts.processes]
    if parts.thread and keep_thread_frame:
        frames.append(Frame(f"thread ({parts.thread})"))  # as the folded format writes it
    frames.extend(parse_frame(text, cache) for text in parts.frames)
    if not frames:
        return None
    return Sample(parts.thread, tuple(frames), int(count_text))


def parse_raw(text: str, keep_thread_frame: bool) -> tuple[Sample, ...]:
    cache: FrameCache = {}
    lines = text.split("\n")
    samples = (
        parse_raw_line(record, keep_thread_frame, cache)
        for _, record in records(lines, anchored=starts_with_root(text))
        if record
    )
    return tuple(s for s in samples if s is not None)
