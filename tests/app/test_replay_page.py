"""The replay page under AppTest against an archive served read-only: the wall as it was, steps, play, timeline."""

from __future__ import annotations

import re
from datetime import timedelta
from html import escape
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.daemon_kit import ROOT
from tests.warroom.record.kit import at, queue_config, recorded_night
from warroom.archive.replay import archive_app, open_archive
from warroom.daemon.daemon import ApiServer, bind_socket

ENTRY = str(ROOT / "app" / "wall.py")


@pytest.fixture(scope="module")
def archive_api(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replay-page")
    recorded_night(folder / "n.duckdb", queue_config()).close()
    archive = open_archive(folder / "n.duckdb")
    api = ApiServer(archive_app(archive), bind_socket("127.0.0.1", 0))
    api.start()
    yield f"http://127.0.0.1:{api.port}"
    api.stop()
    archive.close()


def replay_page(monkeypatch, api: str, moment: str | None = None) -> AppTest:
    monkeypatch.setenv("WARROOM_API", api)
    monkeypatch.delenv("WARROOM_CONFIG", raising=False)
    monkeypatch.delenv("WARROOM_TOKEN", raising=False)
    app = AppTest.from_file(ENTRY, default_timeout=30)
    if moment:
        app.query_params["at"] = moment
    app.run()
    return app.switch_page("pages/replay.py").run()


def html(app: AppTest) -> str:
    return "\n".join(h.value for h in app.html)


def replayed_at(app: AppTest) -> str:
    return re.search(r'data-replay-at="([^"]+)"', html(app)).group(1)


def tile(app: AppTest, metric: str) -> tuple[str, str]:
    m = re.search(rf'data-metric="{metric}" data-level="([a-z]+)">.*?class="wr-value">([^<]*)<', html(app), re.S)
    return m.group(1), m.group(2)


def test_the_moment_in_the_address_is_the_wall_as_it_was(monkeypatch, archive_api):
    app = replay_page(monkeypatch, archive_api, at(115).isoformat())
    assert not app.exception, app.exception
    assert replayed_at(app) == at(115).isoformat()
    page = html(app)
    assert "◀◀ REPLAY" in page and "2024-11-11 23:01:55" in page  # the replayed time in the campaign's zone
    assert tile(app, "queue") == ("red", "47.0")
    assert 'data-alerts="1"' in page and "Wang" in page  # the alerts strip as it stood
    assert app.query_params["at"] == at(115).isoformat()
    assert 'data-decision="red"' in page  # the decision banner, as the wall drew it then
    # every tile's sparkline (the thirty minutes before the moment), then the timeline
    assert [c.key for c in app.get("plotly_chart")] == ["wr-spark-0", "wr-spark-1", "wr-rp-timeline"]


def test_step_buttons_and_play(monkeypatch, archive_api):
    app = replay_page(monkeypatch, archive_api, at(95).isoformat())
    assert tile(app, "queue") == ("green", "5.0")
    app.button(key="wr-rp-step10").click().run()
    assert replayed_at(app) == at(105).isoformat() and tile(app, "queue") == ("red", "60.0")
    app.button(key="wr-rp-step-60").click().run()
    assert replayed_at(app) == at(45).isoformat()
    app.session_state["wr_rp_speed"] = 1
    app.button(key="wr-rp-play").click().run()
    app.session_state["wr_rp_tick"] = app.session_state["wr_rp_tick"] - 3  # 3 s of real time at 1x
    app.run()
    moved = replayed_at(app)
    assert at(47).isoformat() < moved < at(90).isoformat() and "▶" in html(app)
    app.button(key="wr-rp-play").click().run()
    assert "❚❚" in html(app)


def test_the_slider_moves_the_moment(monkeypatch, archive_api):
    app = replay_page(monkeypatch, archive_api, at(95).isoformat())
    slider = app.slider(key="wr-rp-slider")
    slider.set_value(slider.value + timedelta(seconds=40)).run()
    assert replayed_at(app) == at(135).isoformat() and tile(app, "queue")[0] == "green"


def test_timeline_rows_and_markers(monkeypatch, archive_api):
    app = replay_page(monkeypatch, archive_api, at(95).isoformat())
    spec = next(c for c in app.get("plotly_chart") if c.key == "wr-rp-timeline").proto.spec
    assert "Queue" in spec and "switch to the backup servers" in spec and "acked" in spec
    assert Path(ENTRY).exists()


def test_after_pausing_the_slider_can_go_back_to_a_moment_play_went_past(monkeypatch, archive_api):
    app = replay_page(monkeypatch, archive_api, at(95).isoformat())
    app.session_state["wr_rp_speed"] = 1
    app.button(key="wr-rp-play").click().run()
    app.session_state["wr_rp_tick"] = app.session_state["wr_rp_tick"] - 3
    app.run()
    app.button(key="wr-rp-play").click().run()  # pause
    slider = app.slider(key="wr-rp-slider")
    slider.set_value(slider.value - timedelta(seconds=2)).run()
    assert replayed_at(app) < at(99).isoformat() and "❚❚" in html(app)


@pytest.mark.parametrize("asked", ["garbage", "<b>x</b>", "2024-13-45"])
def test_an_unreadable_moment_is_a_plain_note_not_a_traceback(monkeypatch, archive_api, asked):
    app = replay_page(monkeypatch, archive_api, asked)
    assert not app.exception, app.exception
    page = html(app)
    assert "Traceback" not in page and "File \"" not in page and ".py" not in page
    note = re.search(r'data-replay-problem="1">([^<]*)<', page).group(1)
    assert "Cannot read at=" in note and escape(asked) in note
    assert replayed_at(app) == at(1).isoformat()  # the start of the record (its first sample)
    assert tile(app, "queue") == ("green", "5.0")


def test_now_and_minus_two_minutes_mean_what_they_say(monkeypatch, archive_api):
    app = replay_page(monkeypatch, archive_api, "now")
    assert replayed_at(app) == at(170).isoformat() and 'data-replay-problem' not in html(app)  # the last sample
    app = replay_page(monkeypatch, archive_api, "-1m")
    assert replayed_at(app) == at(110).isoformat() and tile(app, "queue") == ("red", "47.0")
