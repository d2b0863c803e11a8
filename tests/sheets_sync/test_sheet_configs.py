"""A Google Sheet as the sync config's workbook, and finding a sheet's config in a folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.errors import InputError
from sheets_sync.sheet_ids import spreadsheet_id_of
from sheets_sync.sync_config import config_for_sheet, parse_config

ID = "1AbCdEfGhIjKlMnOp_-x"


@pytest.mark.parametrize(
    "text",
    [
        f"https://docs.google.com/spreadsheets/d/{ID}/edit#gid=0",
        f"https://docs.google.com/spreadsheets/u/1/d/{ID}/edit?usp=sharing",
        f"docs.google.com/spreadsheets/d/{ID}",
        f"gsheet:{ID}",
        f"  GSheet:{ID} ",
    ],
)
def test_sheet_ids_from_urls_and_references(text: str) -> None:
    assert spreadsheet_id_of(text) == ID


@pytest.mark.parametrize("text", ["plan-2026-11.xlsx", "gsheet:short", "C:/plans/a.xlsx", ""])
def test_files_are_not_sheets(text: str) -> None:
    assert spreadsheet_id_of(text) is None


@given(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
        min_size=10,
        max_size=60,
    )
)
def test_any_id_round_trips_through_its_url(sid: str) -> None:
    assert spreadsheet_id_of(f"https://docs.google.com/spreadsheets/d/{sid}/edit") == sid
    assert spreadsheet_id_of(f"gsheet:{sid}") == sid


def test_config_with_a_sheet_as_its_workbook(tmp_path: Path) -> None:
    config = parse_config(
        f'workbook = "https://docs.google.com/spreadsheets/d/{ID}/edit"\n'
        'credentials = "keys/sa.json"\n',
        base=tmp_path,
    )
    assert config.spreadsheet == ID
    assert config.credentials == tmp_path / "keys" / "sa.json"
    assert config.target == f"Google Sheet {ID}"
    file_config = parse_config('workbook = "plan.xlsx"', base=tmp_path)
    assert file_config.spreadsheet is None and file_config.workbook == tmp_path / "plan.xlsx"
    with pytest.raises(InputError, match=r"`workbook`.*neither a file nor a Google Sheet"):
        parse_config('workbook = "gsheet:nope"', base=tmp_path)


def test_config_for_sheet_finds_exactly_one(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(f'workbook = "gsheet:{ID}"\n')
    (tmp_path / "b.toml").write_text('workbook = "gsheet:1SomeOtherSheetId"\n')
    (tmp_path / "broken.toml").write_text("workbook = \n")
    (tmp_path / "notes.txt").write_text(f'workbook = "gsheet:{ID}"\n')
    assert config_for_sheet(tmp_path, ID) == tmp_path / "a.toml"
    with pytest.raises(
        InputError, match=r"no sync config .* syncs Google Sheet 1MissingSheetId.*broken"
    ):
        config_for_sheet(tmp_path, "1MissingSheetId")
    (tmp_path / "c.toml").write_text(f'workbook = "https://docs.google.com/spreadsheets/d/{ID}"\n')
    with pytest.raises(InputError, match=r"more than one .*a\.toml, c\.toml"):
        config_for_sheet(tmp_path, ID)
    with pytest.raises(InputError, match="does not exist"):
        config_for_sheet(tmp_path / "nowhere", ID)
