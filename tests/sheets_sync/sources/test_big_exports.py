"""Big and pathological text exports: lines too long are refused fast, and a file read in
many small blocks gives the same grid and facts as read whole (line numbers, totals, notes,
quoted line breaks, encodings, extra fields, duplicates across blocks)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.errors import InputError
from sheets_sync.sources import text_blocks
from sheets_sync.sources.ad_export import read_ad_export
from sheets_sync.sources.cell_values import parse_numbers
from sheets_sync.sources.column_map import SourceOptions
from sheets_sync.sources.inspect_file import detect_kind
from sheets_sync.sources.textfile import Grid, head_rows, read_grid

HEADER = "Дата;Кампания;Показы;Клики;Расход (руб.)"


def _direct(rows: list[str], *, above: str = "", below: str = "") -> str:
    """A Yandex Direct export's text: report lines, the header, ``rows``, lines below."""
    return (
        f'"Статистика по дням"\r\nЛогин: test;;;;\r\n{above}{HEADER}\r\n'
        + "".join(r + "\r\n" for r in rows)
        + below
    )


def _rows(n: int, seed: int = 3) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        day = f"{1 + i % 28:02d}.11.2026"
        spend = f"{rng.integers(0, 5000):,}".replace(",", "\xa0") + f",{rng.integers(0, 99):02d}"
        out.append(
            f"{day};C{i % 37:03d} Поиск;{rng.integers(0, 9999)};{rng.integers(0, 99)};{spend}"
        )
    return out


def _is_header(cells: list[str]) -> bool:
    return "Дата" in cells


def _same_cells(a: pd.DataFrame, b: pd.DataFrame, decimal: str, numbers: list[str]) -> None:
    """The same cells; a number column may be typed per block (text in the block with a bad
    cell, floats elsewhere), so those are compared as `parse_numbers` reads them."""
    assert list(a.columns) == list(b.columns)
    for column in a.columns:
        if column in numbers:
            pairs = zip(
                parse_numbers(a[column], decimal), parse_numbers(b[column], decimal), strict=True
            )
            for x, y in pairs:
                np.testing.assert_array_equal(x, y)
        else:
            assert a[column].tolist() == b[column].tolist()


def _same_grid(a: Grid, b: Grid, numbers: list[str]) -> None:
    _same_cells(a.frame, b.frame, a.decimal, numbers)
    _same_cells(a.totals, b.totals, a.decimal, numbers)
    assert a.lines.tolist() == b.lines.tolist()
    assert a.totals_lines.tolist() == b.totals_lines.tolist()
    assert (a.warnings, a.encoding, a.delimiter, a.header_line, a.decimal) == (
        b.warnings,
        b.encoding,
        b.delimiter,
        b.header_line,
        b.decimal,
    )


def _small_blocks(monkeypatch: pytest.MonkeyPatch, size: int = 300, tail: int = 3) -> None:
    monkeypatch.setattr(text_blocks, "BLOCK_BYTES", size)
    monkeypatch.setattr(text_blocks, "TAIL_LINES", tail)


# ------------------------------------------------------------------------ lines too long


