"""Lambda: Invoke, answered by localcloud's invoker (moto's own needs Docker), and names moto would read another way."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from localcloud.actions import lambda_target
from localcloud.gate.errors import GateError

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange


def invoke(gate: Gate, ex: Exchange) -> Response:
    assert ex.plan is not None and ex.signed is not None and ex.principal is not None and ex.request is not None
    params = ex.plan.params
    target = lambda_target(str(params.get("FunctionName", "")), params.get("Qualifier"), ex.signed.region,
                           ex.principal.caller.account or "")
    if not gate.directory.lambda_function_exists(target.account, target.region, target.name, target.qualifier):
        raise GateError(404, "ResourceNotFoundException", f"Function not found: {target.arn}")
    if gate.invoker is None:
        raise GateError(501, "ServiceException", "localcloud has no Lambda invoker: pass invoker=... to Gate (or "
                        "LocalCloud) to run functions; moto's own Invoke needs Docker", sender=False)
    headers = dict(ex.request.headers)
    if target.qualifier:
        headers.setdefault("x-localcloud-qualifier", target.qualifier)
    try:
        status, response_headers, body = gate.invoker(target.account, target.region, target.name, ex.request.body,
                                                      headers)
    except Exception as error:  # noqa: BLE001 - the invoker's failure is the service's failure
        gate.log.exception("Lambda invoker failed for %s", target.arn)
        raise GateError(500, "ServiceException", f"localcloud Lambda invoker failed: {error}", sender=False) from None
    response = Response(body, status=status, headers=list(response_headers))
    response.headers.setdefault("x-amzn-RequestId", ex.request_id)
    return response


def not_emulated(gate: Gate, ex: Exchange) -> Response:
    assert ex.plan is not None
    raise GateError(501, "ServiceException", f"localcloud does not emulate Lambda {ex.plan.operation}; call Invoke "
                    "(InvocationType Event for async)", sender=False)


def unqualified_name(gate: Gate, ex: Exchange) -> Response | None:
    """CreateFunction names a function, never a version: the gate would read ``a:b`` as function ``a``, version
    ``b``, and moto create a function called ``a:b`` (API_CreateFunction.html: FunctionName)."""
    assert ex.plan is not None and ex.signed is not None and ex.principal is not None
    name = str(ex.plan.params.get("FunctionName", ""))
    target = lambda_target(name, None, ex.signed.region, ex.principal.caller.account or "")
    if target.qualifier is not None or (name.startswith("arn:") and target.account != ex.principal.caller.account):
        raise GateError(400, "InvalidParameterValueException", f"CreateFunction takes a function name or an ARN in "
                        f"the caller's account, without a version or alias: {name!r}")
    return None
