"""The commands an on-call engineer types against a running daemon: alerts, ack, duty, silence.

They print what a person reads (who decides, since when, what happened), not JSON, unless
`--json` asks for it. The board token comes from the environment or from the tokens file that
`warroom up` writes (readable by its owner only), so `warroom ack` works under `warroom up`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import requests

from warroom.cli.startup import load_or_exit
from warroom.cli.tokens import board_token, tokens_path
from warroom.config.load import LoadedConfig
from warroom.outside_text import on_terminal


def say(text: str, file: TextIO | None = None) -> None:
    """Print one line for a person: names, notes and titles come from outside, so their control characters
    (ANSI escapes, NUL, right-to-left overrides) are shown as escapes, never obeyed by the terminal."""
    print(on_terminal(text), file=file or sys.stdout)


def api_call(loaded: LoadedConfig, api: str | None, method: str, path: str, body: dict | None = None,
             token: bool = True) -> tuple[int, Any]:
    """One call to the running daemon; (0, answer) or (1, None) after printing the reason."""
    server = loaded.config.server
    headers = {}
    if token:
        value = board_token(loaded)
        if not value:
            say(f"warroom: set {server.token_env} (the board token the daemon was started with), or run the "
                  f"daemon with `warroom up`, which keeps it in {tokens_path(loaded)}", file=sys.stderr)
            return 1, None
        headers["Authorization"] = f"Bearer {value}"
    url = f"{api or f'http://{server.host}:{server.port}'}{path}"
    try:
        reply = requests.request(method, url, json=body, headers=headers, timeout=10)
    except requests.RequestException as err:
        say(f"warroom: cannot reach the daemon at {url}: {type(err).__name__}", file=sys.stderr)
        return 1, None
    if reply.status_code >= 300:
        try:
            message = reply.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = reply.text[:300]
        say(f"warroom: {reply.status_code}: {message}", file=sys.stderr)
        return 1, None
    return 0, reply.json()


def _clock(ts: str | None, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(ts).astimezone(zone).strftime("%H:%M:%S") if ts else "—"


def _person(p: dict | None) -> str:
    return f"{p['name']} {p.get('phone', '')}".strip() if p else "—"


def _amount(value: float | None, meta: dict[str, Any]) -> str:
    """A value with the metric's decimals and unit, as the wall shows it."""
    if value is None:
        return "—"
    unit = meta.get("unit") or ""
    return f"{value:,.{int(meta.get('decimals', 1))}f}" + (f" {unit}" if unit and unit != "%" else unit)


