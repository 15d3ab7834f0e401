"""A command run against a server that is already up imports its heavy libraries behind the run
(`flows.prefect_server.import_behind`): the command goes on at once, a step that needs a library
waits for it, and a library that fails to import fails that step, not silently."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

import pytest

from flows.prefect_server import import_behind

SLOW = """
import threading, time
time.sleep({seconds})
IMPORTED_IN = threading.current_thread().name
"""


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("behind_")]:
        del sys.modules[name]


def test_the_command_goes_on_while_the_library_imports(modules: Path) -> None:
    (modules / "behind_slow.py").write_text(SLOW.format(seconds=1.5))
    start = time.perf_counter()
    thread = import_behind(["behind_slow"])
    returned = time.perf_counter() - start
    module = importlib.import_module("behind_slow")  # a step that needs it waits for it
    waited = time.perf_counter() - start
    assert returned < 0.5 < 1.4 < waited
    assert module.IMPORTED_IN == "pilkada-imports"  # imported once, by the background thread
    thread.join(5)
    assert not thread.is_alive()


def test_a_library_that_fails_to_import_fails_the_step_that_needs_it(modules: Path) -> None:
    (modules / "behind_broken.py").write_text("raise ImportError('libpango not found')\n")
    (modules / "behind_fine.py").write_text(SLOW.format(seconds=0))
    import_behind(["behind_broken", "behind_fine"]).join(5)
    assert "behind_fine" in sys.modules  # the next library was still imported
    with pytest.raises(ImportError, match="libpango not found"):
        importlib.import_module("behind_broken")
