"""What one national logistik batch costs a worker process: peak RSS by batch size and inputs.

    uv run python bench/worker_batch_bench.py [--week 2024-W47] [--keep DIR]

Generates the national week, archives it, and for batch budgets of 16, 8 and 4 MB of source
files takes the largest logistik batch (`tasks.ingest.judge.batches`) with its validation
inputs as the flow sends them (the batch's kab/kota only) and, at 16 MB, also with the whole
country's tables (as before issue 20's per-kab/kota inputs). Each is judged in a fresh process
that first imports what a Dask worker imports to run the task (`flows.ingest`, then GX), and the
result is pickled as it would go back to the flow. Prints the process's peak RSS after the
imports and after the batch. A worker of `PILKADA_DASK_ADDRESS=local` adds Dask's and Prefect's
task engine on top; `bench/national_bench.py` measures that whole, this isolates the batch.
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

MEASURE = r"""
import pickle, re, sys
from pathlib import Path
def mb():  # VmHWM: this process's peak (ru_maxrss would keep the parent's across exec)
    return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text())[1]) / 1024
import flows.ingest  # what unpickling the task imports in a worker
import great_expectations  # paid on the first suite
base = mb()
from tasks.ingest.judge import judge_batch
from tasks.ingest.validate import keeping_results
with open(sys.argv[1], "rb") as f:
    files, settings, facts, inputs = pickle.load(f)
with keeping_results():
    verdicts = judge_batch(files, settings, facts, inputs)
out = pickle.dumps(verdicts)  # the result goes back to the flow
print(f"{base:.0f} {mb():.0f} {len(out) / 2**20:.0f}")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--week", default="2024-W47")
    ap.add_argument("--keep", type=Path, help="work here and keep the files")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="pilkada-worker-"))
    root.mkdir(parents=True, exist_ok=True)
    os.environ.update(PILKADA_PROVINCE="all", PILKADA_INBOX=str(root / "inbox"),
                      PILKADA_WAREHOUSE=str(root / "warehouse.duckdb"),
                      PILKADA_ARCHIVE=str(root / "archive"), PILKADA_OUTBOX=str(root / "outbox"),
                      PILKADA_ARRIVAL="mtime", PILKADA_CONFIG=str(root / "no-pilkada.toml"))
    from samples.national import generate
    from tasks.config import load_settings
    from tasks.ingest.judge import batch_inputs, batches, known, pull_new
    from tasks.ingest.validate import validation_inputs
    from tasks.warehouse.database import connect, migrate
    from tasks.warehouse.reference import load_reference

    try:
        if not (root / "inbox").exists():
            generate(root / "inbox", [args.week], scope="all")
        for old in (root / "warehouse.duckdb", root / "archive"):  # a kept inbox is pulled anew
            shutil.rmtree(old) if old.is_dir() else old.unlink(missing_ok=True)
        settings = load_settings()
        judging = replace(settings, smtp=None, imap=None)
        cases: list[tuple[str, Path]] = []
        with connect(settings.warehouse) as con:
            migrate(con)
            load_reference(con, "all")
            logistik = [a for a in pull_new(con, settings) if a.identity.kind == "logistik"]
            facts = known(con)
            everyone = [c for (c,) in con.execute("SELECT kabkota_code FROM ref.kabkota"
                                                  ).fetchall()]
            for mb in (16, 8, 4):
                parts = batches(logistik, mb * 2**20)
                big = max(parts, key=lambda b: sum(a.source.size for a in b))
                inputs = {"own kab/kota": batch_inputs(con, big, [args.week])}
                if mb == 16:
                    inputs["whole country"] = validation_inputs(con, "logistik", [args.week],
                                                                everyone)
                for label, tables in inputs.items():
                    path = root / f"batch-{mb}-{len(cases)}.pkl"
                    path.write_bytes(pickle.dumps((big, judging, facts, tables)))
                    rows = sum(t.num_rows for t in tables.values())
                    size = sum(t.nbytes for t in tables.values()) / 2**20
                    cases.append((f"{mb:>2} MB budget ({len(parts)} batches), largest: "
                                  f"{len(big)} files; inputs {label}, {rows:,} rows, "
                                  f"{size:.1f} MB", path))
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        for label, path in cases:
            out = subprocess.run([sys.executable, "-c", MEASURE, str(path)], env=env,
                                 capture_output=True, text=True, check=True).stdout.split()
            base, peak, result = out[-3:]
            print(f"{label}: after imports {base} MB, peak {peak} MB, result {result} MB pickled")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
