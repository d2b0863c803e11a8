"""Typed look-ups in a parsed TOML table whose errors name the config file and the key
(``sync.toml: `sources[2].rate`: value 'x' must be a number``): what `sheets_sync.sync_config`
checks a config with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planning.errors import InputError

__all__ = ["ConfigChecker"]


class ConfigChecker:
    """Typed look-ups whose errors name the config file and the key."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def error(self, key: str, reason: str, value: Any) -> InputError:
        shown = "" if value is None else f"value {value!r} "
        return InputError(f"{self.origin}: `{key}`: {shown}{reason}")

    def known(self, table: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
        for k in table:
            if k not in keys:
                full = f"{where}.{k}" if where else k
                raise self.error(full, f"is not a known key (known: {', '.join(keys)})", None)

    def text(
        self,
        table: Mapping[str, Any],
        name: str,
        where: str,
        required: bool = False,
        default: str = "",
    ) -> str:
        key = f"{where}.{name}" if where else name
        if name not in table:
            if required:
                raise self.error(key, "is missing", None)
            return default
        value = table[name]
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.error(key, "must be a non-empty text", value)
        return value.strip()

    def choice(
        self,
        table: Mapping[str, Any],
        name: str,
        where: str,
        options: tuple[str, ...],
        required: bool = False,
        default: str = "",
    ) -> str:
        key = f"{where}.{name}" if where else name
        value = self.text(table, name, where, required=required, default=default)
        if value.lower() not in options:
            raise self.error(key, f"is not one of {', '.join(options)}", table.get(name))
        return value.lower()

    def number(
        self,
        table: Mapping[str, Any],
        name: str,
        where: str,
        default: float,
        low: float | None = None,
        strict_low: bool = False,
    ) -> float:
        key = f"{where}.{name}" if where else name
        if name not in table:
            return default
        value = table[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, "must be a number", value)
        v = float(value)
        if low is not None and (v < low or (strict_low and v == low)):
            raise self.error(key, f"must be {'>' if strict_low else '>='} {low:g}", value)
        return v
