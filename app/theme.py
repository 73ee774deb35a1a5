"""The wall's look: a dark theme made to be read from across a room, and the kiosk mode without chrome.

Streamlit reads .streamlit/config.toml only from the working directory, so the theme is CSS
injected by the page (plus `--theme.base dark` on the command line in `warroom board`).
"""

from __future__ import annotations

import math

WALL_BG = "#0b0f14"
PANEL_BG = "#141a22"
TEXT = "#e8edf2"
MUTED = "#9aa5b1"

# Selectors are Streamlit's data-testid names (stable across releases, unlike class hashes).
BASE_CSS = f"""
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {{ background: {WALL_BG}; color: {TEXT}; }}
/* A refresh must not dim the wall: Streamlit fades elements that are being replaced. */
[data-stale="true"] {{ opacity: 1 !important; transition: none !important; }}
.wr-word {{ font-size: 22px; font-weight: 800; padding: 3px 10px; border-radius: 6px; white-space: nowrap; }}
.wr-chip {{ background: {PANEL_BG}; border-radius: 8px; border-left: 8px solid; padding: 3px 10px;
  font-size: 16px; line-height: 22px; white-space: nowrap; overflow: hidden; }}
.wr-chip > div {{ overflow: hidden; text-overflow: ellipsis; }}
.wr-chip .wr-word {{ font-size: 15px; padding: 0 6px; margin-right: 6px; }}
.wr-chip .wr-age {{ float: right; font-size: 15px; margin-left: 8px; }}
.wr-chip-fail {{ outline: 3px solid #ff3b3b; outline-offset: -3px; animation: wr-blink 1s steps(2, start) infinite; }}
.wr-fail {{ background: #ff3b3b; color: #fff; font-weight: 900; padding: 1px 8px; border-radius: 4px; }}
@keyframes wr-blink {{ to {{ outline-color: transparent; }} }}
"""

