"""Pure: the pieces every section of the report is built from (times, level badges, tables, the page's CSS)."""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from app.tiles import ACCENT, ON_ACCENT
from warroom.archive.report.facts import ts
from warroom.archive.report.words import word

CSS = """
*{box-sizing:border-box}body{margin:0;background:#0e1117;color:#d5dbe3;font:15px/1.45 system-ui,-apple-system,
"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif}
main{max-width:1400px;margin:0 auto;padding:16px}
h1{font-size:26px;margin:8px 0}h2{font-size:20px;margin:28px 0 10px;border-bottom:1px solid #2a3340;padding-bottom:6px}
h3{font-size:16px;margin:18px 0 6px}.meta{color:#8b95a3;font-size:13px}.kpi{display:flex;flex-wrap:wrap;gap:16px;
align-items:center}.kpi b{font-size:44px;color:#fff}.badge{display:inline-block;padding:2px 10px;border-radius:4px;
font-weight:700;white-space:nowrap}.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}table{border-collapse:collapse;
width:100%;font-size:14px}th,td{padding:6px 8px;border-bottom:1px solid #222a35;text-align:left;vertical-align:top}
th{color:#8b95a3;font-weight:600;white-space:nowrap}td.n{text-align:right;white-space:nowrap}.miss{color:#ff3b3b;
font-weight:700}.ok{color:#2fbf71}.quiet{color:#aab3bf;font-weight:600}.bar{display:flex;height:14px;border-radius:3px;
overflow:hidden;background:#23272e;margin:4px 0}.bar span{display:block;height:100%}
.legend{font-size:13px;color:#aab3bf}
.legend i{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;border-radius:2px}
.metric{background:#131821;border:1px solid #222a35;border-radius:6px;padding:8px 12px;margin:12px 0}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:12px}
@media (max-width:900px){.grid{grid-template-columns:1fr}.kpi b{font-size:34px}main{padding:10px}h1{font-size:21px}
th,td{padding:5px 6px;font-size:13px}}
@media (max-width:600px){table.cards thead{display:none}table.cards tr{display:block;border:1px solid #222a35;
border-radius:6px;margin:8px 0;padding:4px 0}table.cards td{display:flex;gap:10px;border:0;padding:3px 10px;
text-align:left}table.cards td::before{content:attr(data-label);flex:0 0 38%;color:#8b95a3;font-size:12px}
table.cards td.n{text-align:left}}
"""


def local(value: str | None, zone: str, with_date: bool = False) -> str:
    """A recorded time in the campaign's timezone, as recorded (a demo night's stamps are the night's)."""
    moment = ts(value)
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def badge(level: str, loc: str) -> str:
    """A level as a coloured word."""
    return (f'<span class="badge" style="background:{ACCENT.get(level, ACCENT["stale"])};'
            f'color:{ON_ACCENT.get(level, ON_ACCENT["stale"])}">{escape(word(loc, level))}</span>')


def table(head: list[str], rows: list[list[str]], numeric: set[int] | None = None, mark: str = "") -> str:
    """A table that turns into one card per row on a phone (each cell labelled with its column)."""
    numeric = numeric or set()
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f'<td{" class=n" if i in numeric else ""} data-label="{escape(head[i])}">{c}</td>'
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    cards = ' class="cards"' if len(head) > 4 else ""
    return (f'<div class="scroll"{mark}><table{cards}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'
            "</div>")


def value_text(value: float | None, meta: dict, with_unit: bool = True) -> str:
    """A value with the metric's decimals and unit (counters with thousands separators)."""
    if value is None:
        return "—"
    decimals = int(meta.get("decimals", 1))
    unit = meta.get("unit") or ""
    return f"{value:,.{decimals}f}" + (f" {unit}" if unit and with_unit else "")
