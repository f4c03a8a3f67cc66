"""python -m offline {up,demo}: this project's stacks on a fresh localcloud (see offline/__init__.py)."""

from localcloud import collector


def _main():  # imported inside run_command, which times it
    from offline.commands import main

    return main


collector.run_command(_main)