def _last(events: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((e for e in reversed(events or []) if e.get("event") == kind), None)


def _who(event: dict[str, Any], people: dict[str, Any]) -> str:
    """The person an event names (a stand-in as they were then), else the role's configured person."""
    return event.get("person") or (people.get(event.get("role") or "") or {}).get("name") or event.get("role") or "?"


def alert_lines(alerts: list[dict[str, Any]], zone: ZoneInfo, now: datetime,
                config: dict[str, Any] | None = None) -> list[str]:
    """One readable line per alert, open ones first and worst first: the value with its unit against its line,
    who took it (also once resolved) and who it was escalated to."""
    rank = {"red": 3, "orange": 2, "yellow": 1, "green": 0}
    metrics, people = (config or {}).get("metrics") or {}, (config or {}).get("people") or {}
    order = sorted(alerts, key=lambda a: (a["state"] == "resolved", -rank.get(a["peak_level"], 0), -a["id"]))
    lines = []
    for a in order:
        meta = metrics.get(a["metric"]) or {}
        events = a.get("events") or []
        level = "NO DATA" if a["kind"] == "no_data" else a["level"].upper()
        value = "" if a.get("value") is None else f" {_amount(a['value'], meta)}"
        if value and a.get("threshold") is not None and a["state"] != "resolved":
            value += f" (line {_amount(a['threshold'], meta)})"
        acked = _last(events, "acked")
        took = (f"acknowledged by {_who(acked, people)} at {_clock(acked['ts'], zone)}" if acked else
                f"acknowledged by {_person(a.get('acked_by_person'))} at {_clock(a.get('acked_at'), zone)}"
                if a.get("acked_at") else None)
        if a["state"] == "resolved":
            state = f"resolved {_clock(a.get('resolved_at'), zone)} (peak {a['peak_level']})" + \
                (f" · {took}" if took else " · never acknowledged")
        elif a.get("recovering"):
            state = f"back to normal, resolving (peak {a['peak_level']})" + (f" · {took}" if took else "")
        elif a["state"] == "acked":
            state = took or "acknowledged"
        else:
            since = datetime.fromisoformat(a.get("level_since") or a["opened_at"])
            state = f"NOT ACKNOWLEDGED for {max(0, int((now - since).total_seconds()))}s"
        extra = ""
        escalated = _last(events, "escalated")
        if a.get("escalated_to") and a["state"] != "resolved":
            extra = f" · also paged {_person(a['escalated_to'])}"
        elif escalated is not None:
            extra = f" · escalated to {_who(escalated, people)} at {_clock(escalated['ts'], zone)}" + \
                (f" ({escalated['level']})" if escalated.get("level") else "")
        if a.get("nobody_left") and a["state"] == "open":
            extra += " · NOBODY LEFT TO PAGE"
        if a.get("delivery_failed") and a["state"] != "resolved":
            extra += " · a page failed"
        if a.get("silenced") and a["state"] != "resolved":
            extra += " · silenced (not paged)"
        decides = "" if a["state"] == "resolved" else f" · decides: {_person(a.get('decider'))}"
        lines.append(f"#{a['id']:<4} {level:<8} {a['title']}{value} · opened {_clock(a['opened_at'], zone)}"
                     f" · {state}{decides}{extra}")
    return lines


def _readable(code: int, answer: Any, as_json: bool) -> Any:
    """The answer to print in words, or None when it failed or was printed as JSON."""
    if code == 0 and as_json:
        for line in json.dumps(answer, ensure_ascii=False, indent=2).split("\n"):  # JSON escapes its own line breaks
            say(line)
    return answer if code == 0 and not as_json else None


def alerts_now(loaded: LoadedConfig, api: str | None, window: str, as_json: bool) -> int:
    """Open alerts and those of the last `window`, readably."""
    code, answer = api_call(loaded, api, "GET", f"/api/v1/alerts?state=all&from=-{window}", token=False)
    if (answer := _readable(code, answer, as_json)) is None:
        return code
    zone = ZoneInfo(loaded.config.campaign.timezone)
    alerts = answer["alerts"]
    if not alerts:
        say(f"no alerts open or in the last {window}")
        return 0
    _, config = api_call(loaded, api, "GET", "/api/v1/config", token=False)  # units as the daemon has them
    _, campaign = api_call(loaded, api, "GET", "/api/v1/campaign", token=False)
    # The daemon's clock (in demo mode the night's), so "for 42s" counts on the same clock as the stamps.
    now = datetime.fromisoformat(campaign["now"]) if campaign and campaign.get("now") else datetime.now(zone)
    for line in alert_lines(alerts, zone, now, config):
        say(line)
    return 0


def ack_alert(loaded: LoadedConfig, api: str | None, alert_id: int, role: str, note: str | None,
            as_json: bool) -> int:
    """Acknowledge as a role; a conflicting or stale acknowledgement is refused with its reason."""
    code, answer = api_call(loaded, api, "POST", f"/api/v1/alerts/{alert_id}/ack", {"by": role, "note": note})
    if (answer := _readable(code, answer, as_json)) is None:
        return code
    zone = ZoneInfo(loaded.config.campaign.timezone)
    say(f"alert #{answer['id']} ({answer['title']}, {answer['level'].upper()}) acknowledged by "
          f"{_person(answer.get('acked_by_person'))} at {_clock(answer.get('acked_at'), zone)}; "
          "repeats and escalation stop until the level rises")
    return 0


def duty(loaded: LoadedConfig, api: str | None, args: Any) -> int:
    """`warroom duty` lists who holds every role; `duty set` / `duty end` change it (board token)."""
    zone = ZoneInfo(loaded.config.campaign.timezone)
    if args.action in ("set", "end") and not args.role:
        say(f"warroom duty {args.action}: name the role, e.g. `warroom duty {args.action} general_manager`",
              file=sys.stderr)
        return 2
    if args.action == "set" and not args.person:
        say("warroom duty set: --person is required (an entry of people, or the stand-in's name)", file=sys.stderr)
        return 2
    if args.action == "set":
        body = {"role": args.role, "person": args.person if args.person in loaded.config.people else None,
                "name": None if args.person in loaded.config.people else args.person, "phone": args.phone or "",
                "until": args.until, "by": args.by}
        code, answer = api_call(loaded, api, "POST", "/api/v1/duty", body)
        if code == 0:
            until = f" until {_clock(answer['until'], zone)}" if answer.get("until") else ""
            say(f"{answer['name']} {answer['phone']} now holds {args.role}{until}: the next page goes to them")
        return code
    if args.action == "end":
        code, answer = api_call(loaded, api, "DELETE",
                                f"/api/v1/duty/{quote(args.role, safe='')}?{urlencode({'by': args.by})}")
        if code == 0:
            say(f"{args.role} is back to {answer.get('name', '?')} {answer.get('phone', '')}".rstrip())
        return code
    code, answer = api_call(loaded, api, "GET", "/api/v1/duty", token=False)
    if code:
        return code
    for role, held in answer["roles"].items():
        until = f" until {_clock(held['until'], zone)}" if held.get("until") else ""
        say(f"{role:<18} {held['name']} {held['phone']}  ({held['how']}{until})")
    for h in answer["handovers"]:
        say(f"{_clock(h['at'], zone)}  {h['to']} takes over {h['role']} from {h['from']}")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    """Open alerts and recent ones, readably."""
    return alerts_now(load_or_exit(args.config), args.api, args.window, args.json)


def cmd_ack(args: argparse.Namespace) -> int:
    """Acknowledge an alert as a role."""
    return ack_alert(load_or_exit(args.config), args.api, args.id, args.as_role, args.note, args.json)


def cmd_duty(args: argparse.Namespace) -> int:
    """Who holds every role now; stand someone in, or end a stand-in."""
    return duty(load_or_exit(args.config), args.api, args)


def cmd_silence(args: argparse.Namespace) -> int:
    """Silence one metric (or all) for a window."""
    code, answer = api_call(load_or_exit(args.config), args.api, "POST", "/api/v1/silences",
                            {"metric": args.metric, "duration": args.duration, "author": args.by,
                             "reason": args.reason})
    if code == 0:
        say(f"silenced {answer.get('metric') or 'every metric'} until {answer.get('ends_at')}: alerts are "
              "still recorded, nobody is paged")
    return code


def add_remote_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """alerts, ack, duty, silence: through the daemon's API."""
    p = add("alerts", cmd_alerts, "List open alerts and those of the last hours: level, who decides, since when.")
    p.add_argument("--window", default="2h", help="how far back to list resolved alerts (default 2h)")
    p.add_argument("--json", action="store_true", help="print the API's answer instead")
    p.add_argument("--api", help="the daemon's API base URL (default: from the config)")
    p = add("ack", cmd_ack, "Acknowledge an alert: paging and escalation stop until its level rises.")
    p.add_argument("id", type=int, help="alert id (from the board or the page)")
    p.add_argument("--as", dest="as_role", required=True, help="your role, e.g. ops_lead")
    p.add_argument("--note", help="what you are doing about it")
    p.add_argument("--json", action="store_true", help="print the API's answer instead")
    p.add_argument("--api", help="the daemon's API base URL (default: from the config)")
    p = add("duty", cmd_duty, "Who holds every role now (shifts, stand-ins); `set` / `end` a stand-in.")
    p.add_argument("action", nargs="?", choices=["list", "set", "end"], default="list")
    p.add_argument("role", nargs="?", help="the role, e.g. general_manager (set, end)")
    p.add_argument("--person", help="an entry of people, or the stand-in's name (set)")
    p.add_argument("--phone", help="the stand-in's phone (set)")
    p.add_argument("--until", help="ISO-8601 or +2h; open-ended when omitted (set)")
    p.add_argument("--by", default=os.environ.get("USER", "cli"), help="who makes the change (decision log)")
    p.add_argument("--api", help="the daemon's API base URL (default: from the config)")
    p = add("silence", cmd_silence, "Silence a metric (or all) for a window; alerts are still recorded.")
    p.add_argument("--metric", help="one metric; omit to silence every metric (maintenance)")
    p.add_argument("--for", dest="duration", default="30m", help="how long, e.g. 30m (default)")
    p.add_argument("--by", required=True, help="who is silencing")
    p.add_argument("--reason", required=True, help="why (recorded in the decision log)")
    p.add_argument("--api", help="the daemon's API base URL (default: from the config)")
