"""Security hygiene, checked on the code and on every path that writes a file: no shell,
no eval/exec, no listener, readers that never import; files 0600, atomic, never replaced
without --force; targets started with argument lists and the user's own environment."""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support_app import second
from support_report import cli
from support_targets import REPO, run_flametop, target_path

from samplers.errors import OutputError
from samplers.formats import read_profile, write_profile
from samplers.formats.validate import OutputSpec
from samplers.model import Metadata, Profile
from samplers.session.record import write_outputs
from tui.saving import autosave, base_name, save_snapshot

SOURCES = sorted((REPO / "samplers").rglob("*.py")) + sorted((REPO / "tui").rglob("*.py"))
BANNED_CALLS = {"eval", "exec", "compile", "__import__", "execfile"}
BANNED_ATTRS = {
    ("os", "system"),
    ("os", "popen"),
    ("os", "execv"),
    ("os", "execvp"),
    ("os", "spawnv"),
    ("importlib", "import_module"),
    ("pickle", "loads"),
    ("pickle", "load"),
    ("marshal", "loads"),
    ("socket", "socket"),
    ("socket", "create_server"),
    ("asyncio", "start_server"),
}
# tui/cli.py imports the module of the chosen command from its fixed table (lazily, so
# `flametop record` never loads Textual): no name there comes from input.
ALLOWED = {"tui/cli.py": {"importlib.import_module()"}}
BANNED_MODULES = {"pickle", "marshal", "shelve", "socketserver", "http.server", "xmlrpc"}


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[str] = []
    for call in _calls(tree):
        func = call.func
        if isinstance(func, ast.Name) and func.id in BANNED_CALLS:
            found.append(f"{func.id}() at line {call.lineno}")
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and (func.value.id, func.attr) in BANNED_ATTRS
        ):
            found.append(f"{func.value.id}.{func.attr}() at line {call.lineno}")
        if isinstance(func, ast.Attribute) and func.attr in ("listen", "bind", "serve_forever"):
            found.append(f".{func.attr}() at line {call.lineno}")
        for kw in call.keywords:
            if kw.arg == "shell" and not (
                isinstance(kw.value, ast.Constant) and kw.value.value is False
            ):
                found.append(f"shell= at line {call.lineno}")
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [
            f"import {n}" for n in names if n in BANNED_MODULES or n.split(".")[0] == "xmlrpc"
        ]
    return found


def test_the_checker_catches_what_it_looks_for(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import os, subprocess, pickle, socket\n"
        "os.system('x'); eval('1'); exec('1'); subprocess.run('x', shell=True)\n"
        "s = socket.socket(); s.bind(('', 1)); s.listen()\n"
    )
    assert len(_problems(bad)) == 8


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_shell_eval_exec_pickle_or_listener_in_the_product(path: Path) -> None:
    # GIVEN every module of samplers/ and tui/ THEN none runs a shell, evaluates text,
    # unpickles, imports by name, or opens a listening socket
    allowed = ALLOWED.get(str(path.relative_to(REPO)), set())
    assert [p for p in _problems(path) if p.split(" at ")[0] not in allowed] == []


