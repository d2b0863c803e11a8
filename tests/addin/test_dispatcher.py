"""The ribbon's dispatcher core (`run_on`) on the demo's .xlsx workbook, every action; and the
xlwings adapter's logic against an in-memory stand-in of the xlwings calls it makes (no Excel
here: what Excel itself does with those calls is only checked in Excel)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
from demo_cache import run_demo

from addin.excel.dispatcher import Outcome, run_on
from addin.registry import ACTIONS, ActionContext
from sheets_sync.workbooks.interface import WorkbookError
from sheets_sync.workbooks.live_excel import XlwingsWorkbook

WORKBOOK = "plan-2026-11.xlsx"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    run_demo(out)
    return out


@pytest.fixture
def demo(demo_dir: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo folder (workbook, sync.toml, exports, fact store)."""
    target = tmp_path / "demo"
    shutil.copytree(demo_dir, target)
    return target / WORKBOOK


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _readable(message: str) -> None:
    assert message and "Traceback" not in message and "\n" not in message
    assert message[0].isupper() and message.endswith((".", "!", "?"))


@pytest.mark.parametrize("action_id", list(ACTIONS))
def test_each_action_runs_on_the_demo_workbook(demo: Path, action_id: str) -> None:
    if action_id == "undo_split":  # Undo needs an Apply Split to undo
        assert run_on("apply_split", ActionContext.of_file(demo)).ok
    before = _digest(demo)
    outcome = run_on(action_id, ActionContext.of_file(demo))
    assert outcome == Outcome(action_id, True, outcome.message), outcome.message
    _readable(outcome.message)
    if action_id == "new_month":
        assert (demo.parent / "plan-2026-12.xlsx").is_file()
        assert _digest(demo) == before  # New Month writes a new file, not this one
    else:
        assert _digest(demo) != before


@pytest.mark.parametrize(
    ("action_id", "prepare"),
    [
        ("undo_split", lambda d: None),  # nothing to undo
        ("new_month", lambda d: (d.parent / "plan-2026-12.xlsx").write_bytes(b"x")),  # exists
        ("sync_facts", lambda d: (d.parent / "sync.toml").unlink()),  # no config
        ("refresh_runrate", lambda d: None),  # run below on a workbook without the Plan
    ],
)
def test_a_failing_action_gives_a_sentence_and_leaves_the_workbook(
    demo: Path, action_id: str, prepare: Any, tmp_path: Path
) -> None:
    prepare(demo)
    if action_id == "refresh_runrate":
        import openpyxl

        book = openpyxl.load_workbook(demo)
        del book["Plan"]
        book.save(demo)
    before = _digest(demo)
    outcome = run_on(action_id, ActionContext.of_file(demo))
    assert not outcome.ok
    _readable(outcome.message)
    assert _digest(demo) == before


def test_an_unknown_button_is_a_sentence(demo: Path) -> None:
    outcome = run_on("launch_rocket", ActionContext.of_file(demo))
    assert not outcome.ok
    assert "launch_rocket" in outcome.message and "sync_facts" in outcome.message


# ----------------------------------------------------------------------------- xlwings adapter


