"""What the cyclic garbage collector is spared in localcloud's processes (the CLI, and the test workers).

Importing pulumi, pulumi-aws, boto3 and moto allocates several hundred thousand long-lived objects and no garbage,
yet every collection of the oldest generation scans them all, and interpreter shutdown collects once more over
everything. Frozen objects are left out of both; young objects are collected less often, as the program runs, the
gate and moto allocate in bursts. Measured with gc callbacks: a demo's collections fell from about 0.5 s to 0.2 s,
a test worker's by about 2 s, and shutdown's pass (a second or more) went.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from typing import NoReturn

THRESHOLDS = (10_000, 10, 10)  # CPython's default is (700, 10, 10)


def after_imports() -> None:
    """What has been imported (or collected, in pytest) stays: keep it out of every later collection."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


def before_exit() -> None:
    """The process ends next: leave every object to the operating system rather than to a last collection.
    Files still close and atexit handlers still run as usual."""
    gc.freeze()


def run_command(import_main: Callable[[], Callable[..., int]]) -> NoReturn:
    """A command's __main__: import its main function with collection off (nothing imported is garbage), time
    the import (the commands report what importing pulumi, boto3 and moto costs), run it, exit with its code."""
    began = time.perf_counter()
    gc.disable()
    main = import_main()
    after_imports()
    gc.enable()
    code = main(import_seconds=time.perf_counter() - began)
    before_exit()
    sys.exit(code)


def settle() -> None:
    """Between the phases of a long-running process (one deploy after another): collect what the phase left as
    garbage, once, then keep what survives (modules it imported, caches) out of later collections too. Without it
    each full collection rescans every earlier phase's survivors (about 0.3 s once 300,000 objects live)."""
    gc.collect()
    gc.freeze()
