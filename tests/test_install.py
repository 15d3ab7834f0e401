"""An installed wheel works on its own: `uv build` → a fresh virtual environment → `pilkada demo`
in an empty folder far from the checkout. Proves that `sql/`, `expectations/`, `reference/`,
`config/` and the templates ship as package data and are found through the package
(`tasks.resources`), not through the source tree.

The dependencies come from uv's cache (`uv sync --offline` of `uv.lock` into the new environment):
`make setup` filled it, and the test reaches no package index."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests import REPO

pytestmark = pytest.mark.slow

UV = shutil.which("uv") or f"{sys.executable} -m uv"


def _uv(*args: str, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([*UV.split(), *args], capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"uv {' '.join(args)}:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done


def test_wheel_installs_and_runs_the_demo_from_any_folder(tmp_path):
    dist, venv, site = tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    site.mkdir()
    _uv("build", "--wheel", "--out-dir", str(dist), cwd=REPO)
    (wheel,) = dist.glob("siaga_pilkada-*.whl")
    # the locked dependencies from uv's cache, then the wheel alone (no checkout on its path)
    _uv("sync", "--frozen", "--offline", "--no-dev", "--no-install-project", "--quiet", cwd=REPO,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)})
    python = venv / "bin" / "python"
    _uv("pip", "install", "--offline", "--no-deps", "--quiet", "--python", str(python),
        str(wheel))

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PILKADA_", "PREFECT_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", GX_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", PREFECT_HOME=str(tmp_path / "prefect"),
               PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    where = subprocess.run([str(python), "-c", "import tasks.resources as r; print(r.SQL_DIR)"],
                           capture_output=True, text=True, env=env, cwd=site, check=True)
    assert str(venv) in where.stdout, f"sql/ found outside the installed package: {where.stdout}"

    demo = subprocess.run([str(venv / "bin" / "pilkada"), "demo"], capture_output=True,
                          text=True, env=env, cwd=site, timeout=1200)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    html = sorted((site / "data" / "outbox" / "bulletin").glob("*/*.html"))
    assert html, f"no bulletin in {site / 'data' / 'outbox'}:\n{demo.stdout[-2000:]}"
    assert "Siap" in html[0].read_text(encoding="utf-8")
    assert (site / "data" / "warehouse.duckdb").is_file()
