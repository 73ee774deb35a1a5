"""The wall's grid and heights: up to 12 tiles on 1080 pixels without scrolling; kiosk CSS."""

from __future__ import annotations

import math

import pytest

from app.theme import KIOSK_CSS, RESERVED_PX, TILE_TEXT_PX, grid_columns, page_css, spark_height, tile_height_css


@pytest.mark.parametrize(("tiles", "cols", "rows"), [
    (1, 1, 1), (2, 2, 1), (4, 2, 2), (5, 3, 2), (7, 4, 2), (12, 4, 3), (13, 5, 3), (18, 6, 3),
])
def test_grid_never_needs_a_fourth_row(tiles, cols, rows):
    assert grid_columns(tiles) == cols and math.ceil(tiles / cols) == rows


@pytest.mark.parametrize("rows", [1, 2, 3])
def test_tile_text_and_sparkline_fit_the_tile(rows):
    tile = (1080 - RESERVED_PX) // rows - 8
    assert TILE_TEXT_PX + spark_height(rows) <= tile
    assert f"/ {rows} - 8px" in tile_height_css(rows) and "flex: none" in tile_height_css(rows)


def test_kiosk_css_only_in_kiosk():
    assert KIOSK_CSS in page_css(kiosk=True, wall=True)
    assert KIOSK_CSS not in page_css(kiosk=False, wall=True)
    assert "stHeader" in page_css(kiosk=True, wall=False)