def test_a_9_mb_header_line_is_refused_in_a_second(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    line = ";".join(f"Колонка {i}" for i in range(900_000))  # ~9.9 MB of header cells
    path.write_text(line + "\n01.11.2026;1\n", encoding="utf-8")
    length = len(line.encode("utf-8"))
    start = time.perf_counter()
    with pytest.raises(InputError) as caught:
        read_ad_export(path, SourceOptions(source="direct"))
    assert time.perf_counter() - start < 2.0
    message = str(caught.value)
    assert str(path) in message and "line 1 " in message and f"{length:,} bytes" in message
    assert "\n" not in message
    start = time.perf_counter()
    with pytest.raises(InputError, match=f"line 1 is {length:,} bytes"):
        detect_kind(path, SourceOptions(source="direct"))  # inspect's sniffing
    with pytest.raises(InputError, match="line 1 is"):
        head_rows(path)
    assert time.perf_counter() - start < 2.0


def test_a_long_title_line_above_the_header_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "title.csv"
    title = "x" * 70_000  # 70,000 bytes and the \r of its CRLF: 70,001 > 65,536
    path.write_text(_direct(_rows(3), above=title + "\r\n"), encoding="utf-8")
    with pytest.raises(
        InputError, match=r"title.csv: line 3 is 70,001 bytes long, over the 65,536 bytes"
    ):
        read_ad_export(path, SourceOptions(source="direct"))


def test_a_data_line_over_1_mb_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "long_row.csv"
    rows = _rows(500)
    rows[300] = rows[300] + ";" + "y" * 1_100_000
    path.write_text(_direct(rows), encoding="utf-8")
    length = len(rows[300].encode("utf-8")) + 1  # the \r before the \n
    start = time.perf_counter()
    with pytest.raises(InputError) as caught:
        read_ad_export(path, SourceOptions(source="direct"))
    assert time.perf_counter() - start < 2.0
    # line 1 title, 2 login, 3 header, rows from line 4: rows[300] is line 304
    assert f"line 304 is {length:,} bytes long" in str(caught.value)


def test_a_line_of_just_under_1_mb_is_read(tmp_path: Path) -> None:
    path = tmp_path / "long_ok.csv"
    rows = _rows(5)
    rows[2] = rows[2] + ";" + "z" * 900_000  # an extra field: read, not refused
    path.write_text(_direct(rows), encoding="utf-8")
    result = read_ad_export(path, SourceOptions(source="direct"))
    assert result.info.rows_ok == 5


# ------------------------------------------------------------- blocks read like the whole


def test_blocks_keep_lines_totals_notes_quotes_and_extra_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _rows(400)
    rows[0] = "Итого;;1;1;1"  # a totals row first
    rows[5] = '01.11.2026;"Кампания\r\nв две строки";10;1;5,00'  # a quoted line break
    rows[150] = "02.11.2026;C001 Поиск;abc;1;2,00"  # a bad count, in a middle block
    rows[200] = rows[200] + ";лишнее"  # an extra field in one block only
    rows[220] = ""  # a blank line
    rows[260] = rows[60]  # a repeated date and campaign across blocks: the last one kept
    below = "Итого;;100;10;1\xa0000,00\r\nОтчёт сформирован 05.11.2026\r\n"
    path = tmp_path / "direct.csv"
    path.write_bytes(_direct(rows, below=below).encode("cp1251"))
    whole = read_grid(path, _is_header, numeric=lambda h: h[2:])
    read_whole = read_ad_export(path, SourceOptions(source="direct"))
    _small_blocks(monkeypatch)
    blocks = list(text_blocks.body_blocks(text_blocks.utf8_pieces(path, "cp1251"), path, 1))
    assert len(blocks) > 5 and blocks[0].first and blocks[-1].last
    assert all(b.data.count(b"\n") >= 3 for b in blocks)
    parts = read_grid(path, _is_header, numeric=lambda h: h[2:])
    _same_grid(whole, parts, ["Показы", "Клики", "Расход (руб.)"])
    # header on line 3, rows[i] on line 4 + i, one more below the quoted break (rows[5])
    assert parts.totals_lines.tolist() == [4, 405]
    assert parts.warnings == [
        "line 406: note below the table ignored: 'Отчёт сформирован 05.11.2026'"
    ]
    # the quoted break moves every later row down one line
    assert parts.lines[4] == 9 and parts.lines[5] == 11
    read_parts = read_ad_export(path, SourceOptions(source="direct"))
    pd.testing.assert_frame_equal(read_whole.facts, read_parts.facts)
    pd.testing.assert_frame_equal(read_whole.quarantine, read_parts.quarantine)
    assert read_whole.info == read_parts.info
    bad = read_parts.quarantine
    assert bad[bad["value"] == "abc"]["line"].tolist() == [155]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1251"])
def test_blocks_in_every_encoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    path = tmp_path / f"direct_{encoding}.csv"
    path.write_bytes(_direct(_rows(300), below="Итого;;1;1;1\r\n").encode(encoding))
    whole = read_ad_export(path, SourceOptions(source="direct"))
    _small_blocks(monkeypatch, size=500)
    parts = read_ad_export(path, SourceOptions(source="direct"))
    pd.testing.assert_frame_equal(whole.facts, parts.facts)
    assert whole.info == parts.info
    assert parts.info.encoding == encoding and parts.info.rows_ok == 300
    assert parts.info.file_totals_row is not None


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(0, 120),
    size=st.integers(40, 2000),
    tail=st.integers(1, 60),
    seed=st.integers(0, 1000),
)
def test_any_block_size_reads_like_the_whole_file(
    tmp_path: Path, n: int, size: int, tail: int, seed: int
) -> None:
    """Whatever the block size and the fewest lines a block keeps, the facts, quarantine
    and counts are the whole file's."""
    rows = _rows(n, seed)
    rng = np.random.default_rng(seed)
    for i in rng.choice(max(n, 1), size=min(n, 4), replace=False) if n else []:
        rows[i] = rows[i].replace(";", ";--;", 1) if i % 2 else rows[i].replace("11.2026", "xx")
    path = tmp_path / f"prop_{seed}_{n}.csv"
    path.write_bytes(_direct(rows, below="Итого;;1;1;1\r\n").encode("cp1251"))
    whole = read_ad_export(path, SourceOptions(source="direct"))
    with pytest.MonkeyPatch.context() as patch:
        _small_blocks(patch, size=size, tail=tail)
        parts = read_ad_export(path, SourceOptions(source="direct"))
    pd.testing.assert_frame_equal(whole.facts, parts.facts)
    pd.testing.assert_frame_equal(whole.quarantine, parts.quarantine)
    assert whole.info == parts.info
