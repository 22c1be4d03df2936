from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from memory import history
from memory.errors import Refused
from memory.note import Note
from memory.store import Change, Store

from conftest import HUMAN, commit_by_hand, git_out, note_text, stamp_for


def remember(store: Store, title: str, body: str = "Body.\n", kind: str = "skill", **stamp) -> str:
    change = store.plan_remember(Note(title=title, kind=kind, body=body, tasks=["weekly"]))
    return store.apply(change, stamp_for(change, **stamp))


def test_apply_makes_one_path_scoped_commit_with_trailers(store: Store) -> None:
    (store.root / "knowledge" / "draft.md").write_text("a human's unfinished draft")
    sha = remember(store, "Parse the weekly CSV", "Use ';' as separator.\n")
    message = git_out(store.root, "log", "-1", "--format=%an <%ae>%n%cn%n%B", sha)
    assert message.splitlines()[:3] == ["scribe <scribe@localhost>", "scribe", "learn(skill): add skills/parse-the-weekly-csv.md"]
    for trailer in ["Scribe-Run: 20261126T090000Z-weekly-ab12", "Scribe-Task: weekly", "Review-Id: r-1",
                    "Review-Risk: 0.12", "Review-Verdict: allow", "Reviewed-By: test-model"]:
        assert trailer in message
    assert git_out(store.root, "show", "--name-only", "--format=", sha).split() == ["skills/parse-the-weekly-csv.md"]
    assert "?? knowledge/draft.md" in git_out(store.root, "status", "--porcelain")
    assert store.read("skills/parse-the-weekly-csv.md").body == "Use ';' as separator.\n"


def test_remember_same_title_updates_and_similar_title_gets_a_suffix(store: Store) -> None:
    remember(store, "Count lines")
    first = store.read("skills/count-lines.md")
    remember(store, "Count lines", "Better body.\n")
    remember(store, "Count  lines!")
    updated = store.read("skills/count-lines.md")
    assert updated.body == "Better body.\n" and updated.created == first.created
    assert store.read("skills/count-lines-2.md").title == "Count  lines!"
    subjects = [c.subject for c in history.log(store.root, "-3")]
    assert subjects == ["learn(skill): add skills/count-lines-2.md", "learn(skill): update skills/count-lines.md",
                        "learn(skill): add skills/count-lines.md"]


def test_forget_removes_the_note_in_one_commit(store: Store) -> None:
    remember(store, "Old fact", kind="knowledge")
    change = store.plan_forget("knowledge/old-fact.md")
    store.apply(change, stamp_for(change))
    assert not (store.root / "knowledge" / "old-fact.md").exists()
    assert history.log(store.root, "-1")[0].subject == "learn(knowledge): remove knowledge/old-fact.md"


def test_stamp_for_another_change_is_refused(store: Store) -> None:
    reviewed = store.plan_remember(Note(title="Safe", kind="skill", body="harmless\n"))
    altered = Change(reviewed.op, reviewed.path, reviewed.content.replace("harmless", "rm -rf ~"), reviewed.base)
    head = store.head()
    with pytest.raises(Refused, match="does not match"):
        store.apply(altered, stamp_for(reviewed))
    assert store.head() == head and not (store.root / reviewed.path).exists()


def test_change_planned_against_an_older_note_is_refused(store: Store) -> None:
    remember(store, "Count lines")
    stale = store.plan_remember(Note(title="Count lines", kind="skill", body="v2\n"))
    remember(store, "Count lines", "v3 by someone else\n")
    with pytest.raises(Refused, match="changed since"):
        store.apply(stale, stamp_for(stale))


def test_uncommitted_human_edit_is_never_overwritten(store: Store) -> None:
    remember(store, "Count lines")
    (store.root / "skills" / "count-lines.md").write_text(note_text("Count lines", body="my edit\n"))
    change = store.plan_remember(Note(title="Count lines", kind="skill", body="agent\n"))
    with pytest.raises(Refused, match="uncommitted"):
        store.apply(change, stamp_for(change))
    assert "my edit" in (store.root / "skills" / "count-lines.md").read_text()