class FakeRange:
    """The xlwings Range calls the adapter makes, over a FakeSheet's cells."""

    def __init__(self, sheet: FakeSheet, first: tuple[int, int], last: tuple[int, int]) -> None:
        self.sheet, self.first, self.last = sheet, first, last

    def options(self, ndim: int | None = None) -> FakeRange:
        assert ndim == 2
        return self

    def _cells(self) -> list[list[tuple[int, int]]]:
        (r1, c1), (r2, c2) = self.first, self.last
        return [[(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

    @property
    def value(self) -> list[list[Any]]:
        self.sheet.book.reads += 1
        return [[self.sheet.shown(cell) for cell in line] for line in self._cells()]

    @value.setter
    def value(self, rows: list[list[Any]]) -> None:
        self.sheet.book.writes += 1
        if self.sheet.book.fail_writes_after == self.sheet.book.writes:
            raise RuntimeError("Excel is busy")
        for line, cells in zip(rows, self._cells(), strict=True):
            for v, cell in zip(line, cells, strict=True):
                self.sheet.cells[cell] = v

    @property
    def formula(self) -> Any:
        grid = tuple(
            tuple("" if self.sheet.cells.get(c) is None else str(self.sheet.cells[c]) for c in line)
            for line in self._cells()
        )
        return grid[0][0] if len(grid) == 1 and len(grid[0]) == 1 else grid

    # used_range
    @property
    def last_cell(self) -> Any:
        return type("Cell", (), {"row": self.last[0], "column": self.last[1]})()

    @property
    def count(self) -> int:
        return sum(len(line) for line in self._cells())


class FakeSheet:
    def __init__(self, book: FakeBook, name: str, cells: dict[tuple[int, int], Any]) -> None:
        self.book, self.name, self.cells, self.visible = book, name, cells, True

    def shown(self, cell: tuple[int, int]) -> Any:
        v = self.cells.get(cell)
        if isinstance(v, str) and v.startswith("="):
            return 42.0  # what Excel calculates
        return v

    def range(self, first: tuple[int, int], last: tuple[int, int] | None = None) -> FakeRange:
        return FakeRange(self, first, last or first)

    @property
    def used_range(self) -> FakeRange:
        used = [c for c, v in self.cells.items() if v is not None]
        if not used:
            return FakeRange(self, (1, 1), (1, 1))
        return FakeRange(self, (1, 1), (max(r for r, _ in used), max(c for _, c in used)))

    def delete(self) -> None:
        self.book.sheets.items.remove(self)


class FakeSheets:
    def __init__(self, book: FakeBook) -> None:
        self.book = book
        self.items: list[FakeSheet] = []

    def __iter__(self) -> Any:
        return iter(list(self.items))

    def __getitem__(self, key: str | int) -> FakeSheet:
        if isinstance(key, int):
            return self.items[key]
        return next(s for s in self.items if s.name == key)

    def add(self, name: str, after: FakeSheet | None = None) -> FakeSheet:
        sheet = FakeSheet(self.book, name, {})
        self.items.append(sheet)
        return sheet


class FakeBook:
    def __init__(self, fullname: str = r"C:\plans\plan.xlsx") -> None:
        self.name = fullname.rsplit("\\", 1)[-1]
        self.fullname = fullname
        self.app = type("App", (), {"screen_updating": True, "status_bar": None})()
        self.sheets = FakeSheets(self)
        self.reads = self.writes = self.saves = 0
        self.fail_writes_after: int | None = None
        self.fail_save = False

    def save(self) -> None:
        if self.fail_save:
            raise OSError("the file is read-only")
        self.saves += 1


@pytest.fixture
def book() -> FakeBook:
    b = FakeBook()
    cells: dict[tuple[int, int], Any] = {
        (1, 1): "channel",
        (1, 2): "spend",
        (1, 3): "leads",
        (1, 5): "note",
    }
    cells.update({(2, 1): "Search", (2, 2): 1000.0, (2, 3): "=B2/100"})
    cells.update({(3, 1): "Meta", (3, 2): 500.5, (3, 3): 5.0})
    cells.update({(4, 1): "Total", (4, 2): "=SUM(B2:B3)"})
    b.sheets.items.append(FakeSheet(b, "Plan", cells))
    return b


def test_adapter_reads_a_table_in_one_range_read(book: FakeBook) -> None:
    wb = XlwingsWorkbook(book)
    table = wb.read_table("Plan", stop_labels=["total"])
    assert book.reads == 1
    assert table.headers == ["channel", "spend", "leads"]  # stops at the blank header
    assert table.rows == [["Search", 1000, 42], ["Meta", 500.5, 5]]  # formulas as values
    assert str(wb.path) == book.fullname
    with pytest.raises(WorkbookError):
        wb.read_table("Nope")


def test_adapter_read_cells_gives_formulas_as_text(book: FakeBook) -> None:
    wb = XlwingsWorkbook(book)
    assert wb.read_cells("Plan", 2, 2, 3, 2) == [
        [1000, "=B2/100"],
        [500.5, 5],
        ["=SUM(B2:B3)", None],
    ]
    values = wb.read_cells("Plan", 2, 2, 3, 2, formulas=False)
    assert values[1] == [500.5, 5] and values[0][0] == 1000
    assert not any(isinstance(v, str) and v.startswith("=") for line in values for v in line)


def test_adapter_stages_then_writes_one_range_per_block(book: FakeBook) -> None:
    wb = XlwingsWorkbook(book)
    wb.write_block("Plan", 2, 2, [[1100.0, 11], [600.0, 6]])
    wb.add_sheet("Log", hidden=True)
    wb.write_block("Log", 1, 1, [["when", "what"], ["today", "=1+1"]])
    assert book.writes == 0 and book.saves == 0
    assert wb.read_table("Plan", stop_labels=["total"]).rows[0] == ["Search", 1100, 11]
    assert wb.read_cells("Log", 2, 1, 1, 2) == [["today", "=1+1"]]
    wb.save()
    assert book.writes == 2 and book.saves == 1  # one write per block, then Book.save
    plan = book.sheets["Plan"].cells
    assert plan[(2, 2)] == 1100.0 and plan[(3, 3)] == 6
    log = book.sheets["Log"]
    assert log.visible is False and log.cells[(2, 2)] == "=1+1"
    assert book.app.screen_updating is True


def test_adapter_rolls_back_when_saving_fails(book: FakeBook) -> None:
    before = dict(book.sheets["Plan"].cells)
    wb = XlwingsWorkbook(book)
    wb.add_sheet("Split Undo")
    wb.write_block("Plan", 2, 2, [[1.0, 2.0]])
    wb.write_block("Plan", 4, 2, [[None]])
    book.fail_save = True
    with pytest.raises(OSError):
        wb.save()
    after = {c: v for c, v in book.sheets["Plan"].cells.items() if v is not None}
    assert after == before  # values and formulas as they were
    assert [s.name for s in book.sheets] == ["Plan"]


def test_adapter_rolls_back_a_failed_write(book: FakeBook) -> None:
    before = dict(book.sheets["Plan"].cells)
    wb = XlwingsWorkbook(book)
    wb.write_block("Plan", 2, 2, [[1.0]])
    wb.write_block("Plan", 3, 2, [[2.0]])
    book.fail_writes_after = 2  # the second block's write fails
    with pytest.raises(RuntimeError):
        wb.save()
    assert {c: v for c, v in book.sheets["Plan"].cells.items() if v is not None} == before


def test_an_unsaved_book_has_no_path() -> None:
    assert XlwingsWorkbook(FakeBook("Book1")).path is None
    assert XlwingsWorkbook(FakeBook("https://x.sharepoint.com/plan.xlsx")).path is None
