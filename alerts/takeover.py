"""High availability seen from the engine: a node taking the lease, a node losing it, a follower's mirror.

Taking the lease is a restart without the restart: the node's own file has just caught up with the
shared alert log (warroom.daemon.shared_log), so the engine reloads open alerts, silences and stand-ins
from it and resumes exactly the deliveries whose fate is unknown, each marked as resent after failover,
with the attempts already used. Escalations are not resumed by hand: the reloaded alerts carry their
ack clocks, so the next tick escalates what is due and waits for what is not.
A node losing the lease stops sending at once (its pager holds) before anyone else can start.
"""

from __future__ import annotations

import logging
from typing import Any

from alerts.levels import LevelState
from alerts.log import Alert
from warroom.store.backlog import RecordRow
from warroom.values import Level

# The engine imports this module (its start reloads through load_open), so it is not imported back here.
AlertEngine = Any

log = logging.getLogger("warroom.alerts")


def load_open(engine: AlertEngine) -> None:
    """The engine's open alerts and their levels, from its alert log."""
    engine.open.clear()
    for alert in engine.log.open_alerts():
        engine.open[(alert.metric, alert.kind)] = alert
        if alert.kind == "level":
            engine.states[alert.metric] = LevelState(alert.level)


def take_over(engine: AlertEngine, previous: str | None) -> int:
    """This node now leads: reload from its file and resume unconfirmed deliveries; how many were resent."""
    with engine._lock:
        seen = dict(engine.states)  # what this node's own samples said while it followed
        engine.log.reload()
        engine.silences.reload()
        engine.roster.reload()
        load_open(engine)
        engine.dispatch.forget_trips()
        engine.pager.release()
        resent = engine.dispatch.resume(list(engine.open.values()), resent=f"after {previous or 'another node'}")
        acted = act_on_what_was_seen(engine, seen)
    log.warning("took over paging: %d open alert(s), %d unconfirmed page(s) resent, %d level(s) acted on "
                "that the old leader never did", len(engine.open), resent, acted)
    return resent


def act_on_what_was_seen(engine: AlertEngine, seen: dict[str, LevelState]) -> int:
    """Levels this node's samples reached while it followed and the shared log does not hold: act on them now.

    A breach pushed (or polled) just as the leader died was seen by this node and decided by nobody;
    waiting for the metric's next sample could be minutes for a pushed metric, so it is paged at takeover.
    """
    now = engine.clock()
    acted = 0
    for metric, state in seen.items():
        view = engine.snapshot.get(metric)
        if view is None or view.value is None or view.stale or engine._watch_ended(metric, now):
            continue
        alert = engine.open.get((metric, "level"))
        held = alert.level if alert is not None else Level.GREEN
        if state.level == held:
            continue
        engine.states[metric] = state
        engine._follow(metric, alert, state.level, now, view.value)
        acted += 1
    return acted


def step_down(engine: AlertEngine) -> int:
    """This node no longer leads: nothing more leaves it; how many queued pages were dropped (the leader resumes)."""
    return engine.pager.hold()


def follow_mirror(engine: AlertEngine, rows: list[RecordRow]) -> None:
    """A follower's wall reads the shared log: alerts, silences and stand-ins another node wrote."""
    tables = {row.table for row in rows}
    with engine._lock:
        for row in rows:
            if row.table == "alerts":
                alert = Alert.from_row(row.values)
                engine.log.mirror(alert)
                key = (alert.metric, alert.kind)
                if alert.state == "resolved":
                    if key in engine.open and engine.open[key].id == alert.id:
                        del engine.open[key]
                else:
                    engine.open[key] = alert
            elif row.table == "alert_events":
                engine.log.mirror_event(row.values[9], row.values[2])
    if "silences" in tables:
        engine.silences.reload()
    if "duty" in tables:
        engine.roster.reload()
