"""Search index: an incremental refresh must beat a full rebuild by a wide margin.

Run: python benchmarks/bench_index.py [NOTES]
Builds a memory repository of NOTES notes (default 2000) in a temp dir, then
times, in the same run and on the same repository, (a) a full rebuild of
the index and (b) a refresh after one note changed. Target: (b) at least 5x
faster than (a). Machines here are noisy, so each figure is the best of 5
and only the ratio is judged.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memory.index import Index  # noqa: E402

TARGET_RATIO = 5.0


def make_repo(root: Path, count: int) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "knowledge").mkdir()
    for i in range(count):
        body = f"Fact number {i} about csv exports, cron schedules and report number {i % 97}.\n" * 5
        (root / "knowledge" / f"fact-{i}.md").write_text(f"---\ntitle: Fact {i}\nkind: knowledge\n---\n{body}")
    commit(root, "notes")


def commit(root: Path, message: str) -> None:
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", message], cwd=root, check=True)


def best_of(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        times.append(action())
    return min(times)


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        repo, db = Path(tmp) / "memory", Path(tmp) / "index.sqlite"
        make_repo(repo, count)

        def full() -> float:
            db.unlink(missing_ok=True)
            started = time.perf_counter()
            assert Index(db, repo).refresh() == count
            return time.perf_counter() - started

        def incremental() -> float:
            note = repo / "knowledge" / "fact-7.md"
            note.write_text(note.read_text() + "one more line\n")
            commit(repo, "edit")
            started = time.perf_counter()
            assert Index(db, repo).refresh() == 1
            return time.perf_counter() - started

        full_s = best_of(5, full)
        incremental_s = best_of(5, incremental)
    ratio = full_s / incremental_s
    print(f"{count} notes: full rebuild {full_s * 1000:.0f} ms, one changed note {incremental_s * 1000:.0f} ms, ratio {ratio:.1f}x (target >= {TARGET_RATIO}x)")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