WALL_CSS = f"""
[data-testid="stMainBlockContainer"] {{ padding: 3.2rem 0.9rem 0.3rem 0.9rem; max-width: 100%; }}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {{ gap: 0.35rem; }}
[data-testid="stHorizontalBlock"] {{ gap: 0.45rem; }}
[data-testid="stElementToolbar"] {{ display: none !important; }}
.wr-tile {{ position: relative; height: 100%; }}
[class*="st-key-wr-tile-"] {{
  background: {PANEL_BG}; border: 3px solid #2a323d; border-radius: 10px;
  padding: 8px 12px 4px 12px; overflow: hidden; gap: 0 !important;
}}
.wr-title {{ font-size: 21px; color: {TEXT}; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  font-weight: 600; }}
.wr-row {{ display: flex; align-items: baseline; justify-content: space-between; gap: 8px; }}
.wr-value {{ font-size: 60px; line-height: 66px; font-weight: 700; font-variant-numeric: tabular-nums;
  white-space: nowrap; letter-spacing: -1px; }}
.wr-unit {{ font-size: 26px; font-weight: 500; margin-left: 4px; color: {MUTED}; }}
/* The decider's name is the biggest text after the value: read from 4 m (issue 10). */
.wr-owner {{ font-size: 28px; line-height: 34px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  min-height: 34px; font-weight: 800; }}
.wr-owner small {{ font-size: 15px; font-weight: 500; color: {MUTED}; margin-right: 6px; }}
.wr-meta {{ display: flex; justify-content: space-between; gap: 8px; font-size: 15px; line-height: 19px;
  color: {MUTED}; white-space: nowrap; overflow: hidden; }}
.wr-age {{ font-size: 14px; color: {MUTED}; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
/* Compact tiles (13-32 on one wall): the title may wrap to two lines, nothing is cut mid-word. */
.wr-compact .wr-head {{ display: flex; gap: 6px; align-items: flex-start; min-height: 44px; }}
.wr-compact .wr-title {{ font-size: 17px; line-height: 21px; white-space: normal; display: -webkit-box;
  -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; word-break: keep-all;
  overflow-wrap: anywhere; }}
.wr-compact .wr-word {{ font-size: 16px; padding: 1px 6px; }}
.wr-compact .wr-value {{ font-size: 44px; line-height: 50px; }}
.wr-compact .wr-unit {{ font-size: 20px; }}
.wr-compact .wr-owner {{ font-size: 28px; line-height: 36px; min-height: 36px; }}
.wr-health-title {{ font-size: 15px; color: {MUTED}; margin: 0 0 2px 0; }}
.wr-health {{ display: flex; justify-content: space-between; align-items: baseline; gap: 8px; border-radius: 8px;
  border-left: 6px solid; padding: 3px 10px; margin-bottom: 4px; font-size: 16px; white-space: nowrap;
  overflow: hidden; }}
.wr-health b {{ font-size: 22px; font-variant-numeric: tabular-nums; }}
.wr-health .wr-word {{ font-size: 14px; padding: 0 6px; }}
.wr-decision {{ display: flex; align-items: center; gap: 18px; height: 64px; box-sizing: border-box;
  background: {PANEL_BG}; border: 4px solid; border-radius: 10px; padding: 0 16px; overflow: hidden;
  white-space: nowrap; }}
.wr-decision-word {{ font-size: 30px; font-weight: 900; padding: 2px 12px; border-radius: 6px; }}
.wr-decision-label {{ font-size: 20px; color: {MUTED}; }}
.wr-decision-name {{ font-size: 40px; line-height: 48px; font-weight: 900; }}
.wr-decision-role {{ font-size: 24px; font-weight: 600; }}
.wr-decision-phone-no {{ font-size: 30px; font-weight: 700; font-variant-numeric: tabular-nums; }}
.wr-decision-open {{ font-size: 30px; font-weight: 800; color: #ff6b6b; }}
.wr-decision-acked {{ font-size: 24px; font-weight: 700; color: #2fbf71; }}
.wr-decision-count {{ font-size: 20px; color: {MUTED}; margin-left: auto; overflow: hidden; text-overflow: ellipsis; }}
.wr-decision-missed {{ display: block; font-size: 20px; color: #ffb4a8; }}
.wr-decision-quiet {{ border-color: #1f3a2a; color: {MUTED}; font-size: 20px; }}
.wr-viewer-note {{ font-size: 14px; color: #f5c518; }}
.wr-reason {{ font-size: 13px; color: {MUTED}; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
.wr-stale .wr-value {{ color: {MUTED}; }}
.wr-header {{ display: flex; align-items: center; gap: 28px; background: {PANEL_BG}; border-radius: 10px;
  padding: 4px 16px; height: 84px; box-sizing: border-box; overflow: hidden; }}
.wr-name {{ font-size: 26px; font-weight: 700; flex: 1 1 30%; line-height: 32px; }}
.wr-clock {{ font-size: 15px; line-height: 20px; color: {MUTED}; font-weight: 500; }}
.wr-countdown {{ font-size: 48px; line-height: 54px; font-weight: 800; font-variant-numeric: tabular-nums;
  white-space: nowrap; }}
.wr-countdown small {{ display: block; font-size: 14px; line-height: 18px; font-weight: 500; color: {MUTED}; }}
.wr-kpi {{ flex: 1 1 38%; }}
.wr-kpi-line {{ display: flex; justify-content: space-between; align-items: baseline; font-size: 19px;
  line-height: 26px; white-space: nowrap; gap: 12px; }}
.wr-kpi-value {{ font-size: 32px; line-height: 36px; font-weight: 800; font-variant-numeric: tabular-nums; }}
.wr-bar {{ height: 12px; background: #2a323d; border-radius: 6px; overflow: hidden; margin: 3px 0; }}
.wr-bar > div {{ height: 100%; border-radius: 6px; }}
.wr-banner {{ grid-column: 1 / -1; background: #7a0f0f; color: #fff; font-size: 24px; font-weight: 800;
  padding: 8px 16px; border-radius: 8px; border: 3px solid #ff3b3b; overflow: hidden; }}
.wr-banner small {{ font-size: 15px; font-weight: 500; margin-left: 12px; }}
/* Fixed height: alerts coming and going (or the unreachable banner) never move the tiles. */
.wr-strip {{ display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); grid-auto-rows: 50px; gap: 6px;
  height: 106px; overflow: hidden; }}
.wr-strip-empty {{ grid-column: 1 / -1; font-size: 18px; color: {MUTED}; padding: 12px 4px; }}
.wr-sheet-title {{ font-size: 20px; font-weight: 700; margin: 2px 0 4px 0; }}
.wr-step {{ background: {PANEL_BG}; border-radius: 8px; padding: 6px 10px; margin-bottom: 6px;
  border-left: 6px solid #3d7bd9; }}
.wr-step-done {{ opacity: 0.55; border-left-color: #2fbf71; }}
.wr-step-overdue {{ border-left-color: #ff3b3b; }}
.wr-step-head {{ display: flex; justify-content: space-between; font-size: 18px; font-weight: 700; }}
.wr-step-action {{ font-size: 15px; line-height: 19px; margin: 2px 0; }}
.wr-step-owner {{ font-size: 14px; color: {MUTED}; }}
.wr-note {{ font-size: 13px; color: {MUTED}; }}
"""

