"""What every mapping of ``resources.RESOURCE_TYPES`` is made of: the account a resource goes into, and the
``ResourceType`` of calls that create, update and delete it. The mappings live in resources.py and, one service
each where they grow large, in modules of their own (kms_resources.py) that resources.py registers."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from localcloud.sdk import LOADER_LOCK

Inputs = Mapping[str, Any]
Outputs = dict[str, Any]


@dataclass(frozen=True)
class Account:
    """Where a stack's resources go: boto3 clients of one account and region, each created once."""

    session: boto3.Session
    account_id: str
    region: str
    client_args: Mapping[str, Any]
    _clients: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _identity: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def client(self, service: str) -> Any:
        with LOADER_LOCK:
            if service not in self._clients:
                self._clients[service] = self.session.client(service, region_name=self.region, **self.client_args)
            return self._clients[service]

    def in_region(self, region: str) -> Account:
        """The same credentials in another region (an explicit provider's region)."""
        return Account(self.session, self.account_id, region, self.client_args)

    def caller_identity(self) -> Mapping[str, str]:
        """GetCallerIdentity of these credentials, asked once: a deploy's preview and apply runs share the answer
        (who the credentials are does not change within a deploy). Two threads asking at once both ask."""
        if "identity" not in self._identity:
            self._identity["identity"] = self.client("sts").get_caller_identity()
        return self._identity["identity"]


@dataclass(frozen=True)
class ResourceType:
    create: Callable[[Account, str, Inputs], tuple[str, Outputs]]
    delete: Callable[[Account, str, Inputs], None]
    # Every input the mapping applies (at create, and at update or by replacing); any other input is refused by
    # name rather than dropped.
    inputs: frozenset[str]
    # Applies changed inputs in place; None means every change replaces the resource.
    update: Callable[[Account, str, Inputs, Inputs], Outputs] | None = None
    # Inputs whose change replaces the resource even when it can be updated in place (like the provider's ForceNew).
    replace_on: tuple[str, ...] = ()
    # Object inputs (or lists of objects) of which the mapping applies some keys only.
    nested: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # The provider's schema defaults: an input left unset is that value, so setting it to its default (or unsetting
    # it) changes nothing, and in particular replaces nothing.
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # The provider's own validation of the given inputs (its schema's, before any call to AWS): one problem per
    # input, each naming it; a deploy with any stops before anything is written.
    check: Callable[[Inputs], list[str]] | None = None

    def unsupported(self, inputs: Inputs) -> list[str]:
        """The inputs given (not None) that this mapping would not apply (``loggingConfig.systemLogLevel`` for a
        key of an object input, ``rules.blockedEncryptionTypes`` for a key of any object of a list input)."""
        found = {name for name, value in inputs.items() if value is not None and name not in self.inputs}
        for name, keys in self.nested.items():
            value = inputs.get(name)
            objects = [value] if isinstance(value, Mapping) else value if isinstance(value, (list, tuple)) else []
            found |= {f"{name}.{key}" for item in objects if isinstance(item, Mapping)
                      for key, given in item.items() if given is not None and key not in keys}
        return sorted(found)

    def problems(self, inputs: Inputs) -> list[str]:
        return self.check(inputs) if self.check is not None else []

    def effective(self, inputs: Inputs) -> dict[str, Any]:
        """The inputs with each one left unset (or None) as its default: what the provider compares."""
        return {**inputs, **{name: value for name, value in self.defaults.items() if inputs.get(name) is None}}


def physical_name(logical: str, inputs: Inputs, key: str = "name", *, suffix: str | None = None) -> str:
    """A resource's physical name: the explicit one, or Pulumi's auto-name, the logical name and a suffix (random,
    as the provider's; synth passes a fixed placeholder, so its snapshots are stable)."""
    return inputs.get(key) or f"{logical}-{suffix or secrets.token_hex(4)[:7]}"
