import gc
import sys

from localcloud.cli import main

code = main()
# The process ends here. Interpreter shutdown would run the cyclic collector over every object the run created
# or imported (pulumi-aws's classes alone are hundreds of thousands), about a second of nothing; frozen objects
# are left to the operating system instead. Files are closed and atexit handlers still run as usual.
gc.freeze()
sys.exit(code)
