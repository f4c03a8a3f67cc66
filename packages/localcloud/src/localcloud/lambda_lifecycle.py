"""Lambda's managed runtimes: which identifiers exist, and from when each can no longer be used to create or update
functions.

AWS's Lambda runtimes page (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html, tables "Supported
runtimes" and "Deprecated runtimes") gives each runtime a deprecation date, a "Block function create" date and a
"Block function update" date. From the create block, CreateFunction with the runtime fails; from the update block,
so do UpdateFunctionCode of a function that uses it and UpdateFunctionConfiguration that names it (a configuration
update that does not name the runtime still succeeds, and before the update block a function may still be changed to
the runtime: "When function update is blocked, you can't revert to a deprecated runtime"). Both fail with
InvalidParameterValueException "The runtime parameter of python3.7 is no longer supported for creating or updating AWS
Lambda functions. We recommend you use the new runtime (python3.14) while creating or updating functions."

``BLOCKS`` is that page's dates as cfn-lint transcribed them from it (aws-cloudformation/cfn-lint,
src/cfnlint/data/AdditionalSpecs/LmbdRuntimeLifecycle.json at commit afd7953, 2 June 2026, "Update Lambda runtime
lifecycle dates from AWS docs", unchanged since as of its 19 August 2026 head): the page's dates, AWS's extensions of
2026 included (python3.8's and python3.9's create block moved to 1 February 2027). The dates of supported runtimes
are the page's projections; AWS may move them. Container-only runtimes without block dates (dotnet9) are left out.
The runtime a refusal recommends is cfn-lint's successor of the family; a family's newest runtime has none, and
its refusal says "We recommend you use a supported runtime while creating or updating functions.", the other wording
AWS has answered with (both appear in the CreateFunction errors users report).

Which identifiers exist is the Lambda model's ``Runtime`` enum (botocore's copy); any other value is refused as
Lambda's request validation refuses it (ValidationException "Value 'g1.x' at 'runtime' failed to satisfy constraint:
Member must satisfy enum value set: [...]"; moto would store any string).
"""

from __future__ import annotations

from datetime import date

CREATE, UPDATE = "create", "update"

# identifier: (block function create, block function update, the runtime a refusal recommends; None: the newest)
BLOCKS: dict[str, tuple[date, date, str | None]] = {
    name: (date.fromisoformat(create), date.fromisoformat(update), successor)
    for name, (create, update, successor) in {
        "dotnetcore1.0": ("2019-06-30", "2019-07-30", "dotnet10"),
        "dotnetcore2.0": ("2019-04-30", "2019-05-30", "dotnet10"),
        "dotnetcore2.1": ("2022-01-05", "2022-04-13", "dotnet10"),
        "dotnetcore3.1": ("2023-04-03", "2023-05-03", "dotnet10"),
        "dotnet6": ("2027-02-01", "2027-03-03", "dotnet10"),
        "dotnet8": ("2027-02-01", "2027-03-03", "dotnet10"),
        "dotnet10": ("2028-12-14", "2029-01-15", None),
        "go1.x": ("2024-02-08", "2027-03-03", "provided.al2023"),
        "java8": ("2024-02-08", "2027-03-03", "java25"),
        "java8.al2": ("2027-07-31", "2027-08-31", "java25"),
        "java11": ("2027-07-31", "2027-08-31", "java25"),
        "java17": ("2027-07-31", "2027-08-31", "java25"),
        "java21": ("2029-07-31", "2029-08-31", "java25"),
        "java25": ("2029-07-31", "2029-08-31", None),
        "nodejs": ("2016-09-30", "2016-10-31", "nodejs24.x"),
        "nodejs4.3": ("2020-02-03", "2020-03-05", "nodejs24.x"),
        "nodejs4.3-edge": ("2019-03-31", "2019-04-30", "nodejs24.x"),
        "nodejs6.10": ("2019-07-12", "2019-08-12", "nodejs24.x"),
        "nodejs8.10": ("2020-02-04", "2020-03-06", "nodejs24.x"),
        "nodejs10.x": ("2021-07-30", "2022-02-14", "nodejs24.x"),
        "nodejs12.x": ("2023-03-31", "2023-04-30", "nodejs24.x"),
        "nodejs14.x": ("2024-01-09", "2027-03-03", "nodejs24.x"),
        "nodejs16.x": ("2027-02-01", "2027-03-03", "nodejs24.x"),
        "nodejs18.x": ("2027-02-01", "2027-03-03", "nodejs24.x"),
        "nodejs20.x": ("2027-02-01", "2027-03-03", "nodejs24.x"),
        "nodejs22.x": ("2027-06-01", "2027-07-01", "nodejs24.x"),
        "nodejs24.x": ("2028-06-01", "2028-07-01", None),
        "provided": ("2024-02-08", "2027-03-03", "provided.al2023"),
        "provided.al2": ("2027-02-01", "2027-03-03", "provided.al2023"),
        "provided.al2023": ("2029-07-31", "2029-08-31", None),
        "python2.7": ("2021-07-15", "2022-05-30", "python3.14"),
        "python3.6": ("2022-07-18", "2022-08-29", "python3.14"),
        "python3.7": ("2024-01-09", "2027-03-03", "python3.14"),
        "python3.8": ("2027-02-01", "2027-03-03", "python3.14"),
        "python3.9": ("2027-02-01", "2027-03-03", "python3.14"),
        "python3.10": ("2027-02-01", "2027-03-03", "python3.14"),
        "python3.11": ("2027-07-31", "2027-08-31", "python3.14"),
        "python3.12": ("2028-11-30", "2029-01-10", "python3.14"),
        "python3.13": ("2029-07-31", "2029-08-31", "python3.14"),
        "python3.14": ("2029-07-31", "2029-08-31", None),
        "ruby2.5": ("2021-07-30", "2022-03-31", "ruby4.0"),
        "ruby2.7": ("2024-01-09", "2027-03-03", "ruby4.0"),
        "ruby3.2": ("2027-02-01", "2027-03-03", "ruby4.0"),
        "ruby3.3": ("2027-04-30", "2027-05-31", "ruby4.0"),
        "ruby3.4": ("2028-04-30", "2028-05-31", "ruby4.0"),
        "ruby4.0": ("2029-04-30", "2029-05-31", None),
    }.items()
}


def blocked(runtime: str, use: str, today: date) -> str | None:
    """Lambda's message refusing ``runtime`` for ``use`` (CREATE or UPDATE) on ``today``, or None if it is allowed."""
    block = BLOCKS.get(runtime)
    if block is None:
        return None
    create, update, successor = block
    if today < (create if use == CREATE else update):
        return None
    advice = f"the new runtime ({successor})" if successor else "a supported runtime"
    return (f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
            f"functions. We recommend you use {advice} while creating or updating functions.")


def unknown(runtime: object, known: tuple[str, ...]) -> str | None:
    """Lambda's validation message for a runtime that is not one of ``known`` (the model's enum), or None."""
    if isinstance(runtime, str) and runtime in known:
        return None
    return (f"1 validation error detected: Value '{runtime}' at 'runtime' failed to satisfy constraint: Member must "
            f"satisfy enum value set: [{', '.join(known)}]")
