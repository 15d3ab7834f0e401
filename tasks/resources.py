"""Where the files the code reads live: `sql/`, `expectations/`, `reference/` and `config/`.

In a checkout they are the repository's top-level folders, where the design card puts them. A
wheel carries them inside this package as `tasks/_shipped/<name>` (pyproject's `force-include`),
because top-level `sql/` or `config/` folders in site-packages would collide with other
distributions. Every module asks here instead of computing a path from its own `__file__`, so an
installed `pilkada` works from any folder (tests/test_install.py).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_SHIPPED = _PACKAGE / "_shipped"


def resource_dir(name: str) -> Path:
    """The folder `name` as shipped in the wheel, else the checkout's top-level one."""
    shipped = _SHIPPED / name
    return shipped if shipped.is_dir() else _PACKAGE.parent / name


SQL_DIR = resource_dir("sql")
EXPECTATIONS_DIR = resource_dir("expectations")
REFERENCE_DIR = resource_dir("reference")
CONFIG_DIR = resource_dir("config")
