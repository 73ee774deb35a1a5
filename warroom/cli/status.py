"""`warroom status`: which node leads, since when, and whether the cluster can page, in plain words.

It reads `/api/v1/health` of every node it knows: those of `--api URL1,URL2` (else the config's own
address), then every node the answers name (`ha.nodes`, the lease store's list), all at once with a
short timeout so a hanging node never holds up the answer. What it prints comes from the nodes' own
health answers (ClusterNode.health), so it never disagrees with the wall or `/api/v1/health`.

Exit codes, for a script or a cron: 0 one node leads and nothing is degraded; 1 a node leads but the
cluster is degraded (HA degraded, a node not answering, two leaders); 2 nobody leads (or nothing answers).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests

from app.nodes import parse_bases
from warroom.cli.remote import say
from warroom.cli.startup import load_or_exit
from warroom.config.load import LoadedConfig

OK, DEGRADED, NOBODY_LEADS = 0, 1, 2
# A hanging node must not hold up the answer: each node is asked once, at the same time, this long at most.
ASK_TIMEOUT_S = 3.0
# A node the lease store lists but that does not answer counts as missing while its last heartbeat is this young;
# an older row is a node taken out of the cluster (the table keeps every name it has seen).
MISSING_WITHIN_S = 3600.0
# A cluster is two or three nodes; a health answer naming many more is not followed past this many addresses.
MAX_NODES = 16

Health = dict[str, Any] | None
Asker = Callable[[str], "tuple[Health, str | None]"]



def ask_health(base: str) -> tuple[Health, str | None]:
    """One node's /api/v1/health, or (None, why it did not answer)."""
    try:
        reply = requests.get(f"{base}/api/v1/health", timeout=ASK_TIMEOUT_S)
    except requests.RequestException as err:
        return None, type(err).__name__
    if reply.status_code != 200:
        return None, f"HTTP {reply.status_code}"
    try:
        answer = reply.json()
    except ValueError:
        return None, "not a JSON answer"
    return (answer, None) if isinstance(answer, dict) else (None, "not a health answer")


def survey(bases: list[str], ask: Asker = ask_health) -> dict[str, tuple[Health, str | None]]:
    """Every named node's health, then every node their answers name (by its url), each asked once."""
    answers: dict[str, tuple[Health, str | None]] = {}
    todo = list(bases)
    with ThreadPoolExecutor(max_workers=8) as pool:
        while todo:
            for base, answer in zip(todo, pool.map(ask, todo), strict=True):
                answers[base] = answer
            named = {str(n.get("url")).rstrip("/") for health, _ in answers.values() if health
                     for n in ((health.get("ha") or {}).get("nodes") or []) if isinstance(n, dict) and n.get("url")}
            todo = sorted(u for u in named if u not in answers and urlsplit(u).scheme in ("http", "https"))
            todo = todo[:max(0, MAX_NODES - len(answers))]
    return answers


def _at(ts: Any, zone: ZoneInfo) -> str:
    try:
        return datetime.fromisoformat(str(ts)).astimezone(zone).strftime("%H:%M:%S")
    except (TypeError, ValueError):
        return "—"


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _secs(value: Any) -> str:
    return f"{value:.1f}s" if isinstance(value, int | float) and not isinstance(value, bool) else "—"


def _beat_line(beat: dict[str, Any], zone: ZoneInfo, node: str) -> str:
    targets = ", ".join(str(t) for t in beat.get("targets") or []) or "no target"
    last = f"last beat {_at(beat['last_ok'], zone)}" if beat.get("last_ok") else "no beat taken yet"
    failed = f", last failure: {beat['last_error']}" if beat.get("last_error") else ""
    return (f"dead man's switch (from {node}): {last} · {beat.get('beats', 0)} beats, {beat.get('failures', 0)} "
            f"failed, every {_secs(beat.get('every_s'))} → {targets}{failed}")


