"""The shared budget hook of `google_http`: a session draws from it when one is in use, from
the per-process window otherwise."""

from __future__ import annotations

from sheets_sync import google_http
from sheets_sync.google_http import RateLimiter, SharedLimiter, use_shared_budget


class Budget:
    """Answers the waits given, then 0.0 (taken); records what was asked."""

    def __init__(self, waits: list[float]) -> None:
        self.waits = waits
        self.asked: list[tuple[str, str]] = []

    def take(self, account: str, kind: str) -> float:
        self.asked.append((account, kind))
        return self.waits.pop(0) if self.waits else 0.0


def test_the_shared_limiter_waits_what_the_budget_says() -> None:
    slept: list[float] = []
    budget = Budget([0.5, 0.25])
    limiter = SharedLimiter(budget, "svc@x", "write", sleep=slept.append)
    # told to wait 0.5 s, then 0.25 s, then taken: 0.75 s waited in all
    assert limiter.acquire() == 0.75
    assert slept == [0.5, 0.25] and budget.asked == [("svc@x", "write")] * 3
    assert limiter.acquire() == 0.0  # taken at once


def test_sessions_use_the_shared_budget_only_while_one_is_in_use() -> None:
    budget = Budget([])
    try:
        use_shared_budget(budget)
        shared = google_http._limiter("svc@y", "read")
        assert isinstance(shared, SharedLimiter) and shared.budget is budget
        assert shared.kind == "read" and shared.account == "svc@y"
    finally:
        use_shared_budget(None)
    assert isinstance(google_http._limiter("svc@y", "read"), RateLimiter)  # the default