# Kiosk: nothing but the wall. The header, toolbar, menu, sidebar and the "running" widget go.
KIOSK_CSS = """
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], [data-testid="stMainMenu"], [data-testid="stAppDeployButton"],
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
#MainMenu, footer { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 0.5rem !important; max-width: 100%; }
"""


# The phone view: one column, text that wraps, big enough to read at arm's length on 390 px.
PHONE_CSS = f"""
[data-testid="stMainBlockContainer"] {{ padding: 0.6rem 0.6rem 1rem 0.6rem !important; max-width: 100%; }}
.wr-decision-phone {{ height: auto; flex-wrap: wrap; white-space: normal; gap: 4px 12px; padding: 8px 12px; }}
.wr-decision-phone .wr-decision-word {{ font-size: 22px; }}
.wr-decision-phone .wr-decision-label {{ font-size: 16px; }}
.wr-decision-phone .wr-decision-name {{ font-size: 28px; line-height: 34px; flex-basis: 100%; }}
.wr-decision-phone .wr-decision-role {{ font-size: 18px; }}
.wr-decision-phone .wr-decision-phone-no, .wr-decision-phone .wr-decision-open {{ font-size: 20px; }}
.wr-decision-phone .wr-decision-acked {{ font-size: 18px; }}
.wr-decision-phone .wr-decision-count {{ font-size: 16px; margin-left: 0; white-space: normal; }}
.wr-phone-head {{ font-size: 18px; font-weight: 700; margin: 14px 0 6px 0; }}
.wr-phone-card {{ background: {PANEL_BG}; border-left: 8px solid; border-radius: 8px; padding: 8px 12px;
  margin-bottom: 8px; }}
.wr-phone-top {{ display: flex; justify-content: space-between; align-items: center; }}
.wr-phone-top .wr-word {{ font-size: 18px; }}
.wr-phone-title {{ font-size: 20px; font-weight: 700; margin: 4px 0 2px 0; }}
.wr-phone-line {{ font-size: 16px; line-height: 22px; overflow-wrap: anywhere; }}
.wr-phone-none {{ font-size: 18px; color: {MUTED}; }}
.wr-phone-link {{ display: inline-block; margin: 0 8px 8px 0; padding: 6px 10px; border-radius: 6px;
  background: {PANEL_BG}; color: {TEXT} !important; text-decoration: none; font-size: 16px; }}
.wr-phone-link.wr-on {{ outline: 2px solid #3d7bd9; }}
"""


def page_css(kiosk: bool, wall: bool, phone: bool = False) -> str:
    """The <style> block for a page: base dark theme, the wall's tiles, kiosk mode, the phone view."""
    # A phone has no room for Streamlit's header bar: the phone view always drops it, as the kiosk does.
    css = BASE_CSS + (WALL_CSS if wall or phone else "") + (KIOSK_CSS if kiosk or phone else "") + \
        (PHONE_CSS if phone else "")
    return f"<style>{css}</style>"


# Header, decision banner, alerts strip, gaps and paddings above the tiles, in pixels.
RESERVED_PX = 296
# Title, value, decider (28 px), phone/age lines of a tile; the sparkline gets the rest.
TILE_TEXT_PX = 186
# Up to this many tiles keep the full tile with its sparkline (3 rows of 4); more become compact.
FULL_TILES = 12
# Compact tiles: 4 rows, up to 8 columns, so 32 metrics on one wall; more belong on another wall.
COMPACT_ROWS = 4


def grid_columns(tiles: int) -> int:
    """Columns of the tile grid: up to 12 tiles in 3 rows of 4, then compact tiles in 4 rows."""
    if tiles > FULL_TILES:
        return math.ceil(tiles / COMPACT_ROWS)
    return tiles if tiles <= 2 else 2 if tiles <= 4 else 3 if tiles <= 6 else 4


def compact(tiles: int) -> bool:
    """True when the wall has more tiles than full tiles can hold: no sparklines, smaller titles and values."""
    return tiles > FULL_TILES


def spark_height(rows: int, screen_px: int = 1080) -> int:
    """Sparkline height that fills a tile when `rows` rows share a 1080-pixel wall."""
    tile = (screen_px - RESERVED_PX) // max(1, rows) - 8
    return max(50, min(240, tile - TILE_TEXT_PX))


def tile_height_css(rows: int, reserved_px: int = RESERVED_PX) -> str:
    """Fix every tile's height so `rows` rows fill the screen (1080 px on the wall) without scrolling."""
    # flex: none, or the column's flex layout (flex-basis) wins over the height.
    height = f"max(180px, calc((100vh - {reserved_px}px) / {max(1, rows)} - 8px))"
    rule = f"flex: none !important; height: {height} !important;"
    return f'<style>[class*="st-key-wr-tile-"] {{ {rule} }}</style>'
