"""The "Funnel Plan" ribbon tab (customUI14 XML), generated from the registry's buttons.

One button per `addin.registry.ACTIONS` entry, in the registry's order, grouped by each
action's `group` (groups in order of first appearance), with its id, label, Office icon
(`icon`, an imageMso name) and tooltip (`tip`); every button calls the one VBA callback
``FunnelPlan_OnAction`` (build/excel/FunnelPlan.bas), which passes the id to Python.

The generated XML is committed as ``build/excel/customUI14.xml`` (the .xlam build reads it
there; tests/addin/test_xlam.py checks it is up to date). After adding or changing a button:

    python -m addin.excel.ribbon --write
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import quoteattr

from addin.registry import ACTIONS, Action

COMMITTED = Path(__file__).resolve().parents[2] / "build" / "excel" / "customUI14.xml"
GROUP_IDS = {
    "Facts": "FunnelPlanFacts",
    "Budget Split": "FunnelPlanSplit",
    "Month": "FunnelPlanMonth",
}
"""The ribbon group ids (stable: a user's Quick Access Toolbar refers to them)."""

_HEAD = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- The "Funnel Plan" ribbon tab of FunnelPlan.xlam (Office 2010+ customUI14 part), generated
     from addin.registry.ACTIONS by addin/excel/ribbon.py: do not edit by hand, run
     `python -m addin.excel.ribbon`, option write. Every button calls the one VBA callback
     FunnelPlan_OnAction (FunnelPlan.bas), which passes the button id to Python. -->
<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui">
  <ribbon>
    <tabs>
      <tab id="FunnelPlanTab" label="Funnel Plan">
"""
_TAIL = """      </tab>
    </tabs>
  </ribbon>
</customUI>
"""


def _button(action: Action) -> str:
    return (
        f"          <button id={quoteattr(action.id)} label={quoteattr(action.label)}"
        f' size="large"\n'
        f"                  imageMso={quoteattr(action.icon)}"
        f' onAction="FunnelPlan_OnAction"\n'
        f"                  screentip={quoteattr(action.label)}\n"
        f"                  supertip={quoteattr(action.tip)}/>\n"
    )


def ribbon_xml(actions: Iterable[Action] | None = None) -> str:
    """The customUI14 XML of the ribbon tab for `actions` (default: the registry's)."""
    groups: dict[str, list[Action]] = {}
    for action in ACTIONS.values() if actions is None else actions:
        groups.setdefault(action.group, []).append(action)
    parts = [_HEAD]
    for label, members in groups.items():
        group_id = GROUP_IDS.get(label, "FunnelPlan" + "".join(label.split()))
        parts.append(f"        <group id={quoteattr(group_id)} label={quoteattr(label)}>\n")
        parts.extend(_button(a) for a in members)
        parts.append("        </group>\n")
    parts.append(_TAIL)
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"Write {COMMITTED}.")
    args = parser.parse_args(argv)
    text = ribbon_xml()
    if args.write:
        COMMITTED.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
