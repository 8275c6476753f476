"""The engine stays headless: importing every samplers module pulls in no UI library."""

import pkgutil
import subprocess
import sys

import samplers


def _ui_modules_after_importing(names: list[str]) -> str:
    """The textual/rich modules loaded by importing `names` in a fresh interpreter."""
    code = (
        "import importlib, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_samplers_never_imports_textual_or_rich() -> None:
    # GIVEN every module of the engine
    names = [m.name for m in pkgutil.walk_packages(samplers.__path__, "samplers.")]
    # WHEN they are imported in a fresh interpreter
    loaded = _ui_modules_after_importing(names)
    # THEN neither textual nor rich was loaded
    assert loaded == ""
    assert len(names) >= 3
    assert "samplers.session.live" in names


def test_the_live_sampling_loop_is_headless() -> None:
    # GIVEN the sampling loop the app runs on its worker thread
    # WHEN only it is imported in a fresh interpreter
    loaded = _ui_modules_after_importing(["samplers.session.live"])
    # THEN neither textual nor rich was loaded
    assert loaded == ""