def test_git_hooks_never_run(store: Store, tmp_path: Path) -> None:
    marker = tmp_path / "hook-ran"
    hook = store.root / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    (store.root / ".git" / "hooks" / "post-commit").symlink_to(hook)
    sha = remember(store, "Hooked")
    store.revert(sha)
    assert not marker.exists()


def test_human_approved_change_carries_the_humans_identity(store: Store) -> None:
    sha = remember(store, "Approved", verdict="human-approved", risk=None, reviewed_by="none", by_human=True)
    log = git_out(store.root, "log", "-1", "--format=%an <%ae>%n%B", sha)
    assert log.startswith(f"{HUMAN[0]} <{HUMAN[1]}>")
    assert "Review-Risk: n/a" in log and "Scribe-Actor: human" in log


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from memory.note import Note
    from memory.store import Stamp, Store
    root, title = Path(sys.argv[1]), sys.argv[2]
    store = Store(root / "memory", root / ".scribe")
    for i in range(5):
        while True:
            change = store.plan_remember(Note(title=f"{title} {i}", kind="knowledge", body="x\\n"))
            stamp = Stamp(change.digest(), "run", "task", "r", "allow", 0.1, "m")
            try:
                store.apply(change, stamp)
                break
            except Exception as exc:  # a concurrent add of the same path: plan again
                if "changed since" not in str(exc):
                    raise
""")


def test_two_processes_applying_at_once_both_succeed(ws: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(ws), name], stderr=subprocess.PIPE, text=True)
             for name in ("alpha", "beta")]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    store = Store(ws / "memory", ws / ".scribe")
    assert len(store.paths()) == 10
    assert len(history.log(store.root)) == 11
    assert git_out(store.root, "status", "--porcelain") == ""


def crashing_git(tmp_path: Path) -> dict[str, str]:
    """A git on PATH that kills its caller, as a crash would, right before it commits."""
    bindir = tmp_path / "crashbin"
    bindir.mkdir()
    real = shutil.which("git")
    (bindir / "git").write_text(
        f'#!/bin/sh\nfor a in "$@"; do [ "$a" = commit ] && kill -9 $PPID && sleep 5; done\nexec {real} "$@"\n'
    )
    (bindir / "git").chmod(0o755)
    return {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}


CRASHING_WRITE = textwrap.dedent("""
    import sys
    from pathlib import Path
    from memory.note import Note
    from memory.store import Stamp, Store
    root = Path(sys.argv[1])
    store = Store(root / "memory", root / ".scribe")
    change = (store.plan_forget("skills/keep-me.md") if sys.argv[2] == "forget"
              else store.plan_remember(Note(title=sys.argv[2], kind="skill", body="half written\\n")))
    store.apply(change, Stamp(change.digest(), "run", "task", "r", "allow", 0.1, "m"))
