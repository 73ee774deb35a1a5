"""The daemon's cold start: importing it loads nothing that serving /health or deciding a page does not need.

The heavy libraries are imported where they are used and loaded by the daemon's warm-up thread once the
API answers (warroom/daemon/warm_up.py); restart → serving is measured in bench.crash_bench, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.daemon_kit import ROOT

# Each costs tens to hundreds of milliseconds to import, more under load (Apprise: its own import, and its
# hundred plug-ins on the first URL it reads).
HEAVY = ("pandas", "plotly", "pyarrow", "numpy", "streamlit", "psycopg", "apprise")
APPRISE_PLUGINS = "apprise.plugins."
APPRISE_BASE = {"apprise.plugins.base"}

PROBE = """import json, sys
import {module}
print(json.dumps(sorted(sys.modules)))"""


def loaded_by(module: str) -> list[str]:
    """Every module in sys.modules after importing `module` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("module", ["warroom.daemon.daemon", "warroom.cli.main"])
def test_importing_the_daemon_loads_no_heavy_library(module):
    modules = loaded_by(module)
    assert module in modules  # the probe really imported it
    heavy = [m for m in modules if m.split(".")[0] in HEAVY]
    plugins = [m for m in modules if m.startswith(APPRISE_PLUGINS) and m not in APPRISE_BASE]
    assert heavy == [] and plugins == [], f"{module} imports {sorted({m.split('.')[0] for m in heavy})} {plugins[:5]}"


def test_the_warm_up_loads_them_after_the_api_answers():
    # What the daemon's warm-up thread loads (it runs right after the API starts).
    probe = ("import json, sys\nfrom warroom.daemon.warm_up import warm_up\nwarm_up().join(60)\n"
             "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         check=True)
    modules = json.loads(out.stdout)
    assert "pyarrow" in modules and any(m.startswith(APPRISE_PLUGINS) and m not in APPRISE_BASE for m in modules)
