"""Hostile function, file and thread names, as a profiled process may carry them: ANSI
and OSC escapes, control characters, Rich/Textual markup (`[bold red]`,
`[@click=app.quit]`), right-to-left marks, emoji, a 3000-character name, `;` and
newlines. Each name is given to a busy function (code.replace(co_name=...)) compiled
from a crafted file name, and threads carry such names too. Runs for argv[1] seconds
(default: until killed)."""

import sys
import threading
import time
import types

NAMES = [
    "ansi\x1b[31mRED\x1b[0m",
    "osc\x1b]0;pwned-title\x07end",
    "link\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "ctl\x07\x08\x0b\x0c\x7f\x9bend",
    "[bold red]markup[/bold red]",
    "[@click=app.quit]quit[/]",
    "rtl\u202eevil\u202c\u200fmark",
    "emoji🔥💥",
    "long" + "x" * 3000,
    "semi;colon;name",
    "new\nline\r\nname",
    "</text><script>alert(1)</script>&amp;\"'",
]
FILES = [
    "/tmp/\x1b[2Jclear;screen.py",
    "/tmp/[link=http://evil.example/]file[/link].py",
    "/tmp/new\nline\u202efile.py",
]
THREADS = ["\x1b[5mblink\x1b[0m", "[reverse]thread[/]", "semi;thread\nnl"]

SOURCE = """
def spin(seconds):
    end = perf_counter() + seconds
    while perf_counter() < end:
        pass
"""


def _named(name: str, filename: str) -> types.FunctionType:
    namespace: dict[str, object] = {"perf_counter": time.perf_counter}
    exec(compile(SOURCE, filename, "exec"), namespace)
    spin = namespace["spin"]
    assert isinstance(spin, types.FunctionType)
    code = spin.__code__.replace(co_name=name, co_filename=filename)
    if sys.version_info >= (3, 11):
        code = code.replace(co_qualname=name)
    return types.FunctionType(code, namespace, name)


FUNCTIONS = [_named(name, FILES[i % len(FILES)]) for i, name in enumerate(NAMES)]


def work(stop: threading.Event) -> None:
    while not stop.is_set():
        for spin in FUNCTIONS:
            spin(0.004)


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else float("inf")
    stop = threading.Event()
    for name in THREADS:
        threading.Thread(target=work, args=(stop,), name=name, daemon=True).start()
    end = time.monotonic() + limit
    while time.monotonic() < end:
        for spin in FUNCTIONS:
            spin(0.002)
    stop.set()


if __name__ == "__main__":
    main()
