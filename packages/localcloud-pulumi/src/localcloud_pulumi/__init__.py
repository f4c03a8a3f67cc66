"""Run a Pulumi Python program offline against localcloud (see cli.py for the commands)."""
