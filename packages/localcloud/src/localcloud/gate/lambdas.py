"""Lambda: Invoke, answered by localcloud's invoker (moto's own needs Docker), names moto would read another way, and
runtimes Lambda no longer accepts (localcloud.lambda_lifecycle)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from localcloud import lambda_lifecycle
from localcloud.actions import lambda_target, shape_enum
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


def requested_runtime(gate: Gate, ex: Exchange) -> Response | None:
    """CreateFunction and UpdateFunctionConfiguration: a runtime Lambda does not know (moto would store any string),
    or one past its "Block function create" (creating) or "Block function update" (updating) date
    (lambda-runtimes.html, "Deprecated runtimes"). Only the request is read, so it is checked before authorization,
    as Lambda validates its parameters; a configuration update that names no runtime is not checked."""
    assert ex.plan is not None
    runtime = ex.plan.params.get("Runtime")
    if runtime is None:
        return None
    known = shape_enum("lambda", "Runtime")
    invalid = lambda_lifecycle.unknown(runtime, known) if known else None
    if invalid is not None:
        raise GateError(400, "ValidationException", invalid)
    use = lambda_lifecycle.CREATE if ex.plan.operation == "CreateFunction" else lambda_lifecycle.UPDATE
    _refuse_blocked(str(runtime), use, ex)
    return None


def stored_runtime(gate: Gate, ex: Exchange) -> Response | None:
    """UpdateFunctionCode of a function whose runtime is past its "Block function update" date
    (lambda-runtimes.html). It reads the function, so it runs after authorization: a caller without the right
    learns nothing of the function's runtime."""
    assert ex.plan is not None and ex.signed is not None and ex.principal is not None
    target = lambda_target(str(ex.plan.params.get("FunctionName", "")), None, ex.signed.region,
                           ex.principal.caller.account or "")
    runtime = gate.directory.lambda_runtime(target.account, target.region, target.name)
    if runtime is not None:
        _refuse_blocked(runtime, lambda_lifecycle.UPDATE, ex)
    return None


def _refuse_blocked(runtime: str, use: str, ex: Exchange) -> None:
    message = lambda_lifecycle.blocked(runtime, use, ex.now.date())
    if message is not None:
        raise GateError(400, "InvalidParameterValueException", message)
