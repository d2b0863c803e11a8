"""What both generated clients take from the registry: functions, actions, JS literals."""

from __future__ import annotations

import json
from typing import Any

from addin.registry import ACTIONS, FUNCTIONS, Action, SheetFunction

KEY_LABEL = "funnelplan-signing-key:"
"""Prefix of the message a client's signing key is derived from (`keys.derive_signing_key`)."""

CACHE_SECONDS = 600


def functions() -> list[SheetFunction]:
    return list(FUNCTIONS.values())


def actions() -> list[Action]:
    return list(ACTIONS.values())


def js(value: Any) -> str:
    """A JavaScript literal (JSON, with `</` escaped so it is safe inside HTML too)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")


def comment(text: str) -> str:
    """Text safe inside a JSDoc comment."""
    return " ".join(text.replace("*/", "* /").split())


def base_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"the server URL must start with https:// (got {url!r})")
    return url


def function_specs() -> dict[str, dict[str, Any]]:
    """Per function: its result shape and argument names (what the JS wrappers need)."""
    return {f.name: {"result": f.result, "args": [a.name for a in f.args]} for f in functions()}
