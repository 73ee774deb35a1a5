"""Board settings from script arguments and the environment; the token stays out of reprs."""

from __future__ import annotations

from app.settings import DEFAULT_API, load_settings


def test_arguments_win_over_environment(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("campaign: {name: x, end: '+1h', locale: zh-CN, timezone: Asia/Shanghai}\n", encoding="utf-8")
    s = load_settings(["--api", "http://127.0.0.1:9/", "--config", str(config)],
                      {"WARROOM_API": "http://elsewhere", "WARROOM_TOKEN": " tok-123 "})
    assert s.api == "http://127.0.0.1:9" and s.config_path == str(config)
    assert s.locale_hint == "zh-CN" and s.zone_hint == "Asia/Shanghai" and s.token == "tok-123"
    assert "tok-123" not in repr(s)


def test_defaults_and_refresh_limits(tmp_path):
    s = load_settings([], {})
    assert s.api == DEFAULT_API and s.token is None and (s.locale_hint, s.zone_hint) == ("en", "UTC")
    assert s.tiles_every_s == 1.0 and s.charts_every_s == 10.0
    # Tiles at least every 2 s (the ceiling); charts never more often than tiles.
    slow = load_settings(["--tiles-every", "9", "--charts-every", "0.5"], {})
    assert slow.tiles_every_s == 2.0 and slow.charts_every_s == 2.0


def test_unreadable_config_falls_back_to_english(tmp_path):
    assert load_settings(["--config", str(tmp_path / "missing.yaml")], {}).locale_hint == "en"
    bad = tmp_path / "bad.yaml"
    bad.write_text(": : :", encoding="utf-8")
    assert load_settings(["--config", str(bad)], {}).locale_hint == "en"
