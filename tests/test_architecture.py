"""The import rules of pyproject.toml hold, and lint-imports really fails when one is broken."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LINT = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")

pytestmark = pytest.mark.skipif(
    not Path(LINT).exists(), reason="lint-imports (import-linter) is not installed"
)


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports run on the tree at ``root`` (its pyproject.toml, its watchlist/)."""
    return subprocess.run(
        [LINT, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_tree(tmp_path: Path) -> Path:
    """A copy of the package and its import contracts to break on purpose."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "watchlist", root / "watchlist", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_tree_keeps_every_contract() -> None:
    """The package as committed keeps every import contract."""
    result = lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("watchlist/match/terms.py", "import apprise", "Only delivery imports apprise"),
        ("watchlist/store/schema.py", "import watchlist.delivery.send", "Stages are layered"),
        ("watchlist/config/errors.py", "import rapidfuzz", "Only match imports rapidfuzz"),
        ("watchlist/sources/feed.py", "import apscheduler", "Only the daemon imports apscheduler"),
        ("watchlist/decide.py", "import starlette", "only the ingest source serves HTTP"),
    ],
)
def test_a_forbidden_import_breaks_the_lint(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """Adding a forbidden import to a copy of the tree makes lint-imports fail, naming it."""
    root = copy_tree(tmp_path)
    target = root / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = lint(root)
    assert result.returncode != 0
    assert contract in result.stdout
