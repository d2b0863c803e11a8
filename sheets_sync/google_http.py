"""The one authorised, retrying, rate-limited Google Sheets session.

Both ways this project talks to Google go through here: the Google Sheets workbook adapter
(`sheets_sync.workbooks.google_sheets`) and the Google Sheet fact source
(`sheets_sync.sources.google_sheet`). A `GoogleSession` is an unmodified `gspread.Client`
(every request through gspread's `HTTPClient`) plus:

* credentials: `open_client` reads ``credentials_file`` (else ``GOOGLE_APPLICATION_CREDENTIALS``):
  a service account's JSON key, or an OAuth user's authorized-user JSON (``refresh_token``),
  with the single scope ``https://www.googleapis.com/auth/spreadsheets`` (the source asks for
  `READONLY_SCOPES`). `api_root` (else ``FUNNELPLAN_SHEETS_API_ROOT``) sends the Sheets API's
  calls to another origin: a company proxy, or the local test double;
* timeouts: `timeout` (connect 10 s, read 60 s by default) via ``client.set_timeout``;
* retries (`RetryPolicy`): 408, 429, 5xx, timeouts and dropped connections are retried with
  exponential backoff and full jitter (a ``Retry-After`` header is honoured), at most
  `max_tries` (5) tries per request, then a `SheetsApiError` saying what failed (and, for a
  write, that nothing was written). gspread's `BackOffHTTPClient` is not used: it never gives
  up on a constant 429. A write retried after a timeout may have landed the first time;
  repeating it writes the same values, so it is harmless. A refused token (`RefreshError`) is
  not retried;
* rate limit: a client-side sliding window keeps each credential (process-wide) under
  `WRITES_PER_MINUTE` (50) writes and `READS_PER_MINUTE` (50) reads a minute, below the API's
  60-per-minute-per-user quotas, by waiting before a request that would exceed it. Several
  hosts share one credential's quota: `use_shared_budget` hands every later session a
  `SharedBudget` (a token bucket all hosts draw from, e.g. in the server's PostgreSQL state)
  instead of the per-process window; without one (the default) the per-process window stays.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import gspread
import requests
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.credentials import Credentials as UserCredentials
from google.oauth2.service_account import Credentials as ServiceCredentials
from gspread.exceptions import APIError

from sheets_sync.errors import WorkbookError

__all__ = [
    "API_ROOT_ENV",
    "GOOGLE_ORIGIN",
    "READONLY_SCOPES",
    "READS_PER_MINUTE",
    "RETRY_STATUSES",
    "SCOPES",
    "WRITES_PER_MINUTE",
    "GoogleSession",
    "RateLimiter",
    "RetryPolicy",
    "SharedBudget",
    "SharedLimiter",
    "SheetsApiError",
    "account_email",
    "bucket_take",
    "credentials_path",
    "load_credentials",
    "open_client",
    "rooted_session",
    "use_shared_budget",
]

SCOPES: tuple[str, ...] = ("https://www.googleapis.com/auth/spreadsheets",)
READONLY_SCOPES: tuple[str, ...] = ("https://www.googleapis.com/auth/spreadsheets.readonly",)
WRITES_PER_MINUTE = 50
READS_PER_MINUTE = 50
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
GOOGLE_ORIGIN = "https://sheets.googleapis.com"
API_ROOT_ENV = "FUNNELPLAN_SHEETS_API_ROOT"

T = TypeVar("T")


class SheetsApiError(WorkbookError):
    """The Sheets API refused or kept failing a request (after the bounded retries).

    `status` is the last HTTP status (None for a timeout, a dropped connection or a refused
    token); `detail` what the API said (``HTTP 404 NOT_FOUND: ...``) without the request.
    """

    def __init__(self, message: str, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


# ---------------------------------------------------------------- rate limit


class RateLimiter:
    """At most `limit` calls in any `period` seconds: `acquire()` waits until one is free."""

    def __init__(
        self,
        limit: int,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit, self.period, self.clock, self.sleep = limit, period, clock, sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take a slot, waiting if needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                while self._calls and self._calls[0] <= now - self.period:
                    self._calls.popleft()
                if len(self._calls) < self.limit:
                    self._calls.append(now)
                    return waited
                pause = self._calls[0] + self.period - now
            self.sleep(pause)
            waited += pause


class SharedBudget(Protocol):
    """A request budget several processes (hosts) draw from together."""

    def take(self, account: str, kind: str) -> float:
        """Take one request of `kind` (``"read"`` or ``"write"``) for `account`: 0.0 when
        taken, else the seconds to wait before asking again (nothing was taken)."""
        ...


def bucket_take(tokens: float, elapsed: float, rate: float, burst: float) -> tuple[float, float]:
    """One request asked of a token bucket holding `tokens`, `elapsed` seconds after it was
    last counted, refilled at `rate` a second up to `burst`: (tokens left, 0.0) when one was
    taken, else (tokens now, seconds until one will be there). So in any span of W seconds at
    most ``burst + rate * W`` requests are taken: with 50 a minute and a burst of 5, at most
    55 in any minute, under Google's 60 per minute per user."""
    now_tokens = min(float(burst), tokens + max(0.0, elapsed) * rate)
    if now_tokens >= 1.0:
        return now_tokens - 1.0, 0.0
    return now_tokens, (1.0 - now_tokens) / rate


