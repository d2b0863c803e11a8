"""The digest's settings: the ``[digest]`` table of a sync config.

```toml
[digest]
lang = "ru"                  # ru (default) or en
timezone = "Europe/Moscow"   # the team's: the digest's day and the schedule's clock
chart = true                 # the plan vs fact vs run-rate picture with the first message
currency = "RUB"             # optional: the sign money is shown with (default: Settings)

[[digest.telegram]]          # destinations: see addin.digest.destinations
...
```
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from addin.digest.destinations import Destination, parse_destinations
from addin.digest.texts import LANGS
from planning.errors import InputError
from sheets_sync.sync_config import SyncConfig

_KEYS = ("lang", "timezone", "chart", "currency", "telegram", "slack", "email")


@dataclass(frozen=True)
class DigestSettings:
    lang: str
    timezone: ZoneInfo
    chart: bool
    currency: str | None
    destinations: tuple[Destination, ...]


def digest_settings(config: SyncConfig, lang: str | None = None) -> DigestSettings:
    """The config's ``[digest]`` table, checked (`InputError` names the key); `lang` overrides."""
    table = dict(config.digest)
    where = f"{config.origin} [digest]"
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r}; the keys are: {', '.join(_KEYS)}")
    chosen = lang or str(table.get("lang", "ru"))
    if chosen not in LANGS:
        raise InputError(f"{where}: lang must be one of {', '.join(LANGS)}", value=chosen)
    try:
        zone = ZoneInfo(str(table.get("timezone", "Europe/Moscow")))
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"{where}: timezone is not a time zone name such as Europe/Moscow",
            value=table.get("timezone"),
        ) from None
    chart = table.get("chart", True)
    if not isinstance(chart, bool):
        raise InputError(f"{where}: chart must be true or false", value=chart)
    currency = table.get("currency")
    try:
        destinations = parse_destinations(table, config.base)
    except ValueError as err:
        raise InputError(f"{config.origin}: {err}") from None
    return DigestSettings(
        chosen, zone, chart, None if currency is None else str(currency), tuple(destinations)
    )
