"""Secrets written literally in config.yaml never reach the recorded config (issue 18 item 6).

Tokens written into the file itself (a DingTalk token, a URL password, a header key) were stored
unmasked in `campaigns.config_snapshot`; only values from `${ENV}` were masked. Channels and headers
are masked the same way wherever they came from, and the archive still reads its config back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from warroom.config.channels import shown
from warroom.config.load import parse_config
from warroom.record.campaign import config_from_snapshot, open_campaign

LITERAL = {
    "dingtalk token": "LITdingTOKEN0001",
    "dingtalk sign": "SECLITdingSIGN0002",
    "shift channel": "LITwecomKEY0003",
    "forward password": "LITamPASS0004",
    "json url password": "LITurlPASS0005",
    "json url token": "LITqueryTOKEN0006",
    "header key": "LIThdrKEY0007",
    "probe url password": "LITprobePASS0008",
    "scrape url token": "LITscrapeTOKEN0009",
    "postgres password": "LITpgPASS0010",
    "public url password": "LITpublicPASS0011",
    "env header": "ENVhdrSECRET0012",
    "urgent call token": "LITtwilioTOKEN0013",
    "shift urgent key": "LITpoverKEY0014",
    "level urgent topic": "LITsirenTOPIC0015",
}


def _raw() -> dict:
    s = LITERAL
    return {
        "campaign": {"name": "night", "end": "+1h", "locale": "en"},
        "people": {
            "tech_lead": {"name": "Zhang", "channels": [f"dingtalk://{s['dingtalk sign']}@{s['dingtalk token']}/"],
                          "urgent": [f"twilio://AC0123456789abcdef0123456789abcdef:{s['urgent call token']}"
                                     "@+15551234567/+8613800000001?method=call"],
                          "shifts": [{"from": "22:00", "to": "02:00", "name": "Zhou", "phone": "5",
                                      "channels": [f"wecombot://{s['shift channel']}"],
                                      "urgent": [f"pover://user0123456789@{s['shift urgent key']}/"
                                                 "?priority=emergency"]},
                                     {"from": "02:00", "to": "22:00", "name": "Zhang", "phone": "1"}]},
            "ops_lead": {"name": "Li"}, "general_manager": {"name": "Wang"}},
        "collectors": [
            {"type": "json", "name": "orders", "interval": "5s",
             "url": f"https://orders:{s['json url password']}@127.0.0.1:9/stats?day=today&token={s['json url token']}",
             "headers": {"X-Api-Key": s["header key"], "Authorization": "Bearer ${API_TOKEN}"},
             "fields": {"orders": "count"}},
            {"type": "http", "name": "probe", "metric": "page_s",
             "urls": [{"name": "home", "url": f"http://probe:{s['probe url password']}@127.0.0.1:9/"}]},
            {"type": "prometheus", "name": "node", "gauges": {"conns": "demo_db_connections"},
             "url": f"http://127.0.0.1:9/metrics?auth_token={s['scrape url token']}"},
            {"type": "postgres", "name": "db", "metric": "pg",
             "dsn": f"postgresql://warroom:{s['postgres password']}@127.0.0.1:9/shop"},
        ],
        "metrics": {name: {"title": name, "yellow": 1} for name in ("orders", "page_s.home", "conns", "pg")},
        "levels": {"red": {"owner": "general_manager",
                           "urgent": [f"ntfys://ntfy.example.com/{s['level urgent topic']}?priority=max"]}},
        "alerts": {"forward": [f"alertmanager://am:{s['forward password']}@127.0.0.1:9093"],
                   "public_url": f"https://ops:{s['public url password']}@warroom.example.com"},
        "server": {"port": 0},
    }


def test_literal_and_env_secrets_are_masked_in_the_recorded_config_which_still_reads_back(tmp_path):
    loaded = parse_config(_raw(), "literal.yaml", env={"API_TOKEN": LITERAL["env header"]})
    store, record, _ = open_campaign(tmp_path / "night.duckdb", loaded, datetime(2024, 11, 11, 15, tzinfo=UTC))
    stored = store.execute("SELECT config_snapshot FROM campaigns").fetchall()[0][0]
    store.close()
    leaked = [what for what, secret in LITERAL.items() if secret in stored]
    assert not leaked, f"in the recorded config: {leaked}"
    channel = loaded.config.people["tech_lead"].channels[0]
    assert shown(channel) in stored and "X-Api-Key" in stored and "orders:***@127.0.0.1" in stored
    assert "day=today" in stored  # what is not a credential stays as written
    back = config_from_snapshot(record.config_snapshot, "archive").config
    assert [c.name for c in back.collectors] == ["orders", "probe", "node", "db"]
    assert list(back.metrics) == ["orders", "page_s.home", "conns", "pg"]
