"""The wheel, not only an editable checkout, carries the prompts and the workspace skeleton."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jinja2

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import sys
from pathlib import Path
import agent, prompts
from agent.prompts import render
from agent.workspace import init_workspace
target = Path(sys.argv[1])
assert Path(prompts.__file__).is_relative_to(target), prompts.__file__
assert Path(agent.__file__).is_relative_to(target), agent.__file__
assert "independent safety reviewer" in render("reviewer_system")
init_workspace(Path(sys.argv[2]))
print("ok")
"""


def test_installed_wheel_finds_its_prompts_and_skeleton(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy, so the build leaves the checkout untouched
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("agent", "memory", "prompts"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(source)],
                   check=True, capture_output=True, cwd=tmp_path)
    wheel = next(dist.glob("scribe_agent-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "prompts/reviewer_system.j2" in names and "agent/skeleton/scribe.toml" in names
    assert not any(name.startswith("tests/") for name in names)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    # Only the installed copy and the third-party libraries: no checkout on the path.
    deps = {Path(jinja2.__file__).parents[1]}
    import markupsafe, yaml, click  # noqa: E401 - their locations join the path below
    deps |= {Path(m.__file__).parents[1] for m in (markupsafe, yaml, click)}
    env = {"PYTHONPATH": ":".join(map(str, [target, *deps])), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-S", "-c", CHECK, str(target), str(tmp_path / "ws")],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.stdout.strip() == "ok", done.stderr
    assert (tmp_path / "ws" / "scribe.toml").is_file()
