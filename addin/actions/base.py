"""What every button shares: the context it runs in, its description, its error.

A button is written once, against the workbook interface
(`sheets_sync.workbooks.interface.WorkbookTarget`): it reads tables by their headers, stages
its writes and commits them in one `save()`, and returns the sentence to show. Where the
workbook lives and what surrounds it travels in an `ActionContext`, built by the surface that
runs the button (the ribbon, the Sheets menu through the server, the CLI), never as attributes
set on an adapter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheets_sync.workbooks.interface import WorkbookTarget
from sheets_sync.workbooks.xlsx import XlsxWorkbook

__all__ = ["Action", "ActionContext", "ActionError"]


class ActionError(Exception):
    """A button failed; the message is a readable sentence and the workbook is unchanged."""


@dataclass(frozen=True)
class ActionContext:
    """A button's surroundings.

    - `workbook`: the workbook to act on (any adapter);
    - `path`: its file, when it is one (an .xlsx, or a live Excel book saved to disk);
    - `spreadsheet_id`: its Google Sheets id, when it is a Google Sheet;
    - `sync_config`: the sync config the surface found for it (the function server finds a
      Google Sheet's in its sync folder); None: Sync Facts looks beside the file;
    - `output_dir`: where a button that makes a new file writes it (the server returns it);
      None: beside the workbook's file;
    - `now`: the clock (Sync Facts judges freshness by it).
    """

    workbook: WorkbookTarget
    path: Path | None = None
    spreadsheet_id: str | None = None
    sync_config: Path | None = None
    output_dir: Path | None = None
    now: dt.datetime = field(default_factory=dt.datetime.now)

    @classmethod
    def of_file(cls, path: Path | str, **kwargs: Any) -> ActionContext:
        """The context of a workbook file (opened with the .xlsx adapter)."""
        return cls(XlsxWorkbook(path), path=Path(path), **kwargs)

    def file(self, needed_for: str) -> Path:
        """The workbook's file, or an ActionError saying why the button needs one."""
        if self.path is None:
            raise ActionError(f"Save the workbook as a file first: {needed_for}.")
        return Path(self.path)


@dataclass(frozen=True)
class Action:
    """A button: id (the ribbon control's tag and the server's path), label, help, and
    `run(context) -> message`; on the Excel ribbon (generated, `addin.excel.ribbon`) it sits in
    `group` with the Office icon `icon` (an imageMso name) and the longer tooltip `tip`."""

    id: str
    label: str
    help: str
    run: Callable[[ActionContext], str]
    group: str
    icon: str
    tip: str
