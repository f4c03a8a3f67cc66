"""The harness's functions, bound to this project's directory (the harness takes the program directory
explicitly; these tests always mean this one)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from localcloud_pulumi import program
from localcloud_pulumi import synth as synthesis
from localcloud_pulumi.program import StackOutput
from offline.stacks import PROJECT_DIR


def stack_config(stack: str) -> dict[str, str]:
    return program.stack_config(stack, PROJECT_DIR)


def run_program(stack: str, mocks: Any, **options: Any) -> dict[str, StackOutput]:
    return program.run_program(stack, mocks, project_dir=PROJECT_DIR, **options)


def run_pulumi(body: Callable[[], Any], stack: str, mocks: Any, **options: Any) -> dict[str, StackOutput]:
    return program.run_pulumi(body, stack, mocks, project_dir=PROJECT_DIR, **options)


def synth(stack: str, config: Mapping[str, str] | None = None) -> dict:
    return synthesis.synth(stack, project_dir=PROJECT_DIR, config=config)


def main_synth(stack: str) -> str:
    return synthesis.main_synth(stack, PROJECT_DIR)
