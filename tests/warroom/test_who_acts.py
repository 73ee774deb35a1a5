"""Who may act, through the API: sign-in links for sessions, rights by the war room's rules, the person and
where behind every action. The real engine, store and API app; the board is tested in Chromium elsewhere
(tests/app/test_people_chromium.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from alerts import rights
from alerts.engine import AlertEngine
from alerts.signin import make_signin, signin_url
from tests.alerts.conftest import Clock, Phone, config, push
from warroom.api.app import create_app
from warroom.api.read_model import BoardReader
from warroom.config.models import Rights, RunSheetStep, Wall
from warroom.store.database import Store
from warroom.store.writer import LatestValues
from warroom.values import CampaignWindow

SECRET = "people-test-ack-secret"
TOKEN = "people-test-board-token"
BOARD = {"Authorization": f"Bearer {TOKEN}"}


def night_config(**given):
    loaded = config()
    cfg = loaded.config
    cfg.people["deputy_gm"] = cfg.people["general_manager"].model_copy(update={"name": "Chen", "phone": "5"})
    cfg.people["general_manager"] = cfg.people["general_manager"].model_copy(update={"deputy": "deputy_gm"})
    cfg.rights = Rights(**given)
    cfg.walls = {"tech": Wall(title="Tech", metrics=["cpu"], actions=True), "biz": Wall(metrics=["cpu"])}
    cfg.campaign.run_sheet = [RunSheetStep(at="+30m", action="close the entry", owner="ops_lead"),
                              RunSheetStep(at="+40m", action="close payment", owner="tech_lead")]
    return loaded


class Night:
    def __init__(self, tmp_path, monkeypatch, **given):
        monkeypatch.setenv("WARROOM_ACK_SECRET", SECRET)
        monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
        self.path = tmp_path / "night.duckdb"
        self.clock, self.phone, self.store = Clock(), Phone(), Store(self.path)
        self.engine = AlertEngine(night_config(**given), self.store, self.clock, send=self.phone, tick=3600)
        self.engine.start({m: (self.clock.now, None) for m in ("cpu", "db", "success")})
        self.client = self.app()

    def app(self) -> TestClient:
        window = CampaignWindow("n", None, self.clock.now + timedelta(hours=1))
        reader = BoardReader(self.engine.cfg, self.store, window, LatestValues(), self.engine.views)
        return TestClient(create_app(reader, self.clock, engine=self.engine, deliver=self.engine.observe))

    def link(self, role: str, person: str, valid_s: float = 3600, secret: str = SECRET) -> str:
        return make_signin(secret, role, person, int(self.clock.now.timestamp() + valid_s))

    def sign_in(self, role: str, person: str, client: str = "10.0.0.7") -> dict:
        answer = self.client.post("/api/v1/signin", json={"token": self.link(role, person), "client": client},
                                  headers=BOARD)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def as_(self, session: dict) -> dict[str, str]:
        return {**BOARD, "X-Warroom-Session": session["session"]}

    def close(self):
        self.engine.stop()
        self.store.close()


@pytest.fixture
def night(tmp_path, monkeypatch):
    made = []

    def make(**given):
        made.append(Night(tmp_path / str(len(made)), monkeypatch, **given))
        return made[-1]

    (tmp_path / "0").mkdir()
    (tmp_path / "1").mkdir()
    yield make
    for n in made:
        n.close()


def test_rights_follow_the_chain_of_levels_and_deputies_share_them():
    cfg = night_config().config
    assert rights.rank(cfg, "tech_lead") == 1 and rights.rank(cfg, "general_manager") == 3
    assert rights.rank(cfg, "deputy_gm") == 3 and rights.rank(cfg, "dba") == 0
    # defaults: silences and stand-ins for the operations lead and above (the GM's deputy too)
    assert rights.who_may(cfg, "silence") == ["ops_lead", "general_manager", "deputy_gm"]
    assert rights.who_may(cfg, "stand_in") == ["ops_lead", "general_manager", "deputy_gm"]
    assert not rights.may(cfg, "silence", "tech_lead") and not rights.may(cfg, "silence", "dba")
    # a step by its owner or above
    assert rights.who_may(cfg, "run_sheet", "ops_lead") == ["ops_lead", "general_manager", "deputy_gm"]
    assert rights.may(cfg, "run_sheet", "tech_lead", "tech_lead")
    assert not rights.may(cfg, "run_sheet", "dba", "ops_lead")
    narrow = night_config(silence="general_manager", stand_in=["ops_lead"], run_sheet="anyone").config
    assert rights.who_may(narrow, "silence") == ["general_manager", "deputy_gm"]
    assert rights.who_may(narrow, "stand_in") == ["ops_lead"]
    assert rights.may(narrow, "run_sheet", "dba", "ops_lead")


def test_a_personal_link_signs_in_its_person_who_acts_as_themselves(night):
    n = night()
    link = n.link("general_manager", "Wang")
    url = signin_url("https://board.example/phone?role={role}", "general_manager", link)
    assert url == f"https://board.example/phone?role=general_manager&signin={link}"
    session = n.sign_in("general_manager", "Wang")
    assert (session["role"], session["name"]) == ("general_manager", "Wang")
    who = n.client.get("/api/v1/signin", headers={"X-Warroom-Session": session["session"]}).json()
    assert who["name"] == "Wang" and who["rights"]["silence"]["may"] is True
    push(n.engine, n.clock, "cpu", 97)  # red: the GM decides
    n.phone.got(n=1)
    # The body's role is not the visitor's choice: a signed-in person acts as themselves.
    acked = n.client.post("/api/v1/alerts/1/ack", json={"by": "tech_lead"}, headers=n.as_(session))
    assert acked.status_code == 200, acked.text
    assert acked.json()["acked_by"] == "general_manager"
    event = next(e for e in n.client.get("/api/v1/alerts", params={"state": "all"}).json()["alerts"][0]["events"]
                 if e["event"] == "acked")
    assert (event["role"], event["person"], event["channel"]) == ("general_manager", "Wang", "board")
    decided = n.client.post("/api/v1/annotations", json={"text": "switch to the backup servers", "alert_id": 1,
                                                         "author": "someone else", "level": "red"},
                            headers=n.as_(session))
    assert decided.status_code == 201, decided.text
    note = n.client.get("/api/v1/annotations", params={"from": "-1h"}).json()["annotations"][-1]
    assert (note["author"], note["role"], note["via"]) == ("Wang", "general_manager", "board")
    # A machine with the board token still acts for the role it names, recorded as through the API.
    push(n.engine, n.clock, "db", 90)
    machine = n.client.post("/api/v1/alerts/2/ack", json={"by": "ops_lead"}, headers=BOARD)
    assert machine.status_code == 200 and machine.json()["acked_by"] == "ops_lead"


def test_forged_expired_and_other_persons_links_are_refused_counted_and_limited(night):
    n = night()
    good = n.link("general_manager", "Wang")
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    cases = {"forged": forged, "expired": n.link("general_manager", "Wang", valid_s=-1),
             "not_holder": n.link("ops_lead", "Wang"),  # signed, but Wang does not hold ops_lead
             "malformed": "general_manager.x", "forged_secret": n.link("general_manager", "Wang", secret="old")}
    for case, token in cases.items():
        answer = n.client.post("/api/v1/signin", json={"token": token, "client": "10.0.0.9"}, headers=BOARD)
        assert answer.status_code == 403, (case, answer.text)
        assert answer.json()["error"]["field"] == f"token.{case.replace('_secret', '')}", case
    assert n.client.get("/api/v1/health").json()["refusals"]["signin_link"] == 5
    # Rate-limited per client, like ack links: the 11th refused link in a minute is turned away unchecked.
    for _ in range(5):
        n.client.post("/api/v1/signin", json={"token": forged, "client": "10.0.0.9"}, headers=BOARD)
    limited = n.client.post("/api/v1/signin", json={"token": good, "client": "10.0.0.9"}, headers=BOARD)
    assert limited.status_code == 429
    other = n.client.post("/api/v1/signin", json={"token": good, "client": "10.0.0.10"}, headers=BOARD)
    assert other.status_code == 201
    # Without the board token nobody can exchange a link (the board holds it, a browser does not).
    assert n.client.post("/api/v1/signin", json={"token": good}).status_code == 403


def test_a_refused_action_says_why_and_who_may(night):
    n = night(silence="general_manager")
    li = n.sign_in("ops_lead", "Li")
    zhang = n.sign_in("tech_lead", "Zhang")
    refused = n.client.post("/api/v1/silences", json={"metric": "cpu", "duration": "15m", "reason": "noisy"},
                            headers=n.as_(li))
    assert refused.status_code == 403
    assert "Li (ops_lead) may not silence" in refused.json()["error"]["message"]
    assert "Wang (general_manager), Chen (deputy_gm)" in refused.json()["error"]["message"]
    assert n.client.get("/api/v1/silences").json()["silences"] == []
    stand_in = n.client.post("/api/v1/duty", json={"role": "general_manager", "name": "Sun", "phone": "9"},
                             headers=n.as_(zhang))
    assert stand_in.status_code == 403 and "Li (ops_lead)" in stand_in.json()["error"]["message"]
    step = n.client.post("/api/v1/runsheet/0/done", headers=n.as_(zhang))  # the operations lead's step
    assert step.status_code == 403 and "may not run sheet" in step.json()["error"]["message"]
    # The ack rule is the ack link's: the technical lead's session does not take the GM's red alert.
    push(n.engine, n.clock, "cpu", 97)
    n.phone.got(n=1)
    ack = n.client.post("/api/v1/alerts/1/ack", headers=n.as_(zhang))
    assert ack.status_code == 409 and "Wang" in ack.json()["error"]["message"]
    wang = n.sign_in("general_manager", "Wang")
    done = n.client.post("/api/v1/silences", json={"metric": "cpu", "duration": "15m", "reason": "noisy"},
                         headers=n.as_(wang))
    assert done.status_code == 201 and done.json()["author"] == "Wang"
    mark = n.client.post("/api/v1/runsheet/0/done", headers=n.as_(wang)).json()  # above the step's owner
    assert (mark["done_by"], mark["done_by_name"], mark["done_via"]) == ("general_manager", "Wang", "board")


def test_a_trusted_wall_marks_steps_done_at_the_wall_and_nothing_else(night):
    n = night()
    wall = {**BOARD, "X-Warroom-Wall": "tech"}
    mark = n.client.post("/api/v1/runsheet/1/done", headers=wall)
    assert mark.status_code == 200, mark.text
    assert (mark.json()["done_by"], mark.json()["done_by_name"], mark.json()["done_via"]) == (None, None, "wall:tech")
    step = n.client.get("/api/v1/runsheet").json()["steps"][1]
    assert step["done"] and step["done_via"] == "wall:tech" and step["done_by_name"] is None
    note = n.client.get("/api/v1/annotations", params={"from": "-1h"}).json()["annotations"][-1]
    assert (note["author"], note["role"], note["via"]) == ("the wall · Tech", None, "wall:tech")
    assert "(at the wall tech)" in note["text"]
    assert n.client.post("/api/v1/runsheet/1/undo", headers=wall).status_code == 200
    push(n.engine, n.clock, "cpu", 85)
    n.phone.got(n=1)
    assert n.client.post("/api/v1/alerts/1/ack", headers=wall).status_code == 403
    assert n.client.post("/api/v1/silences", json={"reason": "x"}, headers=wall).status_code == 403
    untrusted = n.client.post("/api/v1/runsheet/0/done", headers={**BOARD, "X-Warroom-Wall": "biz"})
    assert untrusted.status_code == 403 and "walls.biz.actions" in untrusted.json()["error"]["message"]


def test_sign_out_ends_a_session_for_good_and_a_rotated_secret_ends_them_all(night, monkeypatch):
    n = night()
    one, two = n.sign_in("general_manager", "Wang"), n.sign_in("ops_lead", "Li")
    signed_out = n.client.post("/api/v1/signout", headers=n.as_(one))
    assert signed_out.json() == {"signed_out": True}
    assert n.client.get("/api/v1/signin", headers={"X-Warroom-Session": one["session"]}).status_code == 401
    assert n.client.post("/api/v1/runsheet/0/done", headers=n.as_(one)).status_code == 401
    # A restart keeps the open session and the ended one ended.
    n.client = n.app()
    assert n.client.get("/api/v1/signin", headers={"X-Warroom-Session": two["session"]}).json()["name"] == "Li"
    assert n.client.get("/api/v1/signin", headers={"X-Warroom-Session": one["session"]}).status_code == 401
    # A rotated secret: old links and sessions are void.
    monkeypatch.setenv("WARROOM_ACK_SECRET", "rotated-secret")
    n.engine.dispatch.secret = "rotated-secret"
    n.client = n.app()
    assert n.client.get("/api/v1/signin", headers={"X-Warroom-Session": two["session"]}).status_code == 401
    old = n.link("ops_lead", "Li")
    assert n.client.post("/api/v1/signin", json={"token": old}, headers=BOARD).json()["error"]["field"] == \
        "token.forged"


def test_a_stand_in_signs_in_as_themselves_and_only_while_they_stand_in(night):
    n = night()
    wang = n.sign_in("general_manager", "Wang")
    assert n.client.post("/api/v1/duty", json={"role": "general_manager", "name": "Sun", "phone": "9",
                                               "until": "+1h"}, headers=n.as_(wang)).status_code == 201
    duty = n.client.get("/api/v1/annotations", params={"from": "-1h"}).json()["annotations"][-1]
    assert (duty["author"], duty["via"], duty["kind"]) == ("Wang", "board", "duty")
    sun = n.sign_in("general_manager", "Sun")  # the stand-in's own link
    assert n.client.get("/api/v1/signin", headers={"X-Warroom-Session": sun["session"]}).json()["name"] == "Sun"
    n.clock.advance(3601)  # the stand-in ends: Sun's session no longer acts as the GM, Wang's still does
    gone = n.client.post("/api/v1/runsheet/0/done", headers=n.as_(sun))
    assert gone.status_code == 403 and "Sun no longer holds general_manager" in gone.json()["error"]["message"]
    assert n.client.post("/api/v1/runsheet/0/done", headers=n.as_(wang)).status_code == 200


def test_the_link_and_the_session_are_never_stored_or_answered(night):
    n = night()
    token = n.link("general_manager", "Wang")
    session = n.client.post("/api/v1/signin", json={"token": token, "client": "10.0.0.7"}, headers=BOARD).json()
    push(n.engine, n.clock, "cpu", 97)
    n.phone.got(n=1)
    n.client.post("/api/v1/alerts/1/ack", headers=n.as_(session))
    answers = "".join(n.client.get(p).text for p in ("/api/v1/alerts?state=all", "/api/v1/annotations?from=-1h",
                                                     "/api/v1/health", "/api/v1/config", "/api/v1/duty"))
    n.engine.stop()
    n.store.close()
    stored = n.path.read_bytes() + (n.path.with_suffix(".duckdb.wal").read_bytes()
                                    if n.path.with_suffix(".duckdb.wal").exists() else b"")
    for secret in (token, session["session"], token.rsplit(".", 1)[1]):
        assert secret not in answers and secret.encode() not in stored
    n.store = Store(n.path)
    assert n.store.execute("SELECT role, person, client FROM sign_ins").fetchall() == \
        [("general_manager", "Wang", "10.0.0.7")]
