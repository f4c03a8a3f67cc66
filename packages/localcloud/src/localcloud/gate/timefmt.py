"""How AWS writes times: ISO 8601 in documents and condition keys, the SigV4 basic form in signature errors."""

from __future__ import annotations

from datetime import datetime, timezone


def iso(moment: datetime, *, millis: bool = False) -> str:
    moment = moment.astimezone(timezone.utc)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
