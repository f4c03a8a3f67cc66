"""python -m offline {up,demo}: this project's stacks on a fresh localcloud (see offline/__init__.py)."""

import gc
import sys
import time

from localcloud import collector

began = time.perf_counter()
gc.disable()  # no collection while importing: nothing imported is garbage (see localcloud.collector)
from offline.commands import main  # noqa: E402 - timed: the demo reports what importing pulumi, boto3 and moto costs

collector.after_imports()
gc.enable()
code = main(import_seconds=time.perf_counter() - began)
collector.before_exit()
sys.exit(code)