def single_lines(base: str, health: dict[str, Any], zone: ZoneInfo) -> list[str]:
    """A node without `ha:`: its name and its own health."""
    collectors = health.get("collectors") or {}
    ok = sum(1 for c in collectors.values() if isinstance(c, dict) and c.get("ok"))
    record = health.get("record") or {}
    pager = health.get("alerts") or {}
    lines = [f"single node (no ha:): {health.get('node') or base} at {base}, warroom {health.get('version', '?')}",
             f"  up since {_at(health.get('started_at'), zone)} · collectors {ok}/{len(collectors)} ok · "
             f"{health.get('open_alerts', 0)} open alert(s) · pages sent {pager.get('pages_sent', '—')}, "
             f"queued {pager.get('pages_queued', '—')}",
             "  record: " + ("complete" if record.get("complete", True) else
                             f"INCOMPLETE since {_at(record.get('since'), zone)}")]
    if isinstance(health.get("heartbeat"), dict):
        lines.append("  " + _beat_line(health["heartbeat"], zone, str(health.get("node") or base)))
    return lines


def status_lines(answers: dict[str, tuple[Health, str | None]], zone: ZoneInfo) -> tuple[list[str], int]:
    """What `warroom status` prints and its exit code (pure: the tests feed it answers)."""
    answering = {b: h for b, (h, _) in answers.items() if h is not None}
    if not answering:
        return ([f"no node answers: {b} ({why})" for b, (_, why) in answers.items()] +
                ["nobody leads: nobody is paged"], NOBODY_LEADS)
    clustered = {b: h for b, h in answering.items() if isinstance(h.get("ha"), dict)}
    if not clustered:
        lines = [line for b, h in answering.items() for line in single_lines(b, h, zone)]
        lines += [f"{b} does not answer ({why})" for b, (h, why) in answers.items() if h is None]
        return lines, OK if len(answering) == len(answers) else DEGRADED
    has = {b: h["ha"] for b, h in clustered.items()}
    leaders = sorted(b for b, ha in has.items() if ha.get("role") == "leader")
    first = has[leaders[0]] if leaders else next(iter(has.values()))
    lines: list[str] = []
    code = OK
    if not leaders:
        code = NOBODY_LEADS
        lines.append(f"cluster {first.get('cluster')}: NO NODE LEADS (nobody is paged); the lease store says "
                     f"{first.get('leader') or 'nobody'} holds the lease")
    for b in leaders:
        ha = has[b]
        lines.append(f"cluster {ha.get('cluster')}: {ha.get('node')} leads since {_at(ha.get('leader_since'), zone)}"
                     f" · epoch {ha.get('epoch')} · lease renewed {_secs(ha.get('lease_age_s'))} ago")
    if len(leaders) > 1:
        code = DEGRADED
        lines.append(f"TWO LEADERS ({', '.join(str(has[b].get('node')) for b in leaders)}): the one with the older "
                     "epoch lost the lease and stops at its next renewal")
    # Each node's last heartbeat and lag as the lease store has them, as of the freshest answer.
    table = [n for n in (has[leaders[0]] if leaders else first).get("nodes") or [] if isinstance(n, dict)]
    for ha in has.values():  # a node that joined after the leader's last look is in its own answer
        table += [n for n in ha.get("nodes") or [] if isinstance(n, dict)
                  and n.get("node") not in {m.get("node") for m in table}]
    # A node answers under any address it was asked at (the --api list may name it differently from its ha.url).
    by_name = {str(h.get("node")): (answering[b], None) for b, h in has.items()}
    lines.append(f"  {'node':<14} {'role':<9} {'answers':<24} {'last heartbeat':<22} lag")
    shown: set[str] = set()
    for n in table:
        if not isinstance(n, dict):
            continue
        url = str(n.get("url") or "").rstrip("/")
        health, why = by_name.get(str(n.get("node"))) or answers.get(url, (None, "not asked (no url)"))
        ha = (health or {}).get("ha") or {}
        role = str(ha.get("role") or ("leader" if n.get("leader") else "follower")) if health else "—"
        age = n.get("heartbeat_age_s")
        if health is None and isinstance(age, int | float) and age < MISSING_WITHIN_S:
            code = max(code, DEGRADED)
        answer = "yes" if health else f"NO ({why})"
        lines.append(f"  {str(n.get('node')):<14} {role:<9} {answer:<24} "
                     f"{_at(n.get('last_heartbeat'), zone) + ' (' + _secs(age) + ' ago)':<22} {_secs(n.get('lag_s'))}")
        shown.add(str(n.get("node")))
    for b, (health, why) in answers.items():  # named on the command line but unknown to the lease store
        if str(((health or {}).get("ha") or {}).get("node")) not in shown and b not in {
                str(n.get("url") or "").rstrip("/") for n in table if isinstance(n, dict)}:
            if health is None:
                code = max(code, DEGRADED)
            ha = (health or {}).get("ha") or {}
            lines.append(f"  {str(ha.get('node') or b):<14} {str(ha.get('role') or '—'):<9} "
                         f"{'yes' if health else f'NO ({why})':<24} {'— (not in the lease store)':<22} —")
    takeovers = sum(_count(h.get("takeovers")) for h in has.values())
    resent = sum(_count(h.get("resent_after_failover")) for h in has.values())
    lines.append(f"takeovers {takeovers} · pages resent after failover {resent} (counted by the nodes that answer)")
    beat_from = leaders[0] if leaders else None
    beat = (answering.get(beat_from) or {}).get("heartbeat") if beat_from else None
    if isinstance(beat, dict):
        lines.append(_beat_line(beat, zone, str(has[beat_from].get("node"))))
    elif leaders:
        lines.append("dead man's switch: none configured (no heartbeat:) — nobody outside warroom notices if it dies")
    for ha in has.values():
        if ha.get("degraded"):
            code = max(code, DEGRADED)
            lines.append(_degraded_line(ha, zone))
    if any(ha.get("degraded_cause") == "lease_store" for ha in has.values()):
        lines.append("  (heartbeats, lag and the lease's age above are as of the last look at the lease store)")
    return lines, code


