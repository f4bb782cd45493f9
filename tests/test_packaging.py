"""Every subpackage ships: a folder with __init__.py missing from pyproject is absent from a real install."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_and_mapped() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapping = config["package-dir"]
    found = set()
    for top in ("queries", "widgets", "tui"):
        for init in (ROOT / top).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT)
            found.add("k8stop." + ".".join(relative.parts))
            assert mapping.get("k8stop." + ".".join(relative.parts)) == relative.as_posix()
    assert found == listed


def test_demo_recording_is_package_data_and_small() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "data/*" in config["package-data"]["k8stop.tui"]
    demo = ROOT / "tui" / "data" / "demo.k8rec"
    assert 0 < demo.stat().st_size < 2 * 1024 * 1024
