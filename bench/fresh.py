"""The slow benchmarks (python bench/run.py --fresh): what a new user and CI pay, as whole commands.

- fresh_demo_s: a fresh clone of the commit with empty package caches, `make demo` to the verified object
  (fetching uv, resolving nothing, downloading and installing every locked package, then the demo).
- make_demo_s: `make demo` again in that clone, installed.
- make_test_s: `make test` in that clone, installed: the second of two runs, so Python's bytecode cache of the
  test modules is written, as on any developer's machine (what each change pays).
- ci_run_s: `bash .ci/run` in a fresh clone with empty package caches, as CI runs it on a fresh machine.

With --baseline REF the same commands run on that commit too, in the same run, one after the other (never
concurrently: the machine has two cores and each command uses both).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class CommandFailed(RuntimeError):
    pass


def wall_s(command: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> float:
    """Wall time of a whole command, which must succeed (its output is shown only when it does not)."""
    began = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=dict(env) if env is not None else None, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - began
    if done.returncode:
        raise CommandFailed(f"{' '.join(command)} in {cwd} exited {done.returncode}:\n"
                            f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return elapsed


def clone(ref: str, into: Path) -> Path:
    """A clean clone of `ref` of this repository, as CI makes one: only what is committed."""
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(into)], check=True)
    subprocess.run(["git", "checkout", "--quiet", "--detach", ref], cwd=into, check=True)
    return into


def empty_cache_env(cache_dir: Path) -> dict[str, str]:
    """The environment of a machine that has downloaded nothing: every package cache points at an empty folder."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("VIRTUAL_ENV", "UV_"))}
    env.update(UV_CACHE_DIR=str(cache_dir / "uv"), PIP_NO_CACHE_DIR="1", XDG_CACHE_HOME=str(cache_dir / "xdg"),
               CI="true")
    return env


def measure_commit(ref: str) -> dict[str, float]:
    """The four figures for one commit."""
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fresh-") as scratch:
        scratch_dir = Path(scratch)
        demo_clone = clone(ref, scratch_dir / "demo")
        results["fresh_demo_s"] = wall_s(["make", "demo"], demo_clone, empty_cache_env(scratch_dir / "cache-demo"))
        results["make_demo_s"] = wall_s(["make", "demo"], demo_clone)
        wall_s(["make", "test"], demo_clone)
        results["make_test_s"] = wall_s(["make", "test"], demo_clone)
        shutil.rmtree(demo_clone)
        ci_clone = clone(ref, scratch_dir / "ci")
        results["ci_run_s"] = wall_s(["bash", ".ci/run"], ci_clone, empty_cache_env(scratch_dir / "cache-ci"))
    return results


def head_commit() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()
