"""The desks' annexes of a Monday bulletin run: read, and rendered with their PDF, in one process
against two at a time in children of a running `pilkada warm-start`.

    uv run python bench/annex_bench.py [--week 2024-W47] [--rounds 2] [--keep DIR]

The Kaltim sample week is generated and ingested (`pilkada ingest`, one-off, its own temporary
Prefect server); then, with a starter running on a private socket, each round times reading the
ten kab/kota annex contexts (`tasks.publish.bulletin_data.annex_context`, what `compose-letters`
reads under the lock) and rendering them (`flows.bulletin._render_annexes`) in this process and
through the starter, as a warm bulletin run with desks to write to does. The annexes must come out
the same both ways (email, text, subject and PDF text), or the script exits.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import cli, run
from bench.national_bench import _generate, _prepare

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _seen(rendered: dict) -> dict:
    from pypdf import PdfReader

    return {key: (r.html, r.text, r.subject, [p.extract_text() for p in
                                              PdfReader(io.BytesIO(r.pdf)).pages])
            for key, r in rendered.items()}


def bench(week: str, rounds: int, keep: Path | None) -> None:
    from flows import bulletin as flow
    from flows import warm_start
    from reports.render import warm_up
    from tasks.publish.bulletin_data import annex_context
    from tasks.warehouse.database import connect

    work = keep or Path(tempfile.mkdtemp(prefix="pilkada-annex-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        sys.exit(f"{work} is not empty: a re-run into it would measure another week")
    inbox, warehouse = work / "inbox", work / "warehouse.duckdb"
    _generate("64", week, inbox)
    _prepare("64", warehouse)
    env = {**os.environ, "PILKADA_PROVINCE": "64", "PILKADA_INBOX": str(inbox),
           "PILKADA_ARRIVAL": "mtime", "PILKADA_WAREHOUSE": str(warehouse),
           "PILKADA_ARCHIVE": str(work / "archive"), "PILKADA_OUTBOX": str(work / "outbox"),
           "PILKADA_CONFIG": str(work / "no-pilkada.toml"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "PYTHONPATH": str(ROOT)}
    env.pop("PREFECT_API_URL", None)
    run(cli("ingest"), env)
    private = work / "sockets"
    private.mkdir(mode=0o700)
    sock = private / "warm.sock"
    with (work / "warm.log").open("wb") as log:
        starter = subprocess.Popen([str(BIN / "pilkada"), "warm-start"], cwd=ROOT,
                                   env={**env, "PILKADA_WARM_SOCKET": str(sock)},
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        warm_up()  # this process draws as a warm run would: fonts and templates ready
        deadline = time.monotonic() + 120
        while not sock.exists():
            if starter.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"pilkada warm-start did not come up: see {work / 'warm.log'}")
            time.sleep(0.2)
        logger = logging.getLogger("annex-bench")
        figures: dict[str, list[float]] = {}
        for _ in range(rounds):
            t = time.perf_counter()
            with connect(warehouse, read_only=True) as con:
                codes = [c for (c,) in con.execute(
                    "SELECT kabkota_code FROM ref.kabkota ORDER BY 1").fetchall()]
                contexts = {(c, "id"): annex_context(con, week, c, "id") for c in codes}
            figures.setdefault(f"read {len(codes)} annex contexts", []).append(
                time.perf_counter() - t)
            os.environ.pop(warm_start.STARTER_ENV, None)
            t = time.perf_counter()
            here = flow._render_annexes(contexts, logger)
            figures.setdefault("render them, one process", []).append(time.perf_counter() - t)
            os.environ[warm_start.STARTER_ENV] = str(sock)
            t = time.perf_counter()
            warm = flow._render_annexes(contexts, logger)
            figures.setdefault("render them, warm (2 at a time)", []).append(
                time.perf_counter() - t)
            if _seen(here) != _seen(warm):
                sys.exit("the annexes rendered by the starter differ from those rendered here")
        for label, values in figures.items():
            print(f"  {label:<36} {statistics.mean(values):6.2f} s "
                  f"({' / '.join(f'{v:.2f}' for v in values)})")
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    finally:
        starter.terminate()
        starter.wait(60)
        os.environ.pop(warm_start.STARTER_ENV, None)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--week", default="2024-W47")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="work here and keep the files (a new folder)")
    a = ap.parse_args()
    bench(a.week, a.rounds, a.keep)


if __name__ == "__main__":
    main()
