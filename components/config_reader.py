"""Reading a stack's configuration: the raw values as Pulumi hands them to a program (strings; lists and maps as
JSON text), checked key by key, every problem collected and reported at once in a ``ConfigError``.

Shared by the prod and consumer settings (components/settings.py), the grants (components/grants.py) and the
bootstrap program (bootstrap/settings.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import pulumi

PROJECT = "cross-account-s3"

# Patterns are matched whole (fullmatch) and ASCII-only: \d must not accept other scripts' digits, and "$"
# must not accept a trailing newline.
ACCOUNT_ID = re.compile(r"\d{12}", re.ASCII)
# IAM role and user names: up to 64 characters of [\w+=,.@-].
IAM_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
NUMBER = re.compile(r"[0-9]{1,9}", re.ASCII)
IAM_NAMES = "IAM role names (1-64 of [A-Za-z0-9+=,.@_-])"
USER_NAMES = "IAM user names (1-64 of [A-Za-z0-9+=,.@_-])"


class ConfigError(pulumi.RunError):
    """The stack's configuration is invalid. A RunError, so `pulumi preview` prints it without a traceback."""

    def __init__(self, stack: str, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Invalid configuration for stack '{stack}':\n{lines}")


class ConfigReader:
    """Collects problems instead of stopping at the first, so one preview shows everything to fix.

    Keys are of the namespace `project` unless they name their own (aws:region)."""

    def __init__(self, raw: Mapping[str, str | None], project: str = PROJECT):
        self.raw = {k: v for k, v in raw.items() if v is not None}
        self.project = project
        self.problems: list[str] = []

    def qualified(self, key: str) -> str:
        return key if ":" in key else f"{self.project}:{key}"

    def fail(self, key: str, expected: str, got: Any) -> None:
        self.problems.append(f"{self.qualified(key)}: expected {expected}, got {got!r}")

    def text(self, key: str, pattern: re.Pattern[str] | None, expected: str, default: str | None = None,
             required: bool = False) -> Any:
        value = self.raw.get(key)
        if value is None or value == "":
            if required:
                self.problems.append(f"{self.qualified(key)}: required, {expected}")
            return default
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(key, expected, value)
            return default
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if value in ("true", "True", "false", "False"):  # exactly what Pulumi's Config.get_bool accepts
            return value in ("true", "True")
        self.fail(key, "true or false", value)
        return default

    def number(self, key: str, default: int, valid: Callable[[int], bool], expected: str) -> int:
        value = self.raw.get(key)
        if value is None:
            return default
        if not NUMBER.fullmatch(value):
            self.fail(key, expected, value)
            return default
        number = int(value)
        if not valid(number):
            self.fail(key, expected, number)
            return default
        return number

    def names(self, key: str, pattern: re.Pattern[str], expected: str) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            return ()
        parsed = parse_json(value)
        if not isinstance(parsed, list) or not all(isinstance(n, str) for n in parsed):
            self.fail(key, f"a list of {expected}", value)
            return ()
        bad = [n for n in parsed if not pattern.fullmatch(n)]
        if bad:
            self.fail(key, f"a list of {expected}", bad)
            return ()
        if len(set(parsed)) != len(parsed):
            self.fail(key, "a list without duplicates", parsed)
        return tuple(parsed)

    def tags(self) -> dict[str, str]:
        value = self.raw.get("tags")
        if value is None:
            return {}
        parsed = parse_json(value)
        if not isinstance(parsed, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 128 and len(v) <= 256
            and not k.lower().startswith("aws:")  # AWS reserves the aws: prefix for its own tags
            for k, v in parsed.items()
        ):
            self.fail("tags", "a map of tag names to string values", value)
            return {}
        return parsed

    def unknown(self, known: tuple[str, ...]) -> None:
        for key in sorted(set(self.raw) - set(known)):
            self.problems.append(f"{self.qualified(key)}: unknown key; this stack understands {', '.join(known)}")


def parse_json(value: str) -> Any:
    """A structured config value (Pulumi hands lists and maps over as JSON text), or the text itself."""
    try:
        return json.loads(value)
    except (json.JSONDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
        return value


def as_config_text(value: Any) -> str | None:
    """A value of a structured config object in the form Pulumi hands scalar config over: text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)

