"""A small recorded night written row by row, as the daemon and its engine record one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.log import Alert, AlertLog
from warroom.config.load import LoadedConfig, parse_config
from warroom.record.campaign import begin
from warroom.store.database import Store
from warroom.store.schema import to_db_ts
from warroom.values import Level, Sample

T0 = datetime(2024, 11, 11, 15, 0, tzinfo=UTC)


def queue_config(**campaign: object) -> LoadedConfig:
    """One pushed metric `queue` (yellow 10, red 50, clear band 5) and a run sheet of two steps."""
    raw = {
        "campaign": {"name": "recorded night", "start": T0.isoformat(), "end": (T0 + timedelta(hours=1)).isoformat(),
                     "locale": "en", "timezone": "Asia/Shanghai",
                     "run_sheet": [{"at": "+10m", "action": "close the entry", "owner": "ops_lead"},
                                   {"at": "+20m", "action": "close payment", "owner": "tech_lead"}], **campaign},
        "people": {"tech_lead": {"name": "Zhang", "phone": "1"}, "ops_lead": {"name": "Li", "phone": "2"},
                   "general_manager": {"name": "Wang", "phone": "3"}},
        "collectors": [],
        "metrics": {"queue": {"title": "Queue", "yellow": 10, "red": 50, "clear": 5, "pushed": True,
                              "stale_after": "30s"},
                    "calls": {"title": "Calls", "yellow": 10, "pushed": True, "stale_after": "30s"}},
        "server": {"port": 0},
    }
    return parse_config(raw, "kit", env={})


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def change(store: Store, seconds: float, metric: str, level: str, stale: bool = False, role: str | None = None,
           name: str | None = None, value: float | None = None, detail: str | None = None) -> None:
    """One level_changes row, as the engine writes it."""
    store.execute("INSERT INTO level_changes VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                  [to_db_ts(at(seconds)), metric, level, stale, role, name, value, detail])


def recorded_night(path: Path, loaded: LoadedConfig) -> Store:
    """queue: 5 (green) → 60 at 100 s (red, Wang) → 47 at 110 s (still red: clear band) → 3 at 130 s (green);
    stale from 200 s (nothing pushed after 170 s). calls: never a transition (judged on raw value)."""
    store = Store(path)
    begin(store, loaded, T0)
    store.append([Sample(at(s), "queue", v) for s, v in ((1, 5.0), (100, 60.0), (110, 47.0), (130, 3.0),
                                                          (170, 4.0))] + [Sample(at(50), "calls", 12.0)])
    change(store, 0, "queue", "green", stale=True, detail="no data yet")
    change(store, 1, "queue", "green", value=5.0)
    change(store, 100, "queue", "red", role="general_manager", name="Wang", value=60.0)
    change(store, 130, "queue", "green", value=3.0)
    change(store, 200, "queue", "green", stale=True, role="tech_lead", name="Zhang", value=4.0,
           detail="no sample for 30s")
    AlertLog(store).save(Alert(1, "queue", "level", at(100), Level.GREEN, Level.RED, "resolved", "general_manager",
                               "general_manager", at(140), "general_manager", at(105), at(160), at(160), at(100),
                               at(100), at(130), False, 3.0, 50.0, ["general_manager"], 1, Level.RED))
    for s, event, level, role, detail in ((100, "opened", "red", "general_manager", None),
                                          (100, "notify", "red", "general_manager", "opened"),
                                          (105, "escalated", "red", "general_manager", "not acknowledged within 5s"),
                                          (130, "lowered", "green", None, None),
                                          (140, "acked", "red", "general_manager", "via api"),
                                          (160, "resolved", "green", None, "green for 30s")):
        store.execute("INSERT INTO alert_events VALUES (?, 1, ?, ?, ?, NULL, NULL, NULL, ?, NULL)",
                      [to_db_ts(at(s)), event, level, role, detail])
    store.execute("INSERT INTO annotations (ts, author, role, level, alert_id, kind, text, ref) "
                  "VALUES (?, 'Wang', 'general_manager', 'red', 1, 'decision', "
                  "'switch to the backup servers', NULL)", [to_db_ts(at(120))])
    store.execute("INSERT INTO annotations (ts, author, role, level, alert_id, kind, text, ref) "
                  "VALUES (?, 'Li', 'ops_lead', NULL, NULL, 'runsheet', "
                  "'done: close the entry', 'runsheet:0')", [to_db_ts(at(150))])
    return store
