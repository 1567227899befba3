"""What a send came to, and when to try again: the results shared by the SMTP and .eml transports,
Apprise targets and the sender.

Every send returns a ``SendResult`` that the outbox can act on:

* ``accepted``: the server took the message; mark the row sent.
* ``temporary``: 4xx, a connection error or a server/config problem; retry later (``backoff``).
  ``maybe_delivered`` is set when the connection broke after the message data was sent: the
  server may have taken it; a retry can then repeat it (the only possible duplicate).
* ``permanent``: 5xx for this address (or message): count a bounce.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    code: int | None = None  # SMTP or HTTP status when there was one
    detail: str = ""
    maybe_delivered: bool = False
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)  # some recipients of several

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED

    @property
    def retry(self) -> bool:
        return self.outcome is Outcome.TEMPORARY

    @property
    def bounce(self) -> bool:
        return self.outcome is Outcome.PERMANENT


def classify_code(code: int, detail: str) -> SendResult:
    if 200 <= code < 400:
        return SendResult(Outcome.ACCEPTED, code, detail)
    if 500 <= code < 600:
        return SendResult(Outcome.PERMANENT, code, detail)
    return SendResult(Outcome.TEMPORARY, code, detail)


def backoff(
    attempt: int,
    base: timedelta = timedelta(seconds=30),
    cap: timedelta = timedelta(hours=6),
    rng: random.Random | None = None,
) -> timedelta:
    """Wait before retry number ``attempt`` (1, 2, ...): doubling from ``base``, capped, jittered.

    The result lies in [d/2, d] for d = min(cap, base * 2**(attempt-1)), so retries of many
    messages after one outage spread out instead of arriving together.
    """
    exp = min(max(attempt, 1) - 1, 60)
    full = min(cap.total_seconds(), base.total_seconds() * 2**exp)
    return timedelta(seconds=full / 2 + (rng or random).uniform(0, full / 2))
