"""How the offline Automation API says no: by the name of the pulumi.automation feature it lacks.

A test written against Pulumi that relies on a feature this subset lacks must fail where it relies on it, never
pass because an argument was silently dropped (a `target=[...]` ignored would deploy everything).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any


class Unsupported(NotImplementedError, AttributeError):
    """A pulumi.automation method, argument or option that localcloud_pulumi.automation does not offer.

    Also an AttributeError, so that hasattr(stack, "refresh") is False and getattr(..., default) answers as for any
    missing attribute, rather than raising."""

    def __init__(self, feature: str, hint: str = "") -> None:
        super().__init__(f"localcloud_pulumi.automation does not support {feature}"
                         + (f": {hint}" if hint else " (its module docstring lists what it supports)"))


def check_options(feature: str, real: Callable[..., Any], options: Mapping[str, Any], supported: set[str]) -> None:
    """Keyword arguments of ``feature`` as pulumi.automation's ``real`` method names them: a name it does not have
    is a TypeError, as Python would raise; one it has that is given (not None) and not in ``supported`` is
    refused by name."""
    known = inspect.signature(real).parameters
    for name, value in options.items():
        if name not in known or name == "self":
            raise TypeError(f"{feature}() got an unexpected keyword argument {name!r}")
        if value is not None and name not in supported:
            raise Unsupported(f"{feature}({name}=...)")


def refuse_pulumi_attribute(owner: str, real: type, name: str) -> Unsupported | AttributeError:
    """The error for an attribute our class lacks: Unsupported when pulumi.automation's class has it."""
    if not name.startswith("_") and hasattr(real, name):
        return Unsupported(f"{owner}.{name}")
    return AttributeError(f"{owner!r} object has no attribute {name!r}")
