"""flametop's headless engine: samplers, the rolling stack tree, system readings and formats.

Nothing in this package imports textual or rich; the UI lives in `tui`.
"""

__version__ = "0.1.0"
