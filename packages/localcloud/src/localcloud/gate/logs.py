"""CloudWatch Logs: a log group named by ``logGroupIdentifier`` reaches moto by name.

moto 5.2 resolves ``logGroupIdentifier`` with a loop that keeps the last log group of the account, whichever it
is; the gate has authorized the group the identifier names. So the canonical request names that group as
``logGroupName`` (where the operation has that member), and an identifier naming another account's group, which
moto would look up in the caller's, is refused.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from localcloud import arns
from localcloud.actions import input_members
from localcloud.gate.errors import GateError

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange


def _invalid(message: str) -> GateError:
    return GateError(400, "InvalidParameterException", message)


def name_the_log_group(gate: Gate, ex: Exchange) -> Response | None:
    assert ex.plan is not None and ex.request is not None and ex.principal is not None
    identifier = ex.plan.params.get("logGroupIdentifier")
    if identifier is None:
        return None
    if "logGroupName" in ex.plan.params:
        raise _invalid("LogGroupName and LogGroupIdentifier are mutually exclusive; give one.")
    name = str(identifier)
    if name.startswith("arn:"):
        if arns.account_of(name) != ex.principal.caller.account:
            raise _invalid("localcloud does not emulate cross-account log groups: the identifier names another "
                           "account's.")
        name = name.split(":log-group:", 1)[-1].removesuffix(":*")
    if "logGroupName" not in (input_members("logs", ex.plan.operation) or ()):
        raise _invalid(f"localcloud passes {ex.plan.operation} a log group by name only, and it has no "
                       "logGroupName member: give the group another way.")
    params = {key: value for key, value in ex.plan.params.items() if key != "logGroupIdentifier"}
    params["logGroupName"] = name
    ex.request = replace(ex.request, body=json.dumps(params, separators=(",", ":")).encode())
    ex.plan = replace(ex.plan, params=params)
    return None
