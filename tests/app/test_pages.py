"""Each page under streamlit.testing.v1.AppTest against the real daemon on the demo night at 23:29.

AppTest does not drive `run_every`; every fragment runs once per `.run()`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from streamlit.testing.v1 import AppTest

from tests.app.board_kit import night_config
from tests.daemon_kit import ROOT, api_base, start_collect, start_demo, stop, wait_for, write_config
from tests.realparts import free_port

pytestmark = pytest.mark.slow

TOKEN = "test-board-token-0123456789"
ENTRY = str(ROOT / "app" / "wall.py")
PEOPLE = ("张伟 · 技术负责人", "李娜 · 运营负责人", "王强 · 总经理", "赵磊 · DBA")
LEVEL_WORDS = {"green": "正常", "yellow": "黄色预警", "orange": "橙色预警", "red": "红色预警", "stale": "无数据"}


@dataclass
class Night:
    base: str
    config: Path
    raw: dict[str, Any]


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    demo = start_demo("23:29:00")
    tmp = tmp_path_factory.mktemp("pages")
    raw = night_config(demo.url, tmp / "night.duckdb")
    config = write_config(raw, tmp / "config.yaml")
    log = tmp / "collect.log"
    proc = start_collect(config, log, {"WARROOM_TOKEN": TOKEN})
    base = api_base(raw)
    try:
        def live_with_alerts():
            tiles = requests.get(f"{base}/api/v1/board", timeout=5).json()["tiles"]
            alerts = requests.get(f"{base}/api/v1/alerts", params={"state": "active"}, timeout=5).json()["alerts"]
            return all(t["value"] is not None for t in tiles) and len(alerts) >= 2

        wait_for(live_with_alerts, 40, "live tiles and two active alerts", proc, log)
        yield Night(base, config, raw)
    finally:
        stop(proc)
        demo.shutdown()


def board_app(monkeypatch, api: str, config: Path, token: str | None = None, kiosk: bool = False) -> AppTest:
    monkeypatch.setenv("WARROOM_API", api)
    monkeypatch.setenv("WARROOM_CONFIG", str(config))
    if token:
        monkeypatch.setenv("WARROOM_TOKEN", token)
    else:
        monkeypatch.delenv("WARROOM_TOKEN", raising=False)
    at = AppTest.from_file(ENTRY, default_timeout=30)
    if kiosk:
        at.query_params["kiosk"] = "1"
    return at.run()


def page_html(at: AppTest) -> str:
    return "\n".join(h.value for h in at.html)


def tiles_in(at: AppTest) -> dict[str, tuple[str, str]]:
    """metric → (level, owner line) from the tile HTML on the page."""
    found = {}
    for h in at.html:
        m = re.search(r'data-metric="([^"]+)" data-level="([a-z]+)"', h.value)
        if m:
            owner = re.search(r'data-owner="1">(.*?)</div>', h.value)
            found[m.group(1)] = (m.group(2), owner.group(1) if owner else "")
    return found


def api(night: Night, path: str, **params: Any) -> Any:
    return requests.get(f"{night.base}{path}", params=params, timeout=5).json()


def test_wall_shows_every_tile_with_level_word_and_owner(monkeypatch, night):
    at = board_app(monkeypatch, night.base, night.config, kiosk=True)
    assert not at.exception, at.exception
    tiles = tiles_in(at)
    # The first wall of `walls:`; the host's own CPU sits in the health row, apart from the business tiles.
    assert list(tiles) == night.raw["walls"]["tech"]["metrics"]
    html = page_html(at)
    assert 'data-health="host_cpu"' in html
    for metric, (level, owner) in tiles.items():
        assert LEVEL_WORDS[level] in html, (metric, level)
        if level in ("yellow", "orange", "red"):
            assert any(p in owner for p in PEOPLE), (metric, owner)
        if level == "green":
            assert owner == ""
    # 23:29 on the seed's night: the pool and order success are past their orange lines.
    assert tiles["db_connections"][0] in ("orange", "red") and tiles["order_success"][0] in ("orange", "red")
    assert re.search(r"T-00:0\d:\d\d", html) and "/ 8,000" in html
    assert re.search(r'data-alerts="[1-9]', html), "the active alerts strip lists the open alerts"
    assert "收官流程" in html and "23:59:59" in html
    # Kiosk: Streamlit's chrome is hidden by the page's CSS.
    assert '[data-testid="stHeader"]' in html and 'data-banner="down"' not in html
    # The shipped tech wall is trusted to mark steps, but a board without the board token can do nothing: its
    # controls are disabled, with a note that says why.
    done = [b for b in at.button if b.key and b.key.startswith("wr-done-")]
    assert done and all(b.disabled for b in done)
    assert "WARROOM_TOKEN" in html and 'data-sheet-actions="off"' in html


def test_decision_banner_names_who_decides_the_highest_open_level(monkeypatch, night):
    before = api(night, "/api/v1/alerts", state="active")["alerts"]
    at = board_app(monkeypatch, night.base, night.config, kiosk=True)
    after = api(night, "/api/v1/alerts", state="active")["alerts"]
    html = page_html(at)
    banner = re.search(r'data-decision="([a-z]+)".*?data-decider="1">(.*?)</span>', html)
    assert banner, html[:2000]
    rank = {"yellow": 1, "orange": 2, "red": 3}
    # The API may move between the two reads; the banner must match one of them, never a recomputed level.
    matches = []
    for alerts in (before, after):
        top = max(rank.get(a["level"], 0) for a in alerts)
        deciders = {a["owner"]["name"] for a in alerts if rank.get(a["level"], 0) == top}
        level = next(k for k, v in rank.items() if v == top)
        matches.append(banner.group(1) == level and any(d in banner.group(2) for d in deciders))
    assert any(matches), (banner.groups(), before, after)
    assert re.search(r"\d+(秒|分\d\d秒) 无人确认|已由 .* 确认", html)


def test_walls_each_with_its_own_tiles_and_url(monkeypatch, night):
    at = board_app(monkeypatch, night.base, night.config, kiosk=True)
    at.query_params["wall"] = "business"
    at.run()
    assert list(tiles_in(at)) == night.raw["walls"]["business"]["metrics"]
    at.query_params["wall"] = "nope"
    at.run()
    assert any("nope" in w.value for w in at.warning)
    assert list(tiles_in(at)) == night.raw["walls"]["tech"]["metrics"]


def test_phone_view_shows_one_persons_alerts_and_the_banner(monkeypatch, night):
    at = board_app(monkeypatch, night.base, night.config)
    at.switch_page("pages/phone.py")
    at.query_params["role"] = "ops_lead"
    at.run()
    assert not at.exception, at.exception
    html = page_html(at)
    assert "data-decision=" in html and "李娜 · 运营负责人 的告警" in html and "js-plotly-plot" not in html
    assert not at.get("plotly_chart")
    shown = set(re.findall(r'wr-phone-card" data-alert="(\d+)"', html))
    alerts = api(night, "/api/v1/alerts", state="active")["alerts"]
    mine = {str(a["id"]) for a in alerts if "ops_lead" in ((a["owner"] or {}).get("role"),
                                                        (a["escalated_to"] or {}).get("role"))}
    others = {str(a["id"]) for a in alerts} - mine
    assert not shown & others, (shown, others)
    assert shown or 'data-phone-none="1"' in html


def test_busy_board_slows_secondary_viewers_with_a_note_never_the_kiosk_wall(monkeypatch, night):
    from app import session

    at = board_app(monkeypatch, night.base, night.config)
    hub = session.hub()  # the same process-wide hub the page uses (same API, token and period)
    try:
        hub.load = 0.9
        html = page_html(at.run())
        assert 'data-viewer-note="slow"' in html and "每 3 秒刷新" in html
        kiosk = board_app(monkeypatch, night.base, night.config, kiosk=True)
        assert "data-viewer-note" not in page_html(kiosk)
        hub.load = 0.0  # a fetch blends in at most 0.3 of this process's CPU: still below the calm line
        assert "data-viewer-note" not in page_html(at.run())
    finally:
        hub.load = 0.0


def test_wall_sparklines_are_one_small_figure_per_tile(monkeypatch, night):
    at = board_app(monkeypatch, night.base, night.config)
    charts = at.get("plotly_chart")
    assert len(charts) == len(night.raw["walls"]["tech"]["metrics"])
    sizes = [len(c.proto.spec) for c in charts]
    # One chart refresh ships every sparkline: well under the 200 KB per refresh.
    assert sum(sizes) < 100_000, sizes
    spec = json.loads(charts[3].proto.spec)  # order_success
    assert spec["data"][0]["y"] and any(s["type"] == "rect" for s in spec["layout"]["shapes"])


def test_wall_tiles_refresh_from_the_api_on_each_run(monkeypatch, night):
    at = board_app(monkeypatch, night.base, night.config)
    before = re.search(r'data-metric="orders_total".*?wr-value">([^<]+)', page_html(at)).group(1)
    wait_for(lambda: api(night, "/api/v1/board")["tiles"][5]["value"] != float(before.replace(",", "")), 20,
             "the order count to move")
    # Sessions share one snapshot per period: the new count shows within a period or so, not necessarily at once.
    def moved() -> bool:
        return re.search(r'data-metric="orders_total".*?wr-value">([^<]+)', page_html(at.run())).group(1) != before
    wait_for(moved, 5, "the wall to show the new count")


def test_unreachable_daemon_says_so_and_since_when(monkeypatch, night):
    at = board_app(monkeypatch, f"http://127.0.0.1:{free_port()}", night.config)
    assert not at.exception
    html = page_html(at)
    assert 'data-banner="down"' in html and "无法连接监控守护进程" in html and "connection refused" in html
    assert "data-metric" not in html, "nothing pretends to be live"


def test_daemon_lost_after_a_good_answer_turns_every_tile_grey(monkeypatch, night):
    at = board_app(monkeypatch, night.base, night.config)
    assert tiles_in(at)["orders_total"][0] == "green"
    monkeypatch.setenv("WARROOM_API", f"http://127.0.0.1:{free_port()}")
    at.run()
    html = page_html(at)
    assert 'data-banner="down"' in html and "以下数值不是实时数据" in html
    assert {level for level, _ in tiles_in(at).values()} == {"stale"}


def test_metric_detail_page_has_bands_alert_spans_and_window_picker(monkeypatch, night):
    at = board_app(monkeypatch, night.base, night.config)
    at.switch_page("pages/metric_detail.py").run()
    assert not at.exception, at.exception
    # The campaign so far by default; the metric now, at the top: value, level and who decides.
    assert at.radio(key="wr-detail-window").value == "campaign"
    at.selectbox(key="wr-detail-metric").set_value("order_success").run()
    tile = next(t for t in api(night, "/api/v1/board")["tiles"] if t["metric"] == "order_success")
    headline = next(h.value for h in at.html if 'data-headline="order_success"' in h.value)
    assert f'data-level="{tile["level"]}"' in headline and LEVEL_WORDS[tile["level"]] in headline
    assert "决策人" in headline and tile["owner"]["name"] in headline and "%" in headline
    at.radio(key="wr-detail-window").set_value("15m").run()
    assert not at.exception, at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    layout = spec["layout"]
    assert {"#ff3b3b", "#ff8c1a", "#f5c518"} <= {s.get("fillcolor") for s in layout["shapes"]}
    alerts = [a for a in api(night, "/api/v1/alerts", state="all")["alerts"] if a["metric"] == "order_success"]
    assert alerts
    labels = " ".join(a["text"] for a in layout.get("annotations", []))
    assert f"#{min(a['id'] for a in alerts)}" in labels


def test_alerts_page_read_only_without_token(monkeypatch, night):
    at = board_app(monkeypatch, night.base, night.config)
    at.switch_page("pages/alerts_decisions.py").run()
    assert not at.exception, at.exception
    assert any("WARROOM_TOKEN" in w.value for w in at.warning)
    assert 'data-alert="' in page_html(at)
    submits = [b for b in at.button if "FormSubmitter" in (b.id or "")]
    assert submits and all(b.disabled for b in submits)
    row_acks = [b for b in at.button if (b.key or "").startswith("wr-ack-")]
    assert row_acks and all(b.disabled for b in row_acks)


def test_alerts_page_speaks_the_configured_language_and_shows_value_and_threshold(monkeypatch, night):
    at = board_app(monkeypatch, night.base, night.config)
    at.switch_page("pages/alerts_decisions.py").run()
    assert not at.exception, at.exception
    html = page_html(at)
    assert html.count('data-value="1"') >= 2 and "当前值" in html and ("阈值 ≥" in html or "阈值 ≤" in html)
    english = {"time", "event", "level", "role", "person", "channel", "ok", "detail", "metric", "peak", "state",
               "opened", "resolved", "acked by", "escalated to", "delivery failed", "kind", "author", "alert", "text"}
    frames = [df.value for df in at.dataframe]
    assert frames
    for frame in frames:
        assert not english & {str(c) for c in frame.columns}, list(frame.columns)
        for column in ("事件", "状态", "类型"):
            if column in frame.columns:
                assert not {"opened", "notify", "open", "resolved", "decision"} & set(frame[column]), frame[column]


def test_with_the_board_token_but_nobody_signed_in_nothing_acts_and_the_page_says_how(monkeypatch, night):
    # The board holds the board token, but a visitor who has not signed in acts as nobody: there is no role
    # to pick any more, every action is disabled, and the page says to open a personal link. Signed-in people
    # acting are tested in a real browser (tests/app/test_people_chromium.py), where the cookie exists.
    at = board_app(monkeypatch, night.base, night.config, token=TOKEN)
    at.switch_page("pages/alerts_decisions.py").run()
    assert not at.exception, at.exception
    assert not [s for s in at.selectbox if (s.key or "").startswith(("wr-ack-by-", "wr-dec-role"))]
    acks = [b for b in at.button if (b.key or "").startswith("wr-ack-")]
    submits = [b for b in at.button if "FormSubmitter" in (b.id or "")]
    assert acks and submits and all(b.disabled for b in acks + submits)
    assert any("登录链接" in i.value for i in at.info) and 'data-alert-actions="none"' in page_html(at)
    with pytest.raises(Exception, match="disabled"):
        at.button(key=acks[0].key).click()  # as in a browser: a disabled control cannot be used


def test_run_sheet_step_marked_done_at_the_trusted_wall(monkeypatch, night):
    # The shipped tech wall is trusted (walls.tech.actions): its kiosk marks steps, recorded as done at the wall.
    at = board_app(monkeypatch, night.base, night.config, token=TOKEN, kiosk=True)
    button = at.button(key="wr-done-0")
    assert not button.disabled
    button.click().run()
    assert not at.exception, at.exception
    # One tap records nothing: it asks to confirm, and nobody is asked to pick a role.
    assert not api(night, "/api/v1/runsheet")["steps"][0]["done"]
    assert not [s for s in at.selectbox if (s.key or "").startswith("wr-confirm-by-")]
    at.button(key="wr-confirm-0").click().run()
    assert not at.exception, at.exception
    step = api(night, "/api/v1/runsheet")["steps"][0]
    assert step["done"] and step["done_by"] is None and step["done_via"] == "wall:tech"
    at.run()
    assert "在大屏上完成" in page_html(at)
    at.button(key="wr-undo-0").click().run()
    assert not at.exception, at.exception
    assert not api(night, "/api/v1/runsheet")["steps"][0]["done"]
    kinds = [n["kind"] for n in api(night, "/api/v1/annotations", **{"from": "-1h"})["annotations"]]
    assert kinds[-2:] == ["runsheet", "runsheet_undo"]
    # Cancel leaves the step as it was.
    at.run().button(key="wr-done-0").click().run()
    at.button(key="wr-cancel-0").click().run()
    assert not at.exception and not api(night, "/api/v1/runsheet")["steps"][0]["done"]
    assert at.button(key="wr-done-0")
