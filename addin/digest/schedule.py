"""The morning on a clock: `serve --schedule schedule.toml` runs each job's sync and digest at
their times in the team's time zone (APScheduler, in the server's main process).

```toml
timezone = "Europe/Moscow"     # default for the jobs

[[job]]
config = "sync.toml"           # a sync config (relative to this file) with its [digest]
sync = "09:30"                 # Sync Facts (a failure becomes an alert)
digest = "10:00"               # the digest, sent
```

The jobs call `addin.digest.run.morning_sync` and `run_digest(send=True)`, the same code as
`funnelplan morning` / `funnelplan digest --send` from cron (README). A run that is late (the
server was down at the time) still runs within `GRACE` of it; two runs of one job never
overlap.
"""

from __future__ import annotations

import datetime as dt
import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from addin.digest.run import morning_sync, run_digest
from planning.errors import InputError
from sheets_sync.sync_config import load_config

log = logging.getLogger("funnelplan.schedule")

GRACE = 3600  # seconds a missed run may still start late


@dataclass(frozen=True)
class Job:
    config: Path
    sync: dt.time | None
    digest: dt.time | None
    timezone: ZoneInfo


def _time(value: object, where: str) -> dt.time | None:
    if value is None:
        return None
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{where}: must be a time like 09:30", value=value) from None


def _zone(value: object, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"{where}: not a time zone name such as Europe/Moscow", value=value
        ) from None


def load_schedule(path: Path | str) -> list[Job]:
    """The schedule file's jobs, checked (each job's sync config must exist and parse)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise InputError(f"schedule {path}: {err}") from None
    zone = _zone(data.get("timezone", "Europe/Moscow"), f"{path.name}: timezone")
    jobs = []
    for i, raw in enumerate(data.get("job", []), start=1):
        where = f"{path.name} [[job]] #{i}"
        unknown = sorted(set(raw) - {"config", "sync", "digest", "timezone"})
        if unknown:
            raise InputError(f"{where}: unknown key {unknown[0]!r}")
        if "config" not in raw:
            raise InputError(f"{where}: config is missing (the sync config's path)")
        config = (path.parent / str(raw["config"])).resolve()
        load_config(config)
        job = Job(
            config,
            _time(raw.get("sync"), f"{where} sync"),
            _time(raw.get("digest"), f"{where} digest"),
            _zone(raw["timezone"], f"{where} timezone") if "timezone" in raw else zone,
        )
        if job.sync is None and job.digest is None:
            raise InputError(f"{where}: give a sync time, a digest time or both")
        jobs.append(job)
    if not jobs:
        raise InputError(f"schedule {path}: no [[job]]")
    return jobs


def _run_sync(config: Path) -> None:
    result = morning_sync(load_config(config))
    log.info("scheduled sync %s: %s", config.name, "failed" if result is None else "ok")


def _run_digest(config: Path) -> None:
    run = run_digest(load_config(config), send=True)
    failed = [s for s in run.sent if s.status == "failed"]
    log.info("scheduled digest %s: %d sent, %d failed", config.name, len(run.sent), len(failed))


def build_scheduler(
    jobs: list[Job],
    sync: Callable[[Path], None] = _run_sync,
    digest: Callable[[Path], None] = _run_digest,
) -> BackgroundScheduler:
    """A scheduler (not started) with a cron trigger per job's sync and digest."""
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})
    for job in jobs:
        for kind, when, func in (("sync", job.sync, sync), ("digest", job.digest, digest)):
            if when is None:
                continue
            scheduler.add_job(
                func,
                CronTrigger(hour=when.hour, minute=when.minute, timezone=job.timezone),
                args=[job.config],
                id=f"{kind}:{job.config}",
                name=f"{kind} {job.config.name} at {when:%H:%M} {job.timezone.key}",
                misfire_grace_time=GRACE,
            )
    return scheduler
