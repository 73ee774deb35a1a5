"""The wall's grid and heights: up to 12 tiles on 1080 pixels without scrolling; kiosk CSS."""

from __future__ import annotations

import math

import pytest

from app.theme import (
    KIOSK_CSS,
    RESERVED_PX,
    TILE_TEXT_PX,
    compact,
    grid_columns,
    page_css,
    spark_height,
    tile_height_css,
)


@pytest.mark.parametrize(("tiles", "cols", "rows", "small"), [
    (1, 1, 1, False), (2, 2, 1, False), (4, 2, 2, False), (5, 3, 2, False), (7, 4, 2, False),
    (12, 4, 3, False), (13, 4, 4, True), (18, 5, 4, True), (24, 6, 4, True), (32, 8, 4, True),
])
def test_full_tiles_up_to_twelve_then_compact_in_four_rows(tiles, cols, rows, small):
    assert grid_columns(tiles) == cols and math.ceil(tiles / cols) == rows and compact(tiles) is small


@pytest.mark.parametrize("rows", [1, 2, 3])
def test_tile_text_and_sparkline_fit_the_tile(rows):
    tile = (1080 - RESERVED_PX) // rows - 8
    assert TILE_TEXT_PX + spark_height(rows) <= tile
    assert f"/ {rows} - 8px" in tile_height_css(rows) and "flex: none" in tile_height_css(rows)


def test_kiosk_css_only_in_kiosk():
    assert KIOSK_CSS in page_css(kiosk=True, wall=True)
    assert KIOSK_CSS not in page_css(kiosk=False, wall=True)
    assert "stHeader" in page_css(kiosk=True, wall=False)
