"""python -m localcloud COMMAND: `serve`, and the commands of every installed package that adds some.

A package adds commands through the entry point group ``localcloud.commands``: each entry point names a function
that takes argparse's subparsers and adds its commands, each with ``set_defaults(run=function)``. localcloud-pulumi
adds up, preview, deploy, destroy, stack output and synth. The emulator itself knows none of them.
"""

from localcloud import collector


def _main():  # imported inside run_command, which times it
    from localcloud.cli import main

    return main


collector.run_command(_main)