class SharedLimiter:
    """`RateLimiter`'s `acquire` over a `SharedBudget`: asks it until a request is taken."""

    def __init__(
        self,
        budget: SharedBudget,
        account: str,
        kind: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.budget, self.account, self.kind, self.sleep = budget, account, kind, sleep

    def acquire(self) -> float:
        """Take a request from the shared budget, waiting if needed; returns the seconds
        waited."""
        waited = 0.0
        while (pause := self.budget.take(self.account, self.kind)) > 0:
            self.sleep(pause)
            waited += pause
        return waited


_LIMITERS: dict[tuple[str, str], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()
_SHARED: list[SharedBudget] = []


def use_shared_budget(budget: SharedBudget | None) -> None:
    """Every session created from now on in this process draws from `budget` (None: back
    to the per-process window)."""
    with _LIMITERS_LOCK:
        _SHARED[:] = [budget] if budget is not None else []


def _limiter(user: str, kind: str) -> RateLimiter | SharedLimiter:
    """The shared budget's limiter when one is in use, else the process-wide limiter of one
    credential's reads or writes."""
    with _LIMITERS_LOCK:
        if _SHARED:
            return SharedLimiter(_SHARED[0], user, kind)
        key = (user, kind)
        if key not in _LIMITERS:
            limit = WRITES_PER_MINUTE if kind == "write" else READS_PER_MINUTE
            _LIMITERS[key] = RateLimiter(limit)
        return _LIMITERS[key]


# ---------------------------------------------------------------- credentials


def credentials_path(credentials_file: Path | str | None = None) -> Path | None:
    """`credentials_file`, else ``GOOGLE_APPLICATION_CREDENTIALS``; None when neither is set."""
    path = credentials_file or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    return Path(path) if path else None


def load_credentials(
    credentials_file: Path | str | None = None, scopes: tuple[str, ...] = SCOPES
) -> Any:
    """Service-account or OAuth-user credentials from a JSON file (see `credentials_path`),
    with `scopes` only (the spreadsheets scope by default)."""
    path = credentials_path(credentials_file)
    if path is None:
        raise WorkbookError(
            "no Google credentials: pass a credentials file (a service account's JSON key or "
            "an OAuth authorized-user file) or set GOOGLE_APPLICATION_CREDENTIALS"
        )
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkbookError(f"cannot read Google credentials from {path}: {exc}") from exc
    kind = info.get("type") if isinstance(info, dict) else None
    if kind == "service_account":
        return ServiceCredentials.from_service_account_info(info, scopes=list(scopes))
    if kind == "authorized_user":
        return UserCredentials.from_authorized_user_info(info, scopes=list(scopes))
    raise WorkbookError(
        f"{path} is neither a service account key nor an OAuth authorized-user file (type {kind!r})"
    )


def _credentials(client: gspread.Client) -> Any:
    http = client.http_client
    return getattr(http, "auth", None) or getattr(http.session, "credentials", None)


def account_email(client: gspread.Client) -> str | None:
    """The service account's email (what a sheet must be shared with); None for OAuth users."""
    email = getattr(_credentials(client), "service_account_email", None)
    return email if isinstance(email, str) else None


def open_client(
    credentials_file: Path | str | None = None,
    api_root: str | None = None,
    scopes: tuple[str, ...] = SCOPES,
) -> gspread.Client:
    """An unmodified `gspread.Client` on the credentials in `credentials_file` (see
    `load_credentials`). `api_root` (else ``FUNNELPLAN_SHEETS_API_ROOT``) sends the Sheets
    API calls to another origin than https://sheets.googleapis.com: a company proxy, or a
    local test double. The token exchange goes wherever the credentials file's ``token_uri``
    says."""
    credentials = load_credentials(credentials_file, scopes)
    root = (api_root or os.environ.get(API_ROOT_ENV) or "").rstrip("/")
    if not root or root == GOOGLE_ORIGIN:
        return gspread.Client(auth=credentials)
    return gspread.Client(auth=credentials, session=rooted_session(credentials, root))


class RootedSession(AuthorizedSession):
    """A google-auth `AuthorizedSession` sending the Sheets API's calls to `root`."""

    def __init__(self, credentials: Any, root: str) -> None:
        super().__init__(credentials)
        self.root = root

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if url.startswith(GOOGLE_ORIGIN):
            url = self.root + url[len(GOOGLE_ORIGIN) :]
        return super().request(method, url, *args, **kwargs)


def rooted_session(credentials: Any, root: str) -> RootedSession:
    """A google-auth `AuthorizedSession` sending the Sheets API's calls to `root` instead of
    https://sheets.googleapis.com (gspread's custom-session hook; gspread is unmodified)."""
    return RootedSession(credentials, root)


# ---------------------------------------------------------------- the session


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """At most `max_tries` tries per request; before try n+1 a pause drawn uniformly from
    0 to min(`max_backoff`, `backoff` * 2**(n-1)) seconds, or the ``Retry-After`` seconds."""

    max_tries: int = 5
    backoff: float = 1.0
    max_backoff: float = 32.0
    sleep: Callable[[float], None] = time.sleep

    def pause(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        return random.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))


class GoogleSession:
    """A gspread client under the retry policy and its credential's rate limits.

    `call(kind, what, where, fn, *args)` runs one gspread `HTTPClient` call; `requests` lists
    what was sent, one entry per HTTP attempt (for request counts)."""

    def __init__(
        self,
        client: gspread.Client,
        *,
        timeout: float | tuple[float, float] = (10.0, 60.0),
        retry: RetryPolicy | None = None,
        write_limiter: RateLimiter | SharedLimiter | None = None,
        read_limiter: RateLimiter | SharedLimiter | None = None,
    ) -> None:
        self.client = client
        self.client.set_timeout(timeout)
        self.http = client.http_client
        retry = retry or RetryPolicy()
        self.retry = dataclasses.replace(retry, max_tries=max(1, retry.max_tries))
        user = account_email(client) or str(id(_credentials(client)))
        self._writes = write_limiter or _limiter(user, "write")
        self._reads = read_limiter or _limiter(user, "read")
        self.requests: list[str] = []

    def call(self, kind: str, what: str, where: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` under the rate limit of `kind` (``"read"`` or ``"write"``), retried on
        408/429/5xx and network timeouts; errors say they failed to `what` in `where`."""
        limiter = self._writes if kind == "write" else self._reads
        last, status = "", None
        tries = self.retry.max_tries
        for attempt in range(1, tries + 1):
            limiter.acquire()
            self.requests.append(f"{kind}:{what}")
            retry_after: float | None = None
            try:
                return fn(*args)
            except APIError as exc:
                status = exc.response.status_code
                code = exc.error.get("status", "")
                last = f"HTTP {status} {code}: {exc.error.get('message', '')}".strip()
                if status not in RETRY_STATUSES:
                    raise SheetsApiError(
                        f"Google Sheets refused to {what} in {where}: {last}", status, last
                    ) from exc
                header = exc.response.headers.get("Retry-After")
                if header and header.isdigit():
                    retry_after = float(header)
            except RefreshError as exc:
                raise SheetsApiError(
                    f"Google refused the credentials ({_refresh_reason(exc)}) while trying to "
                    f"{what} in {where}; nothing was changed. Check the service account's "
                    "key file (or the OAuth user's refresh token) and that it is not disabled.",
                    detail=_refresh_reason(exc),
                ) from exc
            except (requests.Timeout, requests.ConnectionError, TransportError) as exc:
                last, status = f"{type(exc).__name__}: {exc}", None
            if attempt < tries:
                self.retry.sleep(self.retry.pause(attempt, retry_after))
        nothing = " Nothing was written." if kind == "write" else ""
        raise SheetsApiError(
            f"Google Sheets did not answer the request to {what} in {where} after "
            f"{tries} tries (last: {last}).{nothing} Try again in a minute.",
            status,
            last,
        )


def _refresh_reason(exc: RefreshError) -> str:
    """The token endpoint's error (``invalid_grant: ...``) without any token or key material."""
    first = exc.args[0] if exc.args else ""
    return str(first).split("\n", 1)[0][:200] or type(exc).__name__
