"""The structure docs/architecture.md describes, held by tests: no import cycles, every module on
the map, and the packages' direction (the pipeline's steps never depend on their presentation)."""

from __future__ import annotations

import re

import grimp
import pytest

from tests import REPO

PACKAGES = ("flows", "tasks", "reports", "samples")
ARCHITECTURE = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # imports inside functions count too: a lazy import is still a cycle, only postponed
    return grimp.build_graph(*PACKAGES, cache_dir=None, exclude_type_checking_imports=True)


def test_no_import_cycle(graph):
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycles.append(" → ".join((importer, *back)))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_cycle_check_sees_a_cycle(tmp_path, monkeypatch):
    """The check above can fail: two modules importing each other, one lazily, are found."""
    pkg = tmp_path / "cyclic"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyclic import b\n")
    (pkg / "b.py").write_text("def f():\n    from cyclic import a\n    return a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    g = grimp.build_graph("cyclic", cache_dir=None)
    assert g.find_shortest_chain(importer="cyclic.b", imported="cyclic.a") == ("cyclic.b",
                                                                               "cyclic.a")


def test_steps_do_not_depend_on_presentation_or_samples(graph):
    """`tasks` may not import `reports` (but the desks' letters render through it), and nothing
    but the CLI's demo and sample commands imports `samples`."""
    allowed = {("tasks.publish.letters", "reports.render")}
    wrong = sorted(
        (imp["importer"], imp["imported"])
        for imp in graph.find_matching_direct_imports(import_expression="tasks.** -> reports.**")
        if (imp["importer"], imp["imported"]) not in allowed)
    wrong += sorted(
        (imp["importer"], imp["imported"])
        for pkg in ("tasks", "reports")
        for imp in graph.find_matching_direct_imports(import_expression=f"{pkg}.** -> samples.**"))
    assert not wrong, wrong


def test_every_module_is_on_the_map():
    """docs/architecture.md names every module of tasks/, reports/ and samples/, and nothing
    that is not there."""
    modules = {p.relative_to(REPO).as_posix() for pkg in ("tasks", "reports", "samples")
               for p in (REPO / pkg).rglob("*.py") if p.name != "__init__.py"}
    named = {m for m in modules
             if re.search(rf"`{re.escape(m.rsplit('/', 1)[1])}`", ARCHITECTURE)}
    assert modules == named, f"not in docs/architecture.md: {sorted(modules - named)}"
    for path in re.findall(r"`((?:tasks|reports|samples|flows)/[\w/]+\.py)`", ARCHITECTURE):
        assert (REPO / path).is_file(), f"docs/architecture.md names {path}, which does not exist"
