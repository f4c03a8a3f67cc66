"""The invoke ``aws:iam/getPolicyDocument:getPolicyDocument`` computed locally, as the provider renders it.

pulumi-aws (the Terraform provider's ``aws_iam_policy_document``): the version defaults to 2012-10-17 and the
effect to Allow; actions, resources, principals' identifiers and condition values are sets (deduplicated, sorted)
written as a string when they hold one element, else as a list; ``type "*"`` with identifier ``*`` is the
principal ``"*"``. ``json`` is indented by two spaces, ``minifiedJson`` compact. Merging other documents
(``sourcePolicyDocuments``, ``overridePolicyDocuments``) is not computed and is refused by name.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any

_NOT_COMPUTED = ("sourcePolicyDocuments", "overridePolicyDocuments", "overrideJson", "sourceJson")


class UnsupportedPolicyDocument(ValueError):
    """An argument of getPolicyDocument that localcloud does not compute."""


def _one_or_list(values: Any) -> str | list[str]:
    items = sorted(set(values or []))
    return items[0] if len(items) == 1 else items


def _principals(principals: list[Mapping[str, Any]]) -> str | dict[str, Any]:
    if any(p.get("type") == "*" for p in principals):
        return "*"
    grouped: dict[str, set[str]] = {}
    for principal in principals:
        grouped.setdefault(principal["type"], set()).update(principal.get("identifiers") or [])
    return {kind: _one_or_list(identifiers) for kind, identifiers in sorted(grouped.items())}


def _statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    if statement.get("sid"):
        rendered["Sid"] = statement["sid"]
    rendered["Effect"] = statement.get("effect") or "Allow"
    for key, name in (("actions", "Action"), ("notActions", "NotAction"), ("resources", "Resource"),
                      ("notResources", "NotResource")):
        if statement.get(key):
            rendered[name] = _one_or_list(statement[key])
    for key, name in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
        if statement.get(key):
            rendered[name] = _principals(statement[key])
    conditions: dict[str, dict[str, Any]] = {}
    for condition in statement.get("conditions") or []:
        conditions.setdefault(condition["test"], {})[condition["variable"]] = _one_or_list(condition["values"])
    if conditions:
        rendered["Condition"] = conditions
    return rendered


def policy_document(args: Mapping[str, Any]) -> dict[str, Any]:
    """The invoke's result: ``json``, ``minifiedJson`` and ``id``."""
    given = [name for name in _NOT_COMPUTED if args.get(name)]
    if given:
        raise UnsupportedPolicyDocument(f"localcloud does not compute getPolicyDocument's {', '.join(given)}")
    document: dict[str, Any] = {"Version": args.get("version") or "2012-10-17"}
    if args.get("policyId"):
        document["Id"] = args["policyId"]
    document["Statement"] = [_statement(statement) for statement in args.get("statements") or []]
    text = json.dumps(document, indent=2)
    return {"json": text, "minifiedJson": json.dumps(document, separators=(",", ":")),
            "id": str(zlib.crc32(text.encode()))}  # the provider's id: a checksum of the document