def test_readers_only_parse_bytes() -> None:
    # Readers get bytes and return a Profile: nothing in samplers/formats can start a
    # program, load a module or call native code, whatever a file says.
    for path in sorted((REPO / "samplers" / "formats").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        risky = {"subprocess", "importlib", "runpy", "ctypes", "pickle", "marshal"}
        assert not {m.split(".")[0] for m in imported} & risky, (path.name, imported)


# -- every writer: 0600, atomic, never replacing a file silently -------------------


def _profile() -> Profile:
    return Profile(Metadata(sampler="py-spy", rate=100.0, pid=1), (second(0), second(1)))


def _private(path: Path) -> None:
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600, oct(path.stat().st_mode)
    assert not list(path.parent.glob(".*.tmp")), "a temporary file was left behind"


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    old = os.umask(0)  # a permissive umask must not make files readable to others
    yield
    os.umask(old)


def test_record_outputs(tmp_path: Path) -> None:
    specs = (OutputSpec(tmp_path / "a.folded", "folded"), OutputSpec(tmp_path / "a.svg", "svg"))
    written, errors = write_outputs(_profile(), specs, force=False)
    assert len(written) == 2 and not errors
    for spec in specs:
        _private(spec.path)
    # WHEN written again without --force THEN refused, each file kept as it was
    before = specs[0].path.read_bytes()
    written, errors = write_outputs(_profile(), specs, force=False)
    assert not written and all("--force" in e.message for e in errors)
    assert specs[0].path.read_bytes() == before


def test_report_output(tmp_path: Path) -> None:
    source = write_profile(_profile(), tmp_path / "in.flametop")
    out = tmp_path / "out.speedscope.json"
    assert cli("report", str(source), "-o", str(out)).returncode == 0
    _private(out)
    out.write_text("keep me")
    again = cli("report", str(source), "-o", str(out))
    assert again.returncode == 2 and "exists" in again.stderr and "--force" in again.stderr
    assert out.read_text() == "keep me"
    forced = cli("report", str(source), "-o", str(out), "--force")
    assert forced.returncode == 0 and out.read_text() != "keep me"
    _private(out)


def test_snapshot_files(tmp_path: Path) -> None:
    save_dir = tmp_path / "snaps"
    base = base_name(save_dir, "pid 1 [x]; rm -rf /")
    assert base.parent == save_dir and "/" not in base.name and ";" not in base.name
    result = save_snapshot(base, "<svg/>", _profile(), None)
    assert not result.errors and len(result.written) == 2
    for path in result.written:
        _private(path)
    assert (save_dir.stat().st_mode & 0o777) == 0o700
    # WHEN the same base is saved again THEN nothing is replaced and each refusal is said
    before = {p: p.read_bytes() for p in result.written}
    again = save_snapshot(base, "<svg>other</svg>", _profile(), None)
    assert not again.written and len(again.errors) == 2
    assert {p: p.read_bytes() for p in before} == before
    # AND the next snapshot gets a fresh name
    assert base_name(save_dir, "pid 1 [x]; rm -rf /") != base


def test_autosave_never_replaces_an_earlier_autosave(tmp_path: Path) -> None:
    first = autosave(tmp_path, "session", _profile())
    second_save = autosave(tmp_path, "session", _profile())
    assert not first.errors and not second_save.errors
    assert first.written[0] != second_save.written[0]
    for path in first.written + second_save.written:
        _private(path)
        assert read_profile(path).total == _profile().total


def test_a_symlink_in_the_way_is_not_followed(tmp_path: Path) -> None:
    # GIVEN a planted symlink where an output goes (to a file the attacker wants hit)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "out.folded").symlink_to(victim)
    with pytest.raises(OutputError, match="exists"):
        write_profile(_profile(), tmp_path / "out.folded")
    assert victim.read_text() == "precious"


# -- started commands: argument lists and the user's environment -------------------


@pytest.mark.pyspy
def test_the_started_command_gets_the_users_environment_and_literal_arguments(
    tmp_path: Path,
) -> None:
    seen = tmp_path / "seen.txt"
    tricky = "$(touch pwned); `touch pwned2` | ; && *"
    code = (
        "import os, sys, runpy\n"
        f"open({str(seen)!r}, 'w').write(os.environ.get('FLAMETOP_USER_VAR', '-') + '\\n' "
        "+ sys.argv[1])\n"
        f"sys.argv = [{str(target_path('cpu_75_25'))!r}, '1.5']\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    env = dict(os.environ, FLAMETOP_USER_VAR="from the user's shell")
    result = run_flametop(
        "record",
        "-o",
        str(tmp_path / "x.folded"),
        "--",
        sys.executable,
        "-c",
        code,
        tricky,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    # THEN the variable arrived unchanged and the argument was not given to a shell
    assert seen.read_text() == f"from the user's shell\n{tricky}"
    assert not (REPO / "pwned").exists() and not (tmp_path / "pwned").exists()


def test_top_starts_its_command_with_the_users_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.commands.top import _start_target, _stop_target

    seen = tmp_path / "env.txt"
    monkeypatch.setenv("FLAMETOP_USER_VAR", "top sees it")
    code = f"import os; open({str(seen)!r}, 'w').write(os.environ['FLAMETOP_USER_VAR'])"
    proc, log = _start_target([sys.executable, "-c", code])
    proc.wait(10)
    _stop_target(proc)
    log.unlink(missing_ok=True)
    assert seen.read_text() == "top sees it"