def _degraded_line(ha: dict[str, Any], zone: ZoneInfo) -> str:
    what = {"lease_store": "lease store unreachable", "shared_log": "shared alert log unreachable"}.get(
        str(ha.get("degraded_cause")))
    if what and ha.get("degraded_since"):
        return f"HA degraded: {what} since {_at(ha['degraded_since'], zone)} (says {ha.get('node')})"
    return f"{ha.get('degraded')} (says {ha.get('node')})"


def show_status(loaded: LoadedConfig, api: str | None, as_json: bool, ask: Asker = ask_health) -> int:
    """Print the cluster's (or the single node's) state; the exit code says whether anyone leads."""
    cfg = loaded.config
    if api:
        try:
            bases = list(parse_bases(api))  # the board's own reading of an --api list
        except ValueError as err:
            say(f"warroom status: {err}")
            return NOBODY_LEADS
    else:
        bases = [(cfg.ha.url if cfg.ha is not None and cfg.ha.url else f"http://{cfg.server.host}:{cfg.server.port}")
                 .rstrip("/")]
    answers = survey(bases, ask)
    lines, code = status_lines(answers, ZoneInfo(cfg.campaign.timezone))
    if as_json:
        body = {"exit_code": code, "nodes": {b: h if h is not None else {"error": why}
                                             for b, (h, why) in answers.items()}}
        for line in json.dumps(body, ensure_ascii=False, indent=2).split("\n"):
            say(line)
        return code
    for line in lines:
        say(line)
    return code


def cmd_status(args: argparse.Namespace) -> int:
    """Which node leads, since when, each node's heartbeat and lag; non-zero when nobody leads or degraded."""
    return show_status(load_or_exit(args.config), args.api, args.json)


def add_status_command(add: Callable[..., argparse.ArgumentParser]) -> None:
    """`warroom status`."""
    p = add("status", cmd_status, "Which node leads, since when, each node's heartbeat and lag, the dead man's "
            "switch; exit 1 when degraded, 2 when nobody leads.")
    p.add_argument("--api", help="the nodes' API base URLs, comma-separated (default: from the config)")
    p.add_argument("--json", action="store_true", help="print the nodes' health answers instead")
