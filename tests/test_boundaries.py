"""The engine stays headless: importing every samplers module pulls in no UI library."""

import pkgutil
import subprocess
import sys

import samplers


def test_importing_samplers_never_imports_textual_or_rich() -> None:
    # GIVEN every module of the engine
    names = [m.name for m in pkgutil.walk_packages(samplers.__path__, "samplers.")]
    code = (
        "import importlib, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    # WHEN they are imported in a fresh interpreter
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # THEN neither textual nor rich was loaded
    assert out.stdout.strip() == ""
    assert len(names) >= 3
