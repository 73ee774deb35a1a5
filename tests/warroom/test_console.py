"""The tokens `warroom up` keeps: generated once, readable by their owner only, never printed."""

from __future__ import annotations

import stat

from warroom.cli.tokens import board_token, ensure_tokens, tokens_path
from warroom.config.load import parse_config


def loaded_in(tmp_path):
    people = {r: {"name": r} for r in ("tech_lead", "ops_lead", "general_manager")}
    raw = {"campaign": {"name": "n", "end": "+1h"}, "people": people,
           "collectors": [],
           "metrics": {"x": {"title": "X", "yellow": 1, "pushed": True}},
           "server": {"database": str(tmp_path / "data" / "night.duckdb")}}
    return parse_config(raw, env={})


def test_up_keeps_its_tokens_in_a_private_file_and_ack_finds_them(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("WARROOM_TOKEN", raising=False)
    monkeypatch.delenv("WARROOM_ACK_SECRET", raising=False)
    loaded = loaded_in(tmp_path)
    path, made = ensure_tokens(loaded)
    assert path == tokens_path(loaded) and made == ["WARROOM_TOKEN", "WARROOM_ACK_SECRET"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = board_token(loaded)
    assert len(token) >= 24 and token not in capsys.readouterr().out
    # a restart keeps them, so yesterday's ack links still work
    monkeypatch.delenv("WARROOM_TOKEN")
    monkeypatch.delenv("WARROOM_ACK_SECRET")
    assert ensure_tokens(loaded)[1] == [] and board_token(loaded) == token
