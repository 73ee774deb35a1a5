"""Channel URLs Apprise accepted before: a restart checks them without loading Apprise; a refused one is never kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.daemon_kit import ROOT

GOOD = "json://127.0.0.1:9/hook?token=s3cret-in-the-url"
BAD = "nosuchscheme://whatever"

CHECK = """import json, sys
from warroom.config.channels import channel_problem
print(json.dumps([channel_problem(sys.argv[1]), "apprise" in sys.modules]))"""


def check_in_a_fresh_process(url: str, cache: str) -> tuple[str | None, bool]:
    """(the problem with `url`, whether Apprise was imported to find it), as a restarting daemon would see them."""
    out = subprocess.run([sys.executable, "-c", CHECK, url], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         check=True, env={**os.environ, "XDG_CACHE_HOME": cache})
    problem, imported = json.loads(out.stdout)
    return problem, imported


def test_an_accepted_url_is_checked_again_without_apprise_and_kept_only_as_a_hash(tmp_path):
    assert check_in_a_fresh_process(GOOD, str(tmp_path)) == (None, True)
    assert check_in_a_fresh_process(GOOD, str(tmp_path)) == (None, False)
    kept = (tmp_path / "warroom" / "accepted-channels").read_text(encoding="ascii")
    assert "s3cret" not in kept and "127.0.0.1" not in kept and len(kept.split()) == 1 and len(kept.split()[0]) == 64
    assert oct((tmp_path / "warroom" / "accepted-channels").stat().st_mode & 0o777) == "0o600"


def test_a_refused_url_is_refused_again_at_every_start(tmp_path):
    first = check_in_a_fresh_process(BAD, str(tmp_path))
    assert first[0] is not None and "nosuchscheme://" in first[0] and first[1] is True
    assert check_in_a_fresh_process(BAD, str(tmp_path)) == first
    assert not (tmp_path / "warroom" / "accepted-channels").exists()
