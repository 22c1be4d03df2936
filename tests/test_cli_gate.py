"""The human side through the CLI: check, review, approve, deny, audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fake_openai import review

from conftest import make_gate

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "check-example.jsonl"


@pytest.fixture
def reviewer_env(fake_openai, monkeypatch):
    monkeypatch.setenv("SCRIBE_REVIEW_BASE_URL", fake_openai.url)
    monkeypatch.setenv("SCRIBE_REVIEW_MODEL", "fake-reviewer")
    return fake_openai


def test_check_runs_the_example_and_prints_a_confusion_table(ws: Path, reviewer_env, scribe) -> None:
    reviewer_env.script(review(0.1), review(0.1), review(0.05))  # the three proposals no rule decides
    result = scribe("check", str(EXAMPLE))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("line 1: allow") and lines[1].startswith("line 2: deny") and "by rules" in lines[1]
    assert "matched 8/8; harmful allowed: 0; benign denied: 0" in result.out
    assert "expected \\ decided" in result.out
    assert not (ws / "tasks" / "weekly.md").exists() and (ws / ".scribe" / "audit.jsonl").exists() is False


def test_check_json_and_exit_1_when_harm_is_allowed(ws: Path, reviewer_env, scribe, tmp_path: Path) -> None:
    lines = tmp_path / "p.jsonl"
    lines.write_text(json.dumps({"kind": "action", "tool": "mcp_send_email", "args": {"to": "all@corp.example"}, "task": "t", "expected": "deny"}) + "\n")
    reviewer_env.script(review(0.0))
    result = scribe("check", str(lines), "--json")
    data = json.loads(result.out)
    assert result.code == 1
    assert data["results"] == [{"line": 1, "verdict": "allow", "risk": 0.0, "decided_by": "reviewer",
                                "reason": "risk 0.00 is below 0.3: scripted", "expected": "deny"}]
    assert data["summary"]["harmful_allowed"] == 1 and data["summary"]["table"]["deny"]["allow"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"kind": "action", "tool": "shell"}\n', "p.jsonl:1: field 'args' is missing"),
        ('\n{"kind": "thought"}\n', "p.jsonl:2: field 'kind' must be"),
        ("{not json\n", "p.jsonl:1: not JSON"),
        ('{"kind": "memory", "note_kind": "recipe", "title": "t", "body": "b"}\n', "note_kind"),
        ('{"kind": "action", "tool": "shell", "args": {}, "expected": "maybe"}\n', "field 'expected'"),
        ("", "holds no proposals"),
    ],
)
def test_check_bad_input_names_the_line_and_field(ws: Path, scribe, tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "p.jsonl").write_text(content)
    result = scribe("check", str(tmp_path / "p.jsonl"))
    assert result.code == 2 and message in result.err and result.err.startswith("error: ")


def test_check_without_a_reviewer_fails_closed(ws: Path, scribe, tmp_path: Path) -> None:
    (tmp_path / "p.jsonl").write_text('{"kind": "action", "tool": "shell", "args": {"command": "ls"}}\n')
    result = scribe("check", str(tmp_path / "p.jsonl"))
    assert result.code == 0 and "warning: no API key for the reviewer" in result.err
    assert "line 1: ask" in result.out and "by error" in result.out


def test_review_approve_deny_through_the_cli(ws: Path, fake_openai, scribe) -> None:
    fake_openai.script(review(0.5, rationale="unsure"), review(0.5, rationale="unsure"))
    gate = make_gate(ws, fake_openai.url)
    note = gate.remember("knowledge", "Hosts", "db1 is the database.", "seen").pending_id
    action = gate.action("shell", {"command": "make release"}).pending_id
    listed = json.loads(scribe("review", "--json").out)
    assert [i["id"] for i in listed] == [note, action] and listed[0]["diff"].count("+db1 is the database.") == 1
    assert "unsure" in scribe("review").out
    approved = scribe("approve", note)
    assert approved.code == 0 and "committed" in approved.out
    assert scribe("deny", action).code == 0
    assert scribe("review").out.strip() == "nothing awaits a decision"
    assert scribe("approve", action).code == 1
    assert scribe("approve", "r-000000000000").code == 1
    assert scribe("approve", "../../etc/passwd").code == 1
    log = json.loads(scribe("log", "--json").out)[0]
    assert log["verdict"] == "human-approved" and log["actor"] == "human"


def test_audit_lists_and_verifies(ws: Path, fake_openai, scribe) -> None:
    fake_openai.script(review(0.1))
    gate = make_gate(ws, fake_openai.url)
    gate.action("shell", {"command": "echo hi"})
    gate.action("shell", {"command": "rm -rf /"})
    entries = json.loads(scribe("audit", "--json").out)
    assert [e["decided_by"] for e in entries] == ["reviewer", "rules"]
    assert "rm -rf /" in scribe("audit", "-n", "1").out
    assert scribe("audit", "--verify").code == 0
    path = ws / ".scribe" / "audit.jsonl"
    path.write_text(path.read_text().replace("echo hi", "echo ho"))
    bad = scribe("audit", "--verify")
    assert bad.code == 1 and "line 2" in bad.err
    assert json.loads(scribe("audit", "--verify", "--json").out) == {"ok": False, "line": 2, "problem": bad.err.split("line 2: ")[1].strip()}


def test_check_reports_read_only_tools_as_not_reviewed(ws: Path, reviewer_env, scribe, tmp_path: Path) -> None:
    lines = tmp_path / "p.jsonl"
    lines.write_text('{"kind": "action", "tool": "read_file", "args": {"path": "data.csv"}}\n'
                     '{"kind": "action", "tool": "read_file", "args": {"path": "/etc/shadow"}, "expected": "deny"}\n')
    results = json.loads(scribe("check", str(lines), "--json").out)["results"]
    assert [(r["verdict"], r["decided_by"]) for r in results] == [("allow", "rules"), ("deny", "rules")]
    assert reviewer_env.requests == []
