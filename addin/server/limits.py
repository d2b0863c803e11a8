"""The limits of one request, past the body size (`middleware`): what a call may hold, what an
upload may unzip to, and how long either may run. Each is a setting (`Settings`) and each
refusal is one clear sentence.

- `check_cells`, `check_call`: a function call's cells (every argument's), a funnel's stages
  (its ``crs`` argument) and the channels (its ``channels`` argument) are counted before the
  function runs (the cells before the function is even looked up); over `Settings.max_cells`,
  `max_stages` or `max_channels` it is 413. With ``by_row`` the stages and channels are those
  of one row's call. The caps bound the work: FUNNEL_PLAN grows with the
  square of its stages, OPTIMIZE_SPLIT fast with its channels.
- `check_xlsx`: an upload's zip members are summed, first as their headers declare, then as
  they really inflate (streamed, stopped at the cap): over `Settings.max_unzipped_bytes` it is
  413 before openpyxl opens the file (a 400 KB zip of 76 MB of XML held 2.3 GB for 106 s).
- `run_in_thread`: a function's work in a thread with a deadline (504 past it). A thread cannot
  be stopped, so the caps above are what bound it; the answer does not wait for it.
- `run_in_process`: a button's work on an uploaded workbook in a child process (forkserver)
  killed at the deadline (504): its memory goes with it.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import zipfile
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

from addin.server.errors import ApiError
from addin.server.settings import Settings

T = TypeVar("T")

STAGE_ARGS = frozenset({"crs"})
"""Arguments that are a funnel's stages (one cell per stage)."""
CHANNEL_ARGS = frozenset({"channels"})
"""Arguments that are channels (one cell per channel)."""


def cells_of(value: Any) -> int:
    """The cells of an argument: 1 for a value, every cell of a range."""
    if isinstance(value, list):
        return sum(len(row) if isinstance(row, list) else 1 for row in value)
    return 1


def _per_row_cells(value: Any) -> int:
    """The cells of one row's call of a by-row argument (its widest row)."""
    if isinstance(value, list):
        return max((len(row) if isinstance(row, list) else 1 for row in value), default=0)
    return 1


def check_cells(args: list[Any], settings: Settings) -> None:
    """413 when a call's cells are over the cap (checked first, whatever the function)."""
    cells = sum(cells_of(a) for a in args)
    if cells > settings.max_cells:
        raise ApiError(
            413,
            "too_large",
            f"the call has {cells:,} cells; at most {settings.max_cells:,} are accepted per "
            "call: split the range",
        )


def check_call(names: list[str], args: list[Any], by_row: bool, settings: Settings) -> None:
    """413 when a call's cells, stages or channels are over the settings' caps (`names` are
    the function's argument names, in order)."""
    check_cells(args, settings)
    count = _per_row_cells if by_row else cells_of
    for i, (name, value) in enumerate(zip(names, args, strict=False)):
        if name in STAGE_ARGS:
            what, cap = "stages", settings.max_stages
            n = count(value) + 1  # the first stage has no CR
        elif name in CHANNEL_ARGS:
            what, cap = "channels", settings.max_channels
            n = count(value)
        else:
            continue
        if n > cap:
            raise ApiError(
                413,
                "too_large",
                f"argument {i + 1} ({name}) makes {n:,} {what}; at most {cap:,} are accepted "
                "per call",
            )


def check_xlsx(upload: BinaryIO, cap: int) -> None:
    """413 when the zip `upload` would unzip to more than `cap` bytes (declared or actual);
    a file that is no zip is left to the workbook reader (400). The file is rewound."""
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError, ValueError):
        upload.seek(0)
        return
    with archive:
        _check_members(archive, cap)
    upload.seek(0)


def _check_members(archive: zipfile.ZipFile, cap: int) -> None:
    members = archive.infolist()
    declared = sum(m.file_size for m in members)
    if declared > cap:
        raise _zip_too_large(f"declares {declared:,} bytes unzipped", cap)
    total = 0
    for member in members:
        try:
            with archive.open(member) as stream:
                while chunk := stream.read(1 << 20):
                    total += len(chunk)
                    if total > cap:
                        raise _zip_too_large(f"unzips to more than {cap:,} bytes", cap)
        except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError):
            return  # damaged or encrypted: the workbook reader says so (400)


def _zip_too_large(what: str, cap: int) -> ApiError:
    return ApiError(
        413,
        "too_large",
        f"the uploaded workbook {what}; at most {cap:,} are accepted (is it a workbook?)",
    )


def _too_slow(seconds: float) -> ApiError:
    return ApiError(
        504,
        "too_slow",
        f"the request ran past the server's limit of {seconds:g} s and was stopped: "
        "send less at a time",
    )


def run_in_thread(work: Callable[[], T], seconds: float) -> T:
    """`work()` in a daemon thread; 504 if it has not finished within `seconds` (it ends on
    its own: the caps of `check_call` bound it)."""
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(1)

    def target() -> None:
        try:
            box.put((True, work()))
        except BaseException as error:  # handed to the caller, raised there
            box.put((False, error))

    threading.Thread(target=target, daemon=True, name="funnelplan-call").start()
    try:
        ok, value = box.get(timeout=seconds)
    except queue.Empty:
        raise _too_slow(seconds) from None
    if not ok:
        raise value
    result: T = value
    return result


def _child(conn: Any, work: Callable[..., Any], args: tuple[Any, ...]) -> None:
    conn.send(STARTED)
    try:
        conn.send((True, work(*args)))
    except ApiError as error:
        conn.send((False, (error.status, error.code, error.message)))
    except BaseException as error:  # reported to the parent, which answers 500
        conn.send((False, (500, "internal", f"{type(error).__name__}: {error}")))
    finally:
        conn.close()


_CONTEXT: Any = None
STARTED = "started"
STARTUP_SECONDS = 120.0
"""How long a worker process may take to start (the first one waits for the forkserver to
import the server's modules); the time limit counts from its start."""


def _context() -> Any:
    """The forkserver context (the server's modules preloaded: a child starts in ms); spawn
    where there is no forkserver."""
    global _CONTEXT
    if _CONTEXT is None:
        ctx: Any
        try:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["addin.registry", "addin.server.routes.actions"])
        except ValueError:  # pragma: no cover - Windows
            ctx = multiprocessing.get_context("spawn")
        _CONTEXT = ctx
    return _CONTEXT


def warm_up() -> None:
    """Start the forkserver in the background (it imports the server's modules once), so that
    the first button on an uploaded workbook does not wait for it."""

    def start() -> None:
        ctx = _context()
        if ctx.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()

    threading.Thread(target=start, daemon=True, name="funnelplan-forkserver").start()


def run_in_process(work: Callable[..., T], args: tuple[Any, ...], seconds: float) -> T:
    """`work(*args)` in a child process; 504 if it has not finished within `seconds` (the
    child is killed). `work` must be a module-level function; an `ApiError` it raises is
    raised here, anything else is a 500 with its one-line reason."""
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(child, work, args), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(STARTUP_SECONDS) or parent.recv() != STARTED:
            raise RuntimeError("the worker process did not start")
        if not parent.poll(seconds):
            raise _too_slow(seconds)
        ok, value = parent.recv()
    except EOFError:
        value, ok = (500, "internal", "the worker process died (out of memory?)"), False
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        parent.close()
    if not ok:
        status, code, message = value
        if status >= 500:
            raise RuntimeError(message)
        raise ApiError(status, code, message)
    result: T = value
    return result
