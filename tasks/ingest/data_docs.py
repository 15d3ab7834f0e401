"""Keep GX's results of an ingest run and publish them as GX Data Docs (static HTML).

Validation itself runs on an ephemeral GX context (`tasks.ingest.validate`): nothing there touches
the disk. Once per ingest run, the results that `tasks.ingest.validate.keeping_results` collected
(already cut to SUMMARY size: counts, percentages and the first 20 unexpected values per rule,
never the per-row lists) are written to a filesystem results store next to the warehouse, with the
suites they ran, and GX's own site builder renders the pages for just those results plus the index.
So the data team opens `outbox/gx/index.html` and reads suites and results in GX's interface,
and the cost of a run stays bounded by its own batches, not by the campaign's history.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tasks.ingest.validate import KeptResult, load_suite, suite_document

SITE = "pilkada"
# Validation results the index page lists, newest first: the run's own, and earlier ones up to
# this many (a Kaltim week is 6-10). GX's index builder reads every result it lists back from the
# store, ~2 ms each: 500 made the build grow by 0.2 s per 100 results stored until it took ~1.3 s
# (bench/README.md). Older results stay in the store and keep their own pages.
INDEX_RECENT = 50
# Beside GX's stores: a digest of each suite as last stored and rendered, so a run re-stores and
# re-renders a suite only when its document (expectations/<kind>.json, the contract's enums)
# changed or its stored file or page is gone.
SUITE_DIGESTS = "suite-digests.json"


def project_dir(warehouse: Path) -> Path:
    """Where the kept results and suites live (JSON, GX's store layout): beside the warehouse,
    like the archive, because they are records of what was validated, not documents to send."""
    return warehouse.resolve().parent / "gx"  # GX wants absolute roots; the default is relative


def site_dir(outbox: Path) -> Path:
    """Where the Data Docs site is written: the outbox, which the data team already browses."""
    return outbox.resolve() / "gx"


def _context(project: Path, site: Path, listed: int) -> Any:
    """A GX context whose stores are folders (results, suites) and whose one Data Docs site is
    `site`. Built in code rather than from a `great_expectations.yml`, so the folders follow the
    settings of each run (PILKADA_WAREHOUSE, PILKADA_OUTBOX) and nothing in a file can disagree.
    The index lists the newest `listed` results."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        FilesystemStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=FilesystemStoreBackendDefaults(root_directory=str(project)),
        data_docs_sites={SITE: {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(site)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                                   "validation_results_limit": listed},
        }},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def batch_name(kept: KeptResult, n: int) -> str:
    """The batch's name in Data Docs: week, kind, and its number when a kind took several GX
    runs (a national logistik week is split at 250,000 rows; a failing batch is re-run per file)."""
    return f"{kept.week or 'tanpa-minggu'}-{kept.kind}-{n}"


def publish(kept: list[KeptResult], run_id: str, warehouse: Path, outbox: Path) -> Path:
    """Store the run's kept results and suites, build their Data Docs pages and the index;
    returns the index.html. Pages of earlier runs stay as they were (not rebuilt); the index
    lists every result of this run and the `INDEX_RECENT` newest earlier ones, so its cost is
    bounded by the run, not by the campaign's history."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    site = site_dir(outbox)
    project = project_dir(warehouse)
    ctx = _context(project, site, len(kept) + INDEX_RECENT)
    resources: list[Any] = []
    digests = _stored_digests(project)
    for kind in sorted({k.kind for k in kept}):
        doc = suite_document(kind)
        name, digest = doc["name"], _digest(doc)
        if (digests.get(name) == digest and (project / "expectations" / f"{name}.json").is_file()
                and (site / "expectations" / f"{name}.html").is_file()):
            continue  # stored and shown as it is: comparing and re-rendering it cost ~0.2 s
        ctx.suites.add_or_update(load_suite(kind))
        resources.append(ExpectationSuiteIdentifier(name=name))
        digests[name] = digest
    run = RunIdentifier(run_name=run_id, run_time=datetime.now(UTC))
    numbers: dict[tuple[str, str], int] = {}
    for k in kept:
        n = numbers[k.week, k.kind] = numbers.get((k.week, k.kind), 0) + 1
        result = k.result
        result.meta["run_id"] = run
        result.meta["expectation_suite_name"] = result.suite_name
        result.meta["batch_kwargs"] = {"data_asset_name": f"{k.kind} {k.week}",
                                       "files": k.files, "rows": k.rows}
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
            run_id=run, batch_identifier=batch_name(k, n))
        ctx.validation_results_store.set(key, result)
        resources.append(key)
    ctx.build_data_docs(site_names=[SITE], resource_identifiers=resources)
    _store_digests(project, digests)
    return site / "index.html"


def _digest(doc: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _stored_digests(project: Path) -> dict[str, str]:
    """Suite name → digest of the suite document last stored and rendered (`SUITE_DIGESTS`);
    empty when the file is missing or unreadable, so every suite is stored and rendered again."""
    try:
        found = json.loads((project / SUITE_DIGESTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in found.items() if isinstance(v, str)} if isinstance(found, dict) else {}


def _store_digests(project: Path, digests: dict[str, str]) -> None:
    """Written after the pages are built, whole (replace), so a run cut short leaves the old
    digests and the next run renders again what it may not have finished."""
    path = project / SUITE_DIGESTS
    part = path.with_name(f".{path.name}.part")
    part.write_text(json.dumps(digests, sort_keys=True, indent=1), encoding="utf-8")
    part.replace(path)


def disk_usage(path: Path) -> int:
    """Bytes under `path` (for the benchmark and the artifact), 0 when it does not exist."""
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