""")


@pytest.mark.parametrize("what", ["New note", "Keep me", "forget"])
def test_write_cut_short_by_a_crash_is_rolled_back_at_next_start(ws: Path, tmp_path: Path, what: str) -> None:
    store = Store(ws / "memory", ws / ".scribe")
    remember(store, "Keep me", "original\n")
    head = store.head()
    done = subprocess.run([sys.executable, "-c", CRASHING_WRITE, str(ws), what], env=crashing_git(tmp_path))
    assert done.returncode == -signal.SIGKILL
    assert git_out(store.root, "status", "--porcelain") != ""  # the crash left a half-done write
    Store(ws / "memory", ws / ".scribe").recover()
    assert git_out(store.root, "status", "--porcelain") == ""
    assert store.head() == head
    assert store.read("skills/keep-me.md").body == "original\n"
    assert not (store.root / "skills" / "new-note.md").exists()


def test_revert_undoes_a_note_with_a_human_commit(store: Store) -> None:
    sha = remember(store, "Wrong idea")
    made = store.revert(sha)
    assert not (store.root / "skills" / "wrong-idea.md").exists()
    log = git_out(store.root, "log", "-1", "--format=%an <%ae>%n%B", made)
    assert log.startswith(f"{HUMAN[0]} <{HUMAN[1]}>")
    assert f"This reverts commit {sha}." in log and "Scribe-Actor: human" in log
    assert len(history.log(store.root)) == 3  # history kept, never rewritten


def test_revert_refuses_when_the_note_changed_since(store: Store) -> None:
    first = remember(store, "Count lines", "v1\n")
    second = remember(store, "Count lines", "v2\n")
    with pytest.raises(Refused, match=f"in {second[:12]}.*revert {second[:12]} first"):
        store.revert(first)
    store.revert(second)
    store.revert(first)
    assert not (store.root / "skills" / "count-lines.md").exists()


def test_revert_refuses_non_memory_commits_and_merges(store: Store) -> None:
    initial = store.head()
    with pytest.raises(Refused, match="not a memory commit"):
        store.revert(initial)
    readme = commit_by_hand(store.root, "README.md", "changed\n")
    with pytest.raises(Refused, match="not a memory commit"):
        store.revert(readme)
    with pytest.raises(Refused, match="not a commit"):
        store.revert("0123456789abcdef")
    subprocess.run(["git", "checkout", "-q", "-b", "side"], cwd=store.root, check=True)
    commit_by_hand(store.root, "knowledge/side.md", note_text("Side", "knowledge"))
    subprocess.run(["git", "checkout", "-q", "main"], cwd=store.root, check=True)
    commit_by_hand(store.root, "knowledge/main.md", note_text("Main", "knowledge"))
    subprocess.run(["git", "merge", "-q", "--no-ff", "-m", "merge side", "side"], cwd=store.root, check=True)
    with pytest.raises(Refused, match="is a merge"):
        store.revert("HEAD")


def test_revert_refuses_over_uncommitted_edits(store: Store) -> None:
    sha = remember(store, "Count lines")
    (store.root / "skills" / "count-lines.md").write_text("edited by hand\n")
    with pytest.raises(Refused, match="uncommitted"):
        store.revert(sha)
    assert (store.root / "skills" / "count-lines.md").read_text() == "edited by hand\n"


def test_revert_run_undoes_every_commit_of_the_run_newest_first(store: Store) -> None:
    keep = remember(store, "Other run", run="run-a")
    remember(store, "Count lines", "v1\n", run="run-b")
    remember(store, "Count lines", "v2\n", run="run-b")
    remember(store, "Fact", kind="knowledge", run="run-b")
    made = store.revert_run("run-b")
    assert len(made) == 3
    assert store.paths() == ["skills/other-run.md"]
    assert history.log(store.root, "-1", keep)[0].run == "run-a"
    with pytest.raises(Refused, match="no memory commits"):
        store.revert_run("run-missing")


def test_revert_run_refuses_before_writing_when_a_later_run_changed_a_note(store: Store) -> None:
    remember(store, "Count lines", "v1\n", run="run-b")
    remember(store, "Count lines", "v2\n", run="run-c")
    head = store.head()
    with pytest.raises(Refused, match="changed since"):
        store.revert_run("run-b")
    assert store.head() == head


def test_hand_committed_note_can_be_reverted(store: Store) -> None:
    sha = commit_by_hand(store.root, "knowledge/by-hand.md", note_text("By hand", "knowledge"))
    store.revert(sha)
    assert store.paths() == []


def test_malformed_note_is_listed_with_its_problem(store: Store) -> None:
    commit_by_hand(store.root, "knowledge/bad.md", "---\ntitle: No kind\n---\n")
    remember(store, "Good")
    entries = {e.path: e for e in store.entries()}
    assert entries["skills/good.md"].note is not None
    assert entries["knowledge/bad.md"].note is None and "kind" in entries["knowledge/bad.md"].error
