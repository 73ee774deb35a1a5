"""The board's one client against two real daemon processes: kill the one it reads, the next refresh reads the other."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from app.api_client import DaemonClient
from app.hub import SnapshotHub
from tests.app.board_kit import chromium, close_chromium, start_board, stop_group, wait_board, wait_dom
from tests.daemon_kit import stop, wait_for
from tests.harness.pair import running_nodes
from tests.harness.rig import TOKEN, push
from tests.realparts import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def two_nodes(tmp_path):
    """node-a and node-b: two `warroom collect` processes, each with its own file, port and name."""
    with running_nodes(tmp_path) as nodes:
        yield nodes


def tile(snap, metric: str) -> dict:  # noqa: ANN001
    return next(t for t in snap.board["tiles"] if t["metric"] == metric)


def test_the_next_refresh_reads_the_other_node_when_the_one_it_reads_is_killed(two_nodes):
    (proc_a, _), (a, b) = two_nodes
    # The same metric, a different value on each node: the tile says which node answered.
    push(a, [{"metric": "queue", "value": 1.0}]).raise_for_status()
    push(b, [{"metric": "queue", "value": 2.0}]).raise_for_status()
    hub = SnapshotHub(DaemonClient(f"{a},{b}", TOKEN), 0.5)
    wait_for(lambda: tile(hub.current(max_age_s=0), "queue")["value"] == 1.0, 30, "node-a's value on the board")
    first = hub.current(max_age_s=0)
    assert first.error is None and first.node == "node-a"
    proc_a.send_signal(signal.SIGKILL)
    proc_a.wait(10)
    # The very next refresh: node-b's board, no outage, nothing blank.
    snap = hub.current(max_age_s=0)
    assert snap.error is None, snap.error
    assert snap.node == "node-b" and tile(snap, "queue")["value"] == 2.0 and snap.alerts is not None
    assert hub.client.down_since is None and hub.client.base == b
    # Both gone: the last board stays, marked unreachable (as with one daemon).
    stop(two_nodes[0][1])
    down = hub.current(max_age_s=0)
    assert down.error is not None and down.board is not None and tile(down, "queue")["value"] == 2.0


# Set when the wall ever shows the "unreachable" banner (the wall's or the strip's): an error flash.
WATCH_FOR_FLASH = """window.sawDown = false;
new MutationObserver(() => { if (document.querySelector('[data-banner=down]')) window.sawDown = true; })
  .observe(document.body, {subtree: true, childList: true, characterData: true});"""


@pytest.mark.needs_chromium
def test_the_wall_header_names_the_node_and_moves_without_an_error_flash(two_nodes, tmp_path):
    (proc_a, _), (a, b) = two_nodes
    for base in (a, b):
        push(base, [{"metric": "failures", "value": 30.0}, {"metric": "queue", "value": 3.0}]).raise_for_status()
    chrome = chromium()
    port = free_port()
    config = tmp_path / "node-a.yaml"
    board = start_board(config, f"{a},{b}", port, tmp_path / "board.log", {"WARROOM_TOKEN": TOKEN})
    try:
        wait_board(port, board, tmp_path / "board.log")
        chrome.get(f"http://127.0.0.1:{port}/?kiosk=1")
        wait_dom(chrome, "document.querySelector('[data-node=\"node-a\"]') !== null", 45, "the header naming node-a")
        assert chrome.execute_script("return document.querySelector('[data-node]').textContent") == "via node-a"
        chrome.execute_script(WATCH_FOR_FLASH)
        proc_a.send_signal(signal.SIGKILL)
        proc_a.wait(10)
        wait_dom(chrome, "document.querySelector('[data-node=\"node-b\"]') !== null", 30, "the header naming node-b")
        assert chrome.execute_script("return window.sawDown") is False
        assert chrome.execute_script("return document.querySelectorAll('[data-metric][data-level=orange]').length") == 1
        artifacts = Path(__file__).resolve().parents[1] / "artifacts"
        artifacts.mkdir(exist_ok=True)
        chrome.save_screenshot(str(artifacts / "wall-follows-node-b.png"))
    finally:
        close_chromium(chrome)
        stop_group(board)
