"""Config loading: the shipped config is valid, and each kind of mistake names its key path."""

import copy
from pathlib import Path

import pytest
import yaml

from warroom.config.load import ConfigError, load_config, parse_config
from warroom.durations import format_duration, parse_duration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def raw():
    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


def problems(raw, env=None):
    with pytest.raises(ConfigError) as err:
        parse_config(raw, "test.yaml", env=env or {})
    return err.value.problems


def test_shipped_config_is_valid():
    loaded = load_config(ROOT / "config.yaml", env={})
    cfg = loaded.config
    assert cfg.levels.owner_role(__import__("alerts.levels").levels.Level.RED) == "general_manager"
    assert "response_time" in cfg.metrics
    assert loaded.summary().startswith(str(ROOT / "config.yaml"))


def test_unknown_key_is_named_with_its_path(raw):
    raw["metrics"]["server_cpu"]["yelow"] = 70
    assert problems(raw) == ["metrics.server_cpu.yelow: unknown key (did you mean 'yellow'?)"]


def test_collector_error_names_index_type_and_name(raw):
    del raw["collectors"][0]["urls"]
    (line,) = problems(raw)
    assert line.startswith('collectors[0] (http "h5_order_page"): urls: ')
    assert "required" in line.lower()


def test_unknown_collector_type_lists_the_known_ones(raw):
    raw["collectors"][1]["type"] = "snmp"
    (line,) = problems(raw)
    assert line.startswith('collectors[1] (snmp "app_servers"):')
    assert "'http'" in line and "'postgres'" in line


def test_bad_duration_names_the_text(raw):
    raw["collectors"][0]["interval"] = "5 parsecs"
    (line,) = problems(raw)
    assert line.startswith('collectors[0] (http "h5_order_page"): interval:')
    assert "5 parsecs" in line


def test_every_problem_is_reported_at_once(raw):
    raw["metrics"]["server_cpu"]["direction"] = "sideways"
    raw["server"]["port"] = 70000
    lines = problems(raw)
    assert len(lines) == 2
    assert any(x.startswith("metrics.server_cpu.direction:") for x in lines)
    assert any(x.startswith("server.port:") for x in lines)


def test_thresholds_must_get_worse_in_the_metric_direction(raw):
    raw["metrics"]["order_success"]["red"] = 99
    (line,) = problems(raw)
    assert line.startswith("metrics.order_success:") and "red (99) must be <= orange (90)" in line


def test_level_owner_must_be_a_person(raw):
    raw["levels"]["red"]["owner"] = "ceo"
    assert problems(raw) == ["levels.red.owner: role 'ceo' is not in people (tech_lead, ops_lead, "
                             "general_manager, deputy_gm, dba)"]


def test_metric_nobody_writes_is_an_error(raw):
    raw["metrics"]["queue_depth"] = {"title": "Queue", "yellow": 10}
    assert problems(raw) == ["metrics.queue_depth: no collector writes it (add one, or set pushed: true)"]
    raw["metrics"]["queue_depth"]["pushed"] = True
    parse_config(raw, env={})


def test_walls_name_known_metrics_once(raw):
    raw["walls"] = {"tech": {"metrics": ["response_time", "nope", "response_time"], "health": ["host_cpu"]},
                    "Big Wall": {"metrics": ["orders_total"]}}
    lines = problems(raw)
    assert any(x.startswith("walls: ") and "'Big Wall'" in x for x in lines), lines
    del raw["walls"]["Big Wall"]
    assert problems(raw) == ["walls.tech.metrics[1]: unknown metric 'nope'",
                             "walls.tech.metrics[2]: 'response_time' is already on this wall"]


def test_shipped_walls(raw):
    cfg = parse_config(raw, env={}).config
    assert set(cfg.walls) == {"tech", "business"}
    assert cfg.walls["tech"].health == ["host_cpu"] and "host_cpu" not in cfg.walls["tech"].metrics


def test_duplicate_collector_names(raw):
    raw["collectors"].append(copy.deepcopy(raw["collectors"][0]))
    lines = problems(raw)
    assert any(x.startswith('collectors[5] (http "h5_order_page"): name: duplicate of collectors[0]') for x in lines)


def test_missing_environment_variable_names_variable_and_key(raw):
    raw["people"]["ops_lead"]["phone"] = "${OPS_PHONE}"
    assert problems(raw) == ["people.ops_lead.phone: environment variable OPS_PHONE is not set"]


def test_environment_values_are_substituted_and_masked(raw):
    raw["collectors"][0]["urls"][0]["url"] = "http://127.0.0.1:8780/h5/order?key=${H5_KEY}"
    loaded = parse_config(raw, env={"H5_KEY": "s3cr3t-value"})
    assert loaded.config.collectors[0].urls[0].url.endswith("key=s3cr3t-value")
    assert loaded.mask("GET ...?key=s3cr3t-value failed") == "GET ...?key=*** failed"


def test_default_from_environment_syntax(raw):
    raw["server"]["host"] = "${WARROOM_HOST:-127.0.0.1}"
    assert parse_config(raw, env={}).config.server.host == "127.0.0.1"


def test_per_metric_owner_override(raw):
    from warroom.values import Level

    cfg = parse_config(raw, env={}).config
    assert cfg.owner_role("db_connections", Level.YELLOW) == "dba"
    assert cfg.owner_role("db_connections", Level.RED) == "general_manager"
    assert cfg.owner_role("server_cpu", Level.YELLOW) == "tech_lead"


def test_not_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("campaign: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_config(bad, env={})
    assert "not valid YAML" in err.value.problems[0] and "line" in err.value.problems[0]
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "nope.yaml", env={})
    assert "cannot read" in err.value.problems[0]


@pytest.mark.parametrize(("text", "seconds"), [("500ms", 0.5), ("5s", 5), ("2m", 120), ("1h30m", 5400), (3, 3)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "5 s", "-1s", "1x", True])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration():
    assert [format_duration(s) for s in (0.25, 5, 150, 3900)] == ["250ms", "5s", "2m30s", "1h05m"]
