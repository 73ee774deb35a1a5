"""A table of broken configs: each is refused by `warroom validate` with exit 2 and the key path that is wrong."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from warroom.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
GOOD_TEXT = (ROOT / "config.yaml").read_text(encoding="utf-8")


def edit(change: Callable[[dict[str, Any]], Any]) -> Callable[[], bytes]:
    """The shipped config with one change, as file bytes."""

    def make() -> bytes:
        raw = copy.deepcopy(BASE)
        change(raw)
        return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False).encode()

    return make


def text(body: str | bytes) -> Callable[[], bytes]:
    """A file with exactly these contents."""
    return lambda: body.encode() if isinstance(body, str) else body


def put(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set a dotted key path (list indexes as numbers) to value."""

    def change(raw: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = raw
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """Several changes at once."""
    return lambda raw: [c(raw) for c in changes]


def drop(path: str) -> Callable[[dict[str, Any]], None]:
    """Delete a dotted key path."""

    def change(raw: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = raw
        for key in parents:
            node = node[key]
        del node[last]

    return change


def second_writer(raw: dict[str, Any]) -> None:
    raw["collectors"].append({"type": "json", "name": "orders_again", "url": "http://127.0.0.1:9/x",
                              "fields": {"orders_total": "n"}})


CASES: list[tuple[str, Callable[[], bytes], list[str]]] = [
    # --- the file itself
    ("binary", text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))), ["binary"]),
    ("utf16_bom", text(GOOD_TEXT.encode("utf-16")), ["UTF-16"]),
    ("utf16_no_bom", text(GOOD_TEXT.encode("utf-16-le")), ["UTF-16"]),
    ("utf32", text(GOOD_TEXT.encode("utf-32")), ["UTF-32"]),
    # the bad byte is on the file's last line: the message names that line (whatever config.yaml's length)
    ("latin1", text(GOOD_TEXT.encode("utf-8") + "\n# caf\xe9\n".encode("latin-1")),
     ["not UTF-8", f"line {GOOD_TEXT.count(chr(10)) + 2}:"]),
    ("empty", text(""), ["(top level)"]),
    ("top_level_list", text("- campaign\n- people\n"), ["(top level)"]),
    ("bad_yaml", text("campaign: {name: x\npeople: [\n"), ["line ", "not valid YAML"]),
    ("deep_nesting", text("a: " + "[" * 1200 + "]" * 1200 + "\n"), ["YAML"]),
    ("dup_top_level", text(GOOD_TEXT + "\ncampaign: {name: again, end: '+1h'}\n"),
     ["duplicate key 'campaign'", "first at line 5"]),
    ("dup_nested", text(GOOD_TEXT.replace("    yellow: 80\n    orange: 90\n", "    yellow: 80\n    yellow: 85\n"
                                          "    orange: 90\n", 1)), ["duplicate key 'yellow'", "first at line"]),
    # --- campaign
    ("no_campaign", edit(drop("campaign")), ["campaign: Field required"]),
    ("end_before_start", edit(both(put("campaign.start", "2024-11-11T23:00:00+08:00"),
                                   put("campaign.end", "2024-11-11T22:00:00+08:00"))), ["campaign.end", "not after"]),
    ("end_equals_start", edit(both(put("campaign.start", "+10m"), put("campaign.end", "+10m"))), ["campaign.end"]),
    ("end_overflows", edit(put("campaign.end", "+99999999999999d")), ["campaign.end", "too far"]),
    ("start_garbage", edit(put("campaign.start", "tonight")), ["campaign.start", "ISO-8601"]),
    ("bad_timezone", edit(put("campaign.timezone", "Mars/Olympus")), ["campaign.timezone"]),
    ("locale", edit(put("campaign.locale", "fr")), ["campaign.locale"]),
    ("kpi_target", edit(put("campaign.kpi.target", -1)), ["campaign.kpi.target"]),
    ("kpi_metric", edit(put("campaign.kpi.metric", "orders_totl")), ["campaign.kpi.metric"]),
    ("runsheet_owner", edit(put("campaign.run_sheet.0.owner", "ceo")), ["campaign.run_sheet[0].owner"]),
    ("runsheet_at", edit(put("campaign.run_sheet.1.at", "soon")), ["campaign.run_sheet[1].at"]),
    # --- misspelled keys
    ("typo_top", edit(lambda r: r.__setitem__("metircs", r.pop("metrics"))), ["metircs", "did you mean 'metrics'"]),
    ("typo_metric", edit(put("metrics.server_cpu.yelow", 70)), ["metrics.server_cpu.yelow",
                                                                 "did you mean 'yellow'"]),
    ("typo_collector", edit(put("collectors.0.intervall", "2s")),
     ['collectors[0] (http "h5_order_page"): intervall', "did you mean 'interval'"]),
    ("typo_server", edit(put("server", {"prot": 1})), ["server.prot", "did you mean 'port'"]),
    ("typo_person", edit(put("people.ops_lead.phnoe", "1")), ["people.ops_lead.phnoe", "did you mean 'phone'"]),
    ("typo_kpi", edit(put("campaign.kpi.titel", "x")), ["campaign.kpi.titel", "did you mean 'title'"]),
    # --- people and levels
    ("role_case", edit(lambda r: r["people"].__setitem__("OpsLead", {"name": "x"})), ["people", "OpsLead"]),
    ("person_name", edit(drop("people.ops_lead.name")), ["people.ops_lead.name"]),
    ("channel_scheme", edit(put("people.ops_lead.channels", ["nope://x"])), ["people.ops_lead.channels[0]"]),
    ("channels_not_list", edit(put("people.ops_lead.channels", 5)), ["people.ops_lead.channels"]),
    ("level_owner", edit(put("levels.red.owner", "ceo")), ["levels.red.owner", "'ceo'"]),
    ("ack_timeout", edit(put("levels.yellow.ack_timeout", "0s")), ["levels.yellow.ack_timeout"]),
    ("escalate_to", edit(put("levels.orange.escalate_to", "cfo")), ["levels.orange.escalate_to"]),
    ("no_data_owner", edit(put("alerts.no_data_owner", "nobody")), ["alerts.no_data_owner"]),
    ("max_failures", edit(put("alerts.max_delivery_failures", 0)), ["alerts.max_delivery_failures"]),
    ("forward_url", edit(put("alerts.forward", ["alertmanager://"])), ["alerts.forward[0]"]),
    # --- metrics
    ("threshold_order", edit(put("metrics.order_success.red", 99)), ["metrics.order_success", "red (99)"]),
    ("direction", edit(put("metrics.server_cpu.direction", "sideways")), ["metrics.server_cpu.direction"]),
    ("threshold_type", edit(put("metrics.server_cpu.yellow", "high")), ["metrics.server_cpu.yellow"]),
    ("metric_name", edit(lambda r: r["metrics"].__setitem__("Server CPU", {"title": "x", "yellow": 1})),
     ["metrics", "Server CPU"]),
    ("no_threshold", edit(both(drop("metrics.server_cpu.yellow"), drop("metrics.server_cpu.orange"),
                               drop("metrics.server_cpu.red"))), ["metrics.server_cpu", "no yellow"]),
    ("unwritten", edit(put("metrics.refunds", {"title": "Refunds", "yellow": 5})), ["metrics.refunds",
                                                                                      "no collector writes"]),
    ("metric_owner", edit(put("metrics.server_cpu.owner", {"red": "cto"})), ["metrics.server_cpu.owner.red"]),
    ("decimals", edit(put("metrics.server_cpu.decimals", 9)), ["metrics.server_cpu.decimals"]),
    # --- collectors and server
    ("collector_type", edit(put("collectors.1.type", "snmp")), ['collectors[1] (snmp "app_servers")']),
    ("collector_dup", edit(put("collectors.3.name", "orders")), ['collectors[3] (json "orders"): name: duplicate']),
    ("collector_urls", edit(drop("collectors.0.urls")), ['collectors[0] (http "h5_order_page"): urls']),
    ("collector_interval", edit(put("collectors.0.interval", "5 parsecs")), ["interval", "5 parsecs"]),
    ("collectors_map", edit(put("collectors", {"a": 1})), ["collectors"]),
    ("two_writers", edit(second_writer), ['collectors[5] (json "orders_again")', "also writes"]),
    ("port", edit(put("server", {"port": 70000})), ["server.port"]),
    ("tick", edit(put("server", {"tick": "10s"})), ["server.tick"]),
    ("demo_port", edit(put("demo", {"port": 0})), ["demo.port"]),
    ("missing_env", edit(put("people.ops_lead.phone", "${NO_SUCH_PHONE_VAR}")),
     ["people.ops_lead.phone", "NO_SUCH_PHONE_VAR"]),
    # --- several at once: none hides another
    ("all_at_once", edit(both(put("campaign.timezone", "Nowhere/Land"), put("levels.red.owner", "ceo"),
                              put("metrics.server_cpu.yelow", 70), put("collectors.0.interval", "soon"))),
     ["campaign.timezone", "levels.red.owner", "metrics.server_cpu.yelow", "collectors[0]"]),
]


@pytest.mark.parametrize(("name", "make", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_broken_config_is_refused_naming_its_key(tmp_path, capsys, name, make, expected):
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(make())
    with pytest.raises(SystemExit) as done:
        main(["validate", "-c", str(path)])
    err = capsys.readouterr().err
    assert done.value.code == 2, err
    assert "Traceback" not in err
    for part in expected:
        assert part in err, f"{part!r} not in:\n{err}"


def test_the_table_is_long_enough():
    assert len(CASES) >= 40


def test_a_missing_file_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["validate", "-c", str(tmp_path / "nope.yaml")])
    assert done.value.code == 2 and "cannot read" in capsys.readouterr().err
