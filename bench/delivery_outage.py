"""SMTP down during the Monday bulletin (issue 16): how long the run takes to end Failed, and
whether hourly ingests started meanwhile get the warehouse.

    uv run python bench/delivery_outage.py closed   # nothing listens on the SMTP port
    uv run python bench/delivery_outage.py silent   # accepts TCP, never says a word

A scratch tree (sample week 2024-W46 ingested, 2024-W47 waiting in the inbox), the shipped
registry (config/recipients.toml: 14 recipients, 24 messages), the shipped retry policy, one
Prefect server on 127.0.0.1 for every command. `pilkada bulletin --week 2024-W46 --send` runs
in one process; once it has rendered its letters, `pilkada ingest` runs again and again in
another until the bulletin ends. Prints figures; asserts nothing.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.deployments import free_port  # noqa: E402
from samples.kaltim import generate  # noqa: E402

WEEK = "2024-W46"


def _silent() -> tuple[int, list[socket.socket]]:
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: [accepted.append(listener.accept()[0]) for _ in iter(int, 1)],
                     daemon=True).start()
    return listener.getsockname()[1], accepted


def _wait_healthy(url: str, deadline: float) -> None:
    import urllib.request

    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=2):
            return
        time.sleep(0.5)
    raise SystemExit("Prefect server did not start")


def main(mode: str) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=f"outage-{mode}-"))
    api_port = free_port()
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "GX_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_HOME": str(scratch / "prefect"),
           "PREFECT_API_URL": f"http://127.0.0.1:{api_port}/api",
           "PILKADA_CONFIG": str(scratch / "none.toml"),
           "PILKADA_WAREHOUSE": str(scratch / "w.duckdb"), "PILKADA_INBOX": str(scratch / "inbox"),
           "PILKADA_OUTBOX": str(scratch / "outbox"), "PILKADA_ARCHIVE": str(scratch / "archive"),
           "PILKADA_ARRIVAL": "mtime", "PILKADA_SMTP_HOST": "127.0.0.1", "PILKADA_SMTP_TLS": "none"}
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
         str(api_port), "--no-ui"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        cwd=ROOT)
    pilkada = [str(Path(sys.executable).parent / "pilkada")]
    try:
        _wait_healthy(env["PREFECT_API_URL"], time.monotonic() + 120)
        generate(scratch / "inbox", [WEEK])
        subprocess.run([*pilkada, "ingest"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        generate(scratch / "inbox", ["2024-W47"])  # work for the ingests during the bulletin

        if mode == "closed":
            env["PILKADA_SMTP_PORT"] = str(free_port())
            accepted: list[socket.socket] = []
        else:
            port, accepted = _silent()
            env["PILKADA_SMTP_PORT"] = str(port)
        started = time.monotonic()
        bulletin = subprocess.Popen([*pilkada, "bulletin", "--week", WEEK, "--send"], env=env,
                                    cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
        annexes = scratch / "outbox" / "annex" / WEEK
        while bulletin.poll() is None and len(list(annexes.glob("*/*.eml"))) < 10:
            time.sleep(0.5)
        composed = time.monotonic() - started
        ingests = []
        while bulletin.poll() is None:
            at = time.monotonic() - started
            run = subprocess.run([*pilkada, "ingest"], env=env, cwd=ROOT, capture_output=True,
                                 text=True)
            ingests.append((at, time.monotonic() - started - at, run.returncode,
                            "sedang berjalan" in run.stderr + run.stdout))
        out, err = bulletin.communicate()
        total = time.monotonic() - started
    finally:
        server.terminate()
        server.wait()
    print(f"mode={mode} registry=config/recipients.toml")
    print(f"bulletin: exit {bulletin.returncode} after {total:.0f} s (letters rendered at "
          f"{composed:.0f} s); SMTP connections accepted: {len(accepted)}")
    print(f"last line: {err.strip().splitlines()[-1] if err.strip() else out.strip()[-300:]}")
    for at, took, rc, busy in ingests:
        print(f"ingest started at {at:5.0f} s, took {took:4.0f} s, exit {rc}"
              f"{' (LockBusy)' if busy else ''}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "closed")
