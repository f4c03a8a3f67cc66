"""python -m localcloud COMMAND: `serve`, and the commands of every installed package that adds some.

A package adds commands through the entry point group ``localcloud.commands``: each entry point names a function
that takes argparse's subparsers and adds its commands, each with ``set_defaults(run=function)``. localcloud-pulumi
adds up, preview, deploy, destroy, stack output and synth. The emulator itself knows none of them.
"""

import gc
import sys
import time

from localcloud import collector

began = time.perf_counter()
gc.disable()  # no collection while importing: nothing imported is garbage (see localcloud.collector)
from localcloud.cli import main  # noqa: E402 - timed: the commands report what importing pulumi, boto3 and moto costs

collector.after_imports()
gc.enable()
code = main(import_seconds=time.perf_counter() - began)
collector.before_exit()
sys.exit(code)
