"""The test suite. `REPO` is the checkout the tests run from (docs, prefect.yaml, the bench)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
