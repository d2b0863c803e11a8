"""The server's settings: where the keys live (a folder, or the shared PostgreSQL state), CORS
origins, the time window and the limits (body size, time per request, cells / stages / channels
per call, an upload's unzipped size)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_KEYS_DIR = Path.home() / ".funnelplan" / "server"
DEFAULT_SYNC_DIR = Path.home() / ".funnelplan" / "sync"
DEFAULT_ORIGINS = ("https://localhost:3000",)
DEFAULT_MAX_BODY = 5 * 1024 * 1024
DEFAULT_WINDOW = 300
DEFAULT_TIME_LIMIT = 60.0
DEFAULT_MAX_CELLS = 1_000_000
DEFAULT_MAX_STAGES = 100
DEFAULT_MAX_CHANNELS = 500
DEFAULT_MAX_UNZIPPED = 32 * 1024 * 1024
DEFAULT_LEASE = 30.0
DEFAULT_SHEETS_PER_MINUTE = 50.0
DEFAULT_SHEETS_BURST = 5.0


@dataclass(frozen=True)
class Settings:
    """What `create_app` needs; `from_env` reads the ``FUNNELPLAN_*`` variables.

    keys_dir: the folder of ``keys.json`` (the API keys) and ``replay.sqlite`` (signatures
    seen within the window, shared by every worker on the host).
    max_body_bytes: larger requests get 413 before they are read.
    cors_origins: origins allowed to call from a browser (the Office.js add-in's host).
    window_seconds: a request's timestamp must be within this many seconds of the server's clock.
    google_credentials: the Google service account's JSON key the buttons on a Google Sheet run
    with (share each sheet with its email as an editor); None: ``GOOGLE_APPLICATION_CREDENTIALS``.
    sheets_api_root: another origin for the Sheets API (a proxy); None: Google's.
    sync_dir: the folder of the Google Sheets' sync configs (``*.toml`` whose ``workbook`` is
    the sheet), read by Sync Facts on a sheet.
    time_limit: seconds a function call or a button on an uploaded workbook may run; past it the
    answer is 504 (a button's worker process is killed; a function's work is bounded by the caps
    below, so the thread it runs in ends soon after).
    max_cells, max_stages, max_channels: per function call, the cells of all its arguments, the
    stages of a funnel (the ``crs`` argument) and the channels (the ``channels`` argument);
    more is 413 before the function runs.
    max_unzipped_bytes: an uploaded .xlsx whose members add up to more than this, declared or
    actually inflated, is refused (413) before openpyxl opens it (a zip bomb).
    state_url: None (the default): keys, replay cache and sheet locks in `keys_dir` (one host);
    a ``postgresql://`` URL: all of them, and the Google Sheets budget, in that database, shared
    by every host started with it (`shared_state`).
    lock_lease_seconds: with the shared state, how long a sheet's lock outlives its holder's
    last renewal (a host killed mid-button frees its sheet after this).
    sheets_per_minute, sheets_burst: with the shared state, the Google Sheets requests of each
    kind (reads, writes) per minute all hosts together make per credential, and the most made
    at once; any minute holds at most their sum (55 by default, under Google's 60).
    """

    keys_dir: Path = DEFAULT_KEYS_DIR
    max_body_bytes: int = DEFAULT_MAX_BODY
    cors_origins: tuple[str, ...] = DEFAULT_ORIGINS
    window_seconds: int = DEFAULT_WINDOW
    google_credentials: Path | None = None
    sheets_api_root: str | None = None
    sync_dir: Path = DEFAULT_SYNC_DIR
    time_limit: float = DEFAULT_TIME_LIMIT
    max_cells: int = DEFAULT_MAX_CELLS
    max_stages: int = DEFAULT_MAX_STAGES
    max_channels: int = DEFAULT_MAX_CHANNELS
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED
    state_url: str | None = None
    lock_lease_seconds: float = DEFAULT_LEASE
    sheets_per_minute: float = DEFAULT_SHEETS_PER_MINUTE
    sheets_burst: float = DEFAULT_SHEETS_BURST

    @classmethod
    def from_env(cls, keys_dir: Path | str | None = None) -> Settings:
        env = os.environ
        origins = env.get("FUNNELPLAN_CORS_ORIGINS")
        return cls(
            keys_dir=Path(keys_dir or env.get("FUNNELPLAN_KEYS_DIR") or DEFAULT_KEYS_DIR),
            max_body_bytes=int(env.get("FUNNELPLAN_MAX_BODY_BYTES", DEFAULT_MAX_BODY)),
            cors_origins=(
                tuple(o.strip() for o in origins.split(",") if o.strip())
                if origins is not None
                else DEFAULT_ORIGINS
            ),
            window_seconds=int(env.get("FUNNELPLAN_WINDOW_SECONDS", DEFAULT_WINDOW)),
            google_credentials=(
                Path(env["FUNNELPLAN_GOOGLE_CREDENTIALS"])
                if env.get("FUNNELPLAN_GOOGLE_CREDENTIALS")
                else None
            ),
            sheets_api_root=env.get("FUNNELPLAN_SHEETS_API_ROOT") or None,
            sync_dir=Path(env.get("FUNNELPLAN_SYNC_DIR") or DEFAULT_SYNC_DIR),
            time_limit=float(env.get("FUNNELPLAN_TIME_LIMIT", DEFAULT_TIME_LIMIT)),
            max_cells=int(env.get("FUNNELPLAN_MAX_CELLS", DEFAULT_MAX_CELLS)),
            max_stages=int(env.get("FUNNELPLAN_MAX_STAGES", DEFAULT_MAX_STAGES)),
            max_channels=int(env.get("FUNNELPLAN_MAX_CHANNELS", DEFAULT_MAX_CHANNELS)),
            max_unzipped_bytes=int(env.get("FUNNELPLAN_MAX_UNZIPPED_BYTES", DEFAULT_MAX_UNZIPPED)),
            state_url=env.get("FUNNELPLAN_STATE") or None,
            lock_lease_seconds=float(env.get("FUNNELPLAN_LOCK_LEASE_SECONDS", DEFAULT_LEASE)),
            sheets_per_minute=float(
                env.get("FUNNELPLAN_SHEETS_PER_MINUTE", DEFAULT_SHEETS_PER_MINUTE)
            ),
            sheets_burst=float(env.get("FUNNELPLAN_SHEETS_BURST", DEFAULT_SHEETS_BURST)),
        )
