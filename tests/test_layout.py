"""The README's layout and domain map are true: every package and module of
`dispatch/` is named there, and the code behind each URL is in the package the map
names for it."""

import re
from fnmatch import fnmatch
from pathlib import Path

from dispatch.api import OPERATIONS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _domain_map() -> list[tuple[list[str], list[str], list[str]]]:
    """(URL patterns, code paths, SQL paths) of each row of the README's domain map."""
    section = README.split("### Domain map", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`/"):
            continue
        rows.append(tuple(re.findall(r"`([^`]+)`", cell) for cell in cells))
    return rows


def test_every_dispatch_package_and_module_is_in_the_layout() -> None:
    layout = README.split("## Layout", 1)[1].split("### Domain map", 1)[0]
    for path in sorted((ROOT / "dispatch").iterdir()):
        if path.name.startswith(("_", ".")):
            continue
        if path.is_dir() and (path / "__init__.py").exists() or path.suffix == ".py":
            name = path.name + ("/" if path.is_dir() else "")
            assert name in layout, f"README's layout does not name dispatch/{name}"


def test_domain_map_paths_exist() -> None:
    rows = _domain_map()
    assert len(rows) >= 9
    for _, code, sql in rows:
        for path in code + sql:
            assert (ROOT / path).exists(), f"the domain map names {path}, which is not there"


def test_the_code_behind_each_url_is_where_the_map_says() -> None:
    rows = _domain_map()
    for op in OPERATIONS:
        module = op.handler.__module__.replace(".", "/")
        row = next((r for r in rows if any(fnmatch(op.path, pattern)
                                           or fnmatch(op.path, pattern.removesuffix("/*"))
                                           for pattern in r[0])), None)
        assert row is not None, f"{op.path} is not in README's domain map"
        assert any(module.startswith(code.removesuffix(".py").rstrip("/"))
                   for code in row[1]), f"{op.path} is served by {module}, not {row[1]}"
