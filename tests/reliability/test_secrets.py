"""A daemon run with a secret in every place one can go; none may appear in a log line, an API answer, the
board's pages or the file. Nor may the credentials made from them: a page's sign-in token and the session
it is exchanged for.

Channels whose services live on the internet (DingTalk, WeCom, Feishu, Slack, Telegram) are really
sent to through Apprise, with HTTP(S)_PROXY pointing at a closed local port: nothing leaves
127.0.0.1, and their failures (with whatever text Apprise puts in them) are logged and stored.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from tests.daemon_kit import start_collect, stop, wait_for, write_config
from tests.harness.receiver import Receiver
from tests.harness.rig import pushed_config
from tests.realparts import free_port

pytestmark = [pytest.mark.slow, pytest.mark.needs_postgres]

SECRETS = {
    "WARROOM_TOKEN": "tok3nBOARDsecretvalue",
    "WARROOM_ACK_SECRET": "ackSECRETsigningvalue",
    "DING_TOKEN": "dingTOKENsecret0001",
    "DING_SIGN": "SECdingSIGNsecret0002",
    "WECOM_KEY": "wecomKEYsecret0003",
    "FEISHU_TOKEN": "feishuTOKENsecret0004",
    "SLACK_B": "slackBsecret0005",
    "SLACK_C": "slackCtokenSECRET0006",
    "TG_BOT": "123456789:AAtgBOTsecret0007",
    "MAIL_PASS": "mailPASSsecret0008",
    "HOOK_HEADER": "hookHEADERsecret0009",
    "HOOK_PASS": "hookPASSsecret0010",
    "AM_PASS": "amPASSsecret0011",
    "PG_WRONG": "pgWRONGpasswordsecret0012",
}


def channels(inbox: Receiver, closed: int) -> list[str]:
    port = inbox.server_address[1]
    return [
        f"json://hook:${{HOOK_PASS}}@127.0.0.1:{port}/tech_lead?+X-Fwd-Token=${{HOOK_HEADER}}",
        "dingtalk://${DING_SIGN}@${DING_TOKEN}/",
        "wecombot://${WECOM_KEY}",
        "feishu://${FEISHU_TOKEN}/",
        "slack://T1JJ3T3L2/${SLACK_B}/${SLACK_C}/#war-room",
        "tgram://${TG_BOT}/-1001234",
        f"mailtos://zhang:${{MAIL_PASS}}@example.com:{closed}?smtp=127.0.0.1&to=gm@example.com",
        f"alertmanager://am:${{AM_PASS}}@127.0.0.1:{closed}",
    ]


def board_pages(api: str, config: Path, token: str) -> str:
    """Everything the wall and the alerts page render (Streamlit AppTest, in this process) as one text."""
    from streamlit.testing.v1 import AppTest

    saved = {k: os.environ.get(k) for k in ("WARROOM_API", "WARROOM_CONFIG", "WARROOM_TOKEN")}
    os.environ.update(WARROOM_API=api, WARROOM_CONFIG=str(config), WARROOM_TOKEN=token)
    try:
        at = AppTest.from_file(str(Path(__file__).parents[2] / "app" / "wall.py"), default_timeout=30).run()
        parts = [h.value for h in at.html] + [m.value for m in at.markdown]
        at.switch_page("pages/alerts_decisions.py").run()
        parts += [h.value for h in at.html] + [m.value for m in at.markdown]
        parts += [d.value.to_csv() for d in at.dataframe]
        return "\n".join(str(p) for p in parts)
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def test_no_secret_leaves_the_daemon(tmp_path, postgres_server):
    inbox, closed = Receiver(), free_port()
    env = {**SECRETS, "PG_PASSWORD": postgres_server.password, "PYTHONPATH": str(Path(__file__).parents[2]),
           # Internet-bound channels go to a closed local port instead of the internet
           "HTTP_PROXY": f"http://127.0.0.1:{closed}", "HTTPS_PROXY": f"http://127.0.0.1:{closed}",
           "NO_PROXY": "127.0.0.1,localhost"}
    secrets = [*SECRETS.values(), postgres_server.password]
    db = tmp_path / "s.duckdb"
    raw = pushed_config(db, {"tech_lead": channels(inbox, closed)}, max_delivery_failures=1, retry_backoff="100ms")
    pg = f"postgresql://{postgres_server.user}:${{PG_PASSWORD}}@127.0.0.1:{postgres_server.port}/{postgres_server.dbname}"
    wrong = f"postgresql://{postgres_server.user}:${{PG_WRONG}}@127.0.0.1:{postgres_server.port}/{postgres_server.dbname}"
    raw["collectors"] = [
        {"type": "postgres", "name": "primary", "dsn": pg, "interval": "500ms", "timeout": "2s"},
        {"type": "sql", "name": "wrong_password", "dsn": wrong, "query": "SELECT 1", "metric": "probe",
         "interval": "500ms", "timeout": "2s"},
    ]
    raw["metrics"]["db_connections"] = {"title": "DB connections", "yellow": 70}
    raw["metrics"]["probe"] = {"title": "Probe", "yellow": 5}
    raw["alerts"]["forward"] = [f"alertmanager://am:${{AM_PASS}}@127.0.0.1:{closed}"]
    raw["alerts"]["board_url"] = f"http://127.0.0.1:{closed}/phone?role={{role}}"  # pages carry sign-in links
    log = tmp_path / "daemon.log"
    base = f"http://127.0.0.1:{raw['server']['port']}"
    proc = start_collect(write_config(raw, tmp_path / "c.yaml"), log, {**os.environ, **env, "PYTHONUNBUFFERED": "1"})
    answers: list[str] = []
    made: dict[str, str] = {}
    try:
        wait_for(lambda: requests.get(f"{base}/api/v1/health", timeout=2).ok, 30, "the daemon", proc, log)
        auth = {"Authorization": f"Bearer {SECRETS['WARROOM_TOKEN']}"}
        assert requests.post(f"{base}/api/v1/push", json={"samples": [{"metric": "failures", "value": 8}]},
                             headers=auth, timeout=5).status_code == 202
        wait_for(lambda: inbox.to("tech_lead"), 15, "the page on the json channel", proc, log)
        wait_for(lambda: sum(e["event"] == "undelivered" for a in requests.get(f"{base}/api/v1/alerts", timeout=5)
                             .json()["alerts"] for e in a["events"]) >= 7, 30, "every failing channel given up")
        link = next(line.split(": ", 1)[1] for line in inbox.to("tech_lead")[0]["message"].splitlines()
                    if line.startswith("Acknowledge"))
        signin = next(line.rsplit("signin=", 1)[1] for line in inbox.to("tech_lead")[0]["message"].splitlines()
                      if "signin=" in line)
        session = requests.post(f"{base}/api/v1/signin", json={"token": signin}, headers=auth, timeout=5).json()
        as_person = {**auth, "X-Warroom-Session": session["session"]}
        assert requests.post(f"{base}/api/v1/annotations", json={"text": "on it"}, headers=as_person,
                             timeout=5).status_code == 201
        requests.post(f"{base}/api/v1/signin", json={"token": signin[:-4] + "abcd"}, headers=auth, timeout=5)
        made |= {"sign-in token": signin, "its signature": signin.rsplit(".", 1)[1], "session": session["session"]}
        requests.post(link[:-4] + "abcd", timeout=5)  # a forged link, refused
        requests.post(f"{base}/api/v1/annotations", json={"author": "x", "text": "y"},
                      headers={"Authorization": f"Bearer {SECRETS['WARROOM_TOKEN']}x"}, timeout=5)
        assert requests.post(link, timeout=5).status_code == 200
        wait_for(lambda: requests.get(f"{base}/api/v1/runs", params={"collector": "wrong_password"}, timeout=5)
                 .json()["runs"], 15, "a failed run of the wrong password")
        answers.append(board_pages(base, tmp_path / "c.yaml", SECRETS["WARROOM_TOKEN"]))
        for path in ("/api/v1/health", "/api/v1/board", "/api/v1/series?from=-5m", "/api/v1/runs", "/api/v1/config",
                     "/api/v1/alerts?state=all", "/api/v1/annotations", "/api/v1/silences?active=false",
                     "/api/v1/runsheet", "/metrics", "/openapi.json", "/api/v1/alerts/1/ack?token=x"):
            answers.append(f"{path}\n{requests.get(base + path, timeout=5).text}")
    finally:
        assert stop(proc) == 0
        inbox.stop()
    stored = db.read_bytes() + (Path(str(db) + ".wal").read_bytes() if Path(str(db) + ".wal").exists() else b"")
    logged = log.read_text(errors="replace")
    assert "undelivered" in "".join(answers) and "dingtalk://" in "".join(answers)
    assert "tok3nBOARD" not in answers[0] and "json://" in answers[0], "the board's pages were read"
    leaks = [f"{name} in {where}" for name, value in [*SECRETS.items(), ("PG_PASSWORD", postgres_server.password),
                                                      *made.items()]
             for where, text in (("the log", logged), ("an API answer", "\n".join(answers)),
                                 ("the database", stored.decode("latin-1"))) if value in text]
    assert not leaks, leaks
    assert len(secrets) == 15
