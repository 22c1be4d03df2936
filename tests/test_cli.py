from __future__ import annotations

import json
import os
import pty
import subprocess
import tomllib
from dataclasses import asdict
from pathlib import Path

import pytest

from agent.config import Config
from memory.note import Note
from memory.store import Store

from conftest import SCRIBE_BIN, commit_by_hand, git_out, note_text, stamp_for


def learn(store: Store, title: str, run: str, body: str = "Body.\n", kind: str = "skill") -> str:
    change = store.plan_remember(Note(title=title, kind=kind, body=body, tasks=["weekly"]))
    return store.apply(change, stamp_for(change, run=run))


# ----- init -----


def test_init_creates_the_workspace(tmp_path: Path, capsys) -> None:
    from agent.cli import main

    with pytest.raises(SystemExit) as done:
        main(["init", str(tmp_path / "new")])
    assert done.value.code == 0
    root = tmp_path / "new"
    assert (root / "tasks" / "hello.md").read_text().startswith("---\n")
    for folder in ("skills", "experiences", "knowledge"):
        assert (root / "memory" / folder).is_dir()
    assert "skills/" in (root / "memory" / "README.md").read_text()
    assert (root / ".scribe").is_dir()
    log = git_out(root / "memory", "log", "--format=%an%n%B")
    assert log.startswith("Test Human\n") and "Scribe-Actor: human" in log
    assert len(git_out(root / "memory", "rev-list", "HEAD").split()) == 1
    assert ".scribe" not in git_out(root / "memory", "ls-files")


def test_init_config_sets_every_key_with_a_comment_and_matches_the_defaults(ws: Path) -> None:
    text = (ws / "scribe.toml").read_text()
    assert tomllib.loads(text) == asdict(Config())
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[i - 1].startswith("#"), f"no comment above {line!r}"


def test_init_again_changes_nothing_and_says_so(ws: Path, scribe) -> None:
    before = {p: p.read_bytes() for p in ws.rglob("*") if p.is_file()}
    result = scribe("init", str(ws))
    assert result.code == 0 and "already a scribe workspace; nothing changed" in result.out
    assert {p: p.read_bytes() for p in ws.rglob("*") if p.is_file()} == before


def test_init_refuses_a_non_empty_memory_folder(tmp_path: Path, scribe) -> None:
    (tmp_path / "odd" / "memory").mkdir(parents=True)
    (tmp_path / "odd" / "memory" / "mine.txt").write_text("keep me")
    result = scribe("init", str(tmp_path / "odd"))
    assert result.code == 2 and "memory already exists and is not empty" in result.err
    assert not (tmp_path / "odd" / "scribe.toml").exists()


# ----- workspace and configuration errors -----


def test_workspace_is_found_from_env_and_from_a_subdirectory(ws: Path, monkeypatch, capsys) -> None:
    from agent.cli import main

    monkeypatch.chdir(ws / "tasks")
    with pytest.raises(SystemExit) as done:
        main(["log"])
    assert done.value.code == 0 and "Start scribe memory" not in capsys.readouterr().err
    monkeypatch.chdir(ws.parent)
    monkeypatch.setenv("SCRIBE_WORKSPACE", str(ws))
    with pytest.raises(SystemExit) as done:
        main(["log", "--json"])
    assert done.value.code == 0 and json.loads(capsys.readouterr().out)[0]["verdict"] == "human"


