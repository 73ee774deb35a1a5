"""Issue 17's "smaller" board defects, under AppTest against the daemon's real API over the real alert engine.

The phone view prints units and names who holds a role now; a metric's detail chart marks only its own
decisions and silences; the decision log never prints "None".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from streamlit.testing.v1 import AppTest

from alerts.engine import AlertEngine
from tests.alerts.conftest import Phone, config
from tests.daemon_kit import ROOT
from warroom.api.app import create_app
from warroom.api.read_model import BoardReader
from warroom.daemon.daemon import ApiServer, bind_socket
from warroom.store.database import Store
from warroom.store.writer import LatestValues
from warroom.values import CampaignWindow, Sample

ENTRY = str(ROOT / "app" / "wall.py")
TOKEN = "phone-detail-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """The engine on the real clock behind the daemon's API: CPU red for the GM, DB yellow for the DBA.

    Then, as on the issue's night: the GM and the DBA have stand-ins, the DB is silenced, and the GM writes
    a decision about the CPU alert.
    """
    mp = pytest.MonkeyPatch()
    mp.setenv("WARROOM_ACK_SECRET", "s3cret-for-tests")
    mp.setenv("WARROOM_TOKEN", TOKEN)
    store = Store(tmp_path_factory.mktemp("phone") / "night.duckdb")
    clock = lambda: datetime.now(UTC)  # noqa: E731
    engine = AlertEngine(config(), store, clock, send=Phone(), tick=3600)
    engine.start()
    window = CampaignWindow("night", clock() - timedelta(minutes=5), clock() + timedelta(hours=1))
    reader = BoardReader(engine.cfg, store, window, LatestValues(), engine.views, engine.phone_of)
    api = ApiServer(create_app(reader, clock, engine=engine, deliver=engine.observe), bind_socket("127.0.0.1", 0))
    api.start()
    base = f"http://127.0.0.1:{api.port}"
    try:
        for metric, value in (("cpu", 97.25), ("db", 72.5), ("success", 99.0)):
            sample = Sample(clock(), metric, value)
            store.append([sample])
            engine.observe_sample(sample)
        cpu = next(a for a in engine.open.values() if a.metric == "cpu")

        def post(path: str, body: dict) -> dict:
            answer = requests.post(f"{base}{path}", json=body, headers=AUTH, timeout=10)
            assert answer.ok, answer.text
            return answer.json()
        post("/api/v1/duty", {"role": "general_manager", "name": "Sun Lei", "phone": "139 0000 0009", "by": "Li"})
        post("/api/v1/duty", {"role": "dba", "name": "Qian Bo", "phone": "139 0000 0008", "by": "Li"})
        post("/api/v1/silences", {"metric": "db", "duration": "30m", "author": "Li", "reason": "failover drill"})
        post("/api/v1/annotations", {"author": "Sun Lei", "role": "general_manager", "level": "red",
                                     "alert_id": cpu.id, "text": "switch to the backup servers"})
        post("/api/v1/annotations", {"author": "Li", "text": "press release moved to 00:10"})
        yield base, cpu.id
    finally:
        api.stop()
        engine.stop()
        store.close()
        mp.undo()


def page(monkeypatch, base: str, script: str, **params: str) -> AppTest:
    monkeypatch.setenv("WARROOM_API", base)
    monkeypatch.delenv("WARROOM_CONFIG", raising=False)
    monkeypatch.delenv("WARROOM_TOKEN", raising=False)
    app = AppTest.from_file(ENTRY, default_timeout=30).run()
    app.switch_page(script)
    for key, value in params.items():
        app.query_params[key] = value
    app.run()
    assert not app.exception, app.exception
    return app


def html(app: AppTest) -> str:
    return "\n".join(h.value for h in app.html)


def test_the_phone_view_prints_units_and_names_the_stand_in(monkeypatch, night):
    base, _ = night
    app = page(monkeypatch, base, "pages/phone.py", role="general_manager")
    shown = html(app)
    assert "Alerts for Sun Lei" in shown and "Alerts for Wang" not in shown
    # the CPU card: its value against its threshold with the unit and the metric's decimals, as the alerts page
    card = re.search(r'wr-phone-card" data-alert="\d+".*?</div></div>', shown, re.S).group(0)
    assert "97.2% · threshold ≥ 95.0%" in card or "97.3% · threshold ≥ 95.0%" in card, card
    # the links to each person's view name who holds the role now
    links = re.findall(r'class="wr-phone-link[^"]*" href="\?role=([a-z_]+)" target="_self">([^<]*)<', shown)
    assert dict(links) == {"tech_lead": "Zhang", "ops_lead": "Li", "general_manager": "Sun Lei", "dba": "Qian Bo"}


def test_the_detail_chart_marks_only_its_own_decisions_and_silences(monkeypatch, night):
    base, _ = night
    app = page(monkeypatch, base, "pages/metric_detail.py", metric="cpu")
    spec = app.get("plotly_chart")[0].proto.spec
    assert "switch to the backup servers" in spec  # a decision about this metric's alert
    for other in ("Qian Bo", "Sun Lei stands in", "failover drill", "press release"):
        assert other not in spec, other  # a stand-in, another metric's silence, a general decision
    table = app.dataframe[0].value
    assert list(table.iloc[:, -1]) == ["switch to the backup servers"]
    app = page(monkeypatch, base, "pages/metric_detail.py", metric="db")
    assert "failover drill" in app.get("plotly_chart")[0].proto.spec  # the DB's own silence


def test_the_decision_log_leaves_empty_fields_empty(monkeypatch, night):
    base, alert_id = night
    app = page(monkeypatch, base, "pages/alerts_decisions.py")
    log = app.dataframe[-1].value
    assert len(log) == 5, log  # two stand-ins, a silence, two decisions
    cells = [str(v) for v in log.to_numpy().ravel()]
    assert "None" not in cells and "nan" not in cells and "NaN" not in cells, log
    assert f"#{alert_id}" in cells and "" in cells
