import gc
import sys
import time

began = time.perf_counter()
# Importing pulumi, boto3 and moto allocates several hundred thousand objects, none of them garbage, and the
# collector would scan the growing heap hundreds of times over. So: no collection while importing; what was
# imported is frozen out of every later collection; and young objects are collected less often, as the program
# runs and the gate allocate in bursts. The collector's share of the demo falls from about 0.5 s to 0.2 s.
gc.disable()
from localcloud.cli import main  # noqa: E402 - timed: the demo reports what importing pulumi, boto3 and moto costs

gc.freeze()
gc.set_threshold(10_000, 10, 10)
gc.enable()
code = main(import_seconds=time.perf_counter() - began)
# The process ends here. Interpreter shutdown would run the collector over every object the run created (about a
# second of nothing); frozen, they are left to the operating system. Files are closed and atexit handlers run.
gc.freeze()
sys.exit(code)