def run_bin(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SCRIBE_BIN, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_no_workspace_is_exit_2_without_traceback(tmp_path: Path) -> None:
    done = run_bin("log", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: no scribe.toml in") and "scribe init" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[agent]\nmodle = "x"\n', "unknown key 'modle' in [agent]"),
        ('[agnet]\nmodel = "x"\n', "unknown section [agnet]"),
        ("[agent]\nmax_steps = \"ten\"\n", "[agent].max_steps must be a int"),
        ("[reviewer]\nallow_below = 0.9\ndeny_at = 0.5\n", "allow_below must not be above deny_at"),
        ('[reviewer]\non_error = "allow"\n', "on_error is 'allow'"),
        ('[memory]\nauthor = "nobody"\n', "[memory].author"),
        ("[agent\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_exit_2_naming_the_key(ws: Path, toml: str, message: str) -> None:
    (ws / "scribe.toml").write_text(toml)
    done = run_bin("log", cwd=ws)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and message in done.stderr and "scribe.toml" in done.stderr
    assert "Traceback" not in done.stderr


def test_usage_errors_are_exit_2(ws: Path) -> None:
    for args in (["log", "--bogus"], ["revert"], ["no-such-command"], ["search"]):
        done = run_bin(*args, cwd=ws)
        assert done.returncode == 2, args
        assert "error: " in done.stderr and "Traceback" not in done.stderr


# ----- log / show / search / diff / learned -----


def test_log_shows_each_commit_with_review_facts(store: Store, scribe) -> None:
    sha = learn(store, "Count lines", "run-1")
    text = scribe("log")
    assert text.code == 0
    first = text.out.splitlines()[0]
    for part in (sha[:10], "add skills/count-lines.md", "allow", "risk=0.12", "by=test-model", "task=weekly", "run=run-1"):
        assert part in first
    data = json.loads(scribe("log", "--json").out)
    assert data[0] == {
        "commit": sha, "time": data[0]["time"], "author": "scribe <scribe@localhost>",
        "subject": "learn(skill): add skills/count-lines.md",
        "changes": [{"path": "skills/count-lines.md", "change": "add"}], "task": "weekly", "run": "run-1",
        "verdict": "allow", "risk": "0.12", "reviewer": "test-model", "review_id": "r-1", "actor": "scribe",
    }
    assert [c["verdict"] for c in data] == ["allow", "human"]


def test_log_of_a_path_keeps_removed_notes(store: Store, scribe) -> None:
    sha = learn(store, "Count lines", "run-1")
    learn(store, "Other", "run-1")
    store.revert(sha)
    data = json.loads(scribe("log", "skills/count-lines.md", "--json").out)
    assert [c["changes"][0]["change"] for c in data] == ["remove", "add"]


def test_show_by_path_and_by_title(store: Store, scribe) -> None:
    learn(store, "Count lines", "run-1", body="Use wc -l.\n")
    by_title = scribe("show", "count LINES")
    assert by_title.code == 0 and "Use wc -l." in by_title.out and "History:" in by_title.out
    data = json.loads(scribe("show", "skills/count-lines.md", "--json").out)
    assert data["note"]["title"] == "Count lines" and data["note"]["tasks"] == ["weekly"]
    assert data["error"] is None and data["history"][0]["run"] == "run-1"
    missing = scribe("show", "nothing like it")
    assert missing.code == 1 and missing.err.startswith("error: no note with path or title")


def test_malformed_note_does_not_break_log_show_or_search(store: Store, scribe) -> None:
    commit_by_hand(store.root, "knowledge/bad.md", "---\ntitle: [oops\n---\nbroken walrus\n")
    learn(store, "Walrus facts", "run-1", body="walrus are large\n", kind="knowledge")
    assert scribe("log").code == 0
    assert scribe("show", "Walrus facts").code == 0
    bad = scribe("show", "knowledge/bad.md")
    assert bad.code == 0 and "malformed" in bad.err and "broken walrus" in bad.out
    hits = json.loads(scribe("search", "walrus", "--json").out)
    assert {h["path"]: bool(h["error"]) for h in hits} == {"knowledge/walrus-facts.md": False, "knowledge/bad.md": True}


def test_search_text_json_and_no_hits(store: Store, scribe) -> None:
    learn(store, "Semicolon CSV", "run-1", body="The export uses ';' as separator.\n", kind="knowledge")
    found = scribe("search", 'separator "csv')
    assert found.code == 0 and "knowledge/semicolon-csv.md" in found.out
    data = json.loads(scribe("search", "semicolon", "--json").out)
    assert set(data[0]) == {"path", "title", "kind", "score", "snippet", "error"}
    none = scribe("search", "nothing-matches-this")
    assert none.code == 0 and none.out == ""


def test_diff_selects_by_run_range_and_default_latest_run(store: Store, scribe) -> None:
    learn(store, "Alpha", "run-1", body="alpha body\n")
    learn(store, "Beta", "run-2", body="beta body\n")
    learn(store, "Gamma", "run-2", body="gamma body\n")
    latest = scribe("diff")
    assert "+beta body" in latest.out and "+gamma body" in latest.out and "alpha" not in latest.out
    assert latest.out.index("beta body") < latest.out.index("gamma body")
    by_run = json.loads(scribe("diff", "--run", "run-1", "--json").out)
    assert [d["run"] for d in by_run] == ["run-1"] and "+alpha body" in by_run[0]["patch"]
    ranged = scribe("diff", "HEAD~1..HEAD")
    assert "+gamma body" in ranged.out and "beta" not in ranged.out
    assert "\x1b[" not in ranged.out
    since = json.loads(scribe("diff", "--since", "2000-01-01", "--json").out)
    assert len(since) == 4  # the initial commit too
    assert scribe("diff", "--since", "last blue moon").code == 2
    assert scribe("diff", "nope..HEAD").code == 2
    assert scribe("diff", "--output=/tmp/x").code == 2


def test_diff_is_coloured_on_a_terminal(store: Store, ws: Path) -> None:
    learn(store, "Alpha", "run-1", body="alpha body\n")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([*SCRIBE_BIN, "diff"], cwd=ws, stdout=secondary, stderr=secondary, env=env)
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert proc.wait(timeout=60) == 0
    assert b"\x1b[32malpha body" in output  # git paints added lines green


def test_learned_describes_each_run_in_words(store: Store, scribe) -> None:
    learn(store, "Parse the CSV", "run-1")
    learn(store, "Parse the CSV", "run-2", body="v2\n")
    forget = store.plan_forget("skills/parse-the-csv.md")
    store.apply(forget, stamp_for(forget, run="run-3"))
    text = scribe("learned").out
    assert 'added skill "Parse the CSV" (skills/parse-the-csv.md), allow, risk 0.12' in text
    assert 'updated skill "Parse the CSV"' in text and 'removed skill "Parse the CSV"' in text
    assert text.index("run run-1") < text.index("run run-2") < text.index("run run-3")
    only = json.loads(scribe("learned", "--run", "run-2", "--json").out)
    assert [(r["run"], r["task"], [c["change"] for c in r["changes"]]) for r in only] == [("run-2", "weekly", ["update"])]


# ----- revert -----


def test_revert_commit_and_run_through_the_cli(store: Store, scribe) -> None:
    first = learn(store, "Alpha", "run-1")
    learn(store, "Beta", "run-2")
    learn(store, "Gamma", "run-2")
    done = scribe("revert", first[:8])
    assert done.code == 0 and 'Revert "learn(skill): add skills/alpha.md"' in done.out
    by_run = scribe("revert", "--run", "run-2")
    assert by_run.code == 0 and len(by_run.out.splitlines()) == 2
    assert store.paths() == []
    assert git_out(store.root, "status", "--porcelain") == ""


def test_revert_refusals_exit_1_with_what_to_do(store: Store, scribe) -> None:
    first = learn(store, "Alpha", "run-1")
    second = learn(store, "Alpha", "run-2", body="v2\n")
    changed = scribe("revert", first)
    assert changed.code == 1 and f"revert {second[:12]} first" in changed.err
    initial = git_out(store.root, "rev-list", "--max-parents=0", "HEAD").strip()
    assert scribe("revert", initial).code == 1
    assert scribe("revert", "deadbeef").code == 1
    assert scribe("revert", first, "--run", "run-1").code == 2


def test_memory_package_never_imports_agent() -> None:
    root = Path(__file__).resolve().parents[1] / "memory"
    for source in root.glob("*.py"):
        text = source.read_text()
        assert "import agent" not in text and "from agent" not in text, source


def test_verify_lists_commits_that_were_neither_reviewed_nor_human(store: Store, scribe) -> None:
    learn(store, "Reviewed", "run-1")
    assert scribe("verify").code == 0
    sha = commit_by_hand(store.root, "knowledge/sneaked.md", note_text("Sneaked", "knowledge"), message="plain git")
    found = scribe("verify")
    assert found.code == 1 and sha[:10] in found.out and "1 commits" in found.out
    assert [c["commit"] for c in json.loads(scribe("verify", "--json").out)] == [sha]
    (store.root / "knowledge" / "mine.md").write_text(note_text("Mine", "knowledge"))
    assert scribe("commit", "-m", "my note").code == 0  # a human's commit through scribe is not listed
    assert [c["commit"] for c in json.loads(scribe("verify", "--json").out)] == [sha]
