"""scribe schedule with a fixed clock, scribe doctor and scribe demo."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from agent import config as config_mod
from agent.run import task_lock
from agent.schedule import ScheduleState, seconds_until_next
from agent.workspace import Workspace
from fake_openai import reply

from test_run import call, write_task


def test_schedule_runs_due_tasks_once_per_slot(ws: Path, model_env, scribe) -> None:
    agent, _ = model_env
    write_task(ws, "nightly", "Tidy up.", schedule="0 3 * * *")
    agent.script(call("finish", summary="tidy", success=True), reply("none"))
    first = scribe("schedule", "--once", "--now", "2026-11-27T03:30:00Z")
    assert first.code == 0 and "nightly" in first.out  # never ran: due once; hello has no schedule
    assert len(agent.requests) == 2
    again = scribe("schedule", "--once", "--now", "2026-11-27T03:45:00Z")
    assert again.code == 0 and "nothing is due" in again.err
    early = scribe("schedule", "--once", "--now", "2026-11-28T02:59:00Z")
    assert "nothing is due" in early.err and len(agent.requests) == 2
    agent.script(call("finish", summary="tidy", success=True), reply("none"))
    late = scribe("schedule", "--once", "--now", "2026-11-30T04:00:00Z")  # three missed slots, one run
    assert late.code == 0 and len(agent.requests) == 4
    assert scribe("schedule", "--once", "--now", "2026-11-30T05:00:00Z").code == 0 and len(agent.requests) == 4
    rows = {r["name"]: r for r in json.loads(scribe("tasks", "--json").out)}
    assert rows["nightly"]["last_run"]["outcome"] == "success"
    assert rows["nightly"]["next_due"] == "2026-12-01T03:00:00+00:00"


def test_schedule_once_exits_1_when_a_task_failed(ws: Path, model_env, scribe) -> None:
    agent, _ = model_env
    write_task(ws, "nightly", "Tidy up.", schedule="0 3 * * *")
    agent.script(call("finish", summary="could not", success=False), reply("none"))
    assert scribe("schedule", "--once", "--now", "2026-11-27T03:30:00Z").code == 1


def test_a_task_still_running_is_skipped(ws: Path, model_env, scribe) -> None:
    write_task(ws, "nightly", "Tidy up.", schedule="0 3 * * *")
    workspace = Workspace(ws, config_mod.load(ws / "scribe.toml", environ={}))
    with task_lock(workspace, "nightly"):
        result = scribe("schedule", "--once", "--now", "2026-11-27T03:30:00Z")
    assert result.code == 0 and "skipped nightly: task nightly is already running" in result.err
    assert ScheduleState(ws / ".scribe" / "schedule.json").last() == {}  # still due next time


def test_broken_task_files_do_not_stop_the_others(ws: Path, model_env, scribe) -> None:
    agent, _ = model_env
    (ws / "tasks" / "broken.md").write_text("---\ntools: [teleport]\n---\nx\n")
    write_task(ws, "nightly", "Tidy up.", schedule="0 3 * * *")
    agent.script(call("finish", summary="tidy", success=True), reply("none"))
    result = scribe("schedule", "--once", "--now", "2026-11-27T03:30:00Z")
    assert result.code == 0 and "unknown tool 'teleport'" in result.err and "nightly" in result.out


def test_the_scheduler_sleeps_until_the_next_due_time(ws: Path) -> None:
    state = ScheduleState(ws / ".scribe" / "schedule.json")
    write_task(ws, "hourly", "x", schedule="0 * * * *")
    now = dt.datetime(2026, 11, 27, 10, 59, 30, tzinfo=dt.timezone.utc)
    assert seconds_until_next(ws / "tasks", state, now) == 1.0  # never ran: due now
    state.mark("hourly", dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc))
    assert seconds_until_next(ws / "tasks", state, now) == 30.0
    assert seconds_until_next(ws / "tasks", state, now - dt.timedelta(minutes=30)) == 60.0  # re-reads tasks each minute


def test_doctor_checks_both_endpoints(ws: Path, model_env, scribe, monkeypatch) -> None:
    healthy = scribe("doctor")
    assert healthy.code == 0, healthy.out
    assert "ok    agent model: fake-model at" in healthy.out and "ok    reviewer model: fake-reviewer" in healthy.out
    monkeypatch.setenv("SCRIBE_MODEL", "missing-model")
    checks = {c["name"]: c for c in json.loads(scribe("doctor", "--json").out)}
    assert not checks["agent model"]["ok"] and "does not serve 'missing-model'" in checks["agent model"]["detail"]
    monkeypatch.setenv("SCRIBE_REVIEW_BASE_URL", "http://127.0.0.1:9/v1")
    down = scribe("doctor")
    assert down.code == 1 and "FAIL  reviewer model" in down.out


def test_demo_runs_offline_and_says_it_is_a_replay(tmp_path: Path, scribe) -> None:
    result = scribe("demo", "--keep", str(tmp_path / "tour"))
    assert result.code == 0, result.err
    assert result.out.startswith("REPLAY:") and result.out.rstrip().splitlines()[-2].startswith("REPLAY:")
    assert "recalled: skills/write-the-daily-greeting.md" in result.out and "recalled: nothing" in result.out
    assert "-> deny by rules" in result.err and "-> allow by reviewer" in result.err
    assert (tmp_path / "tour" / "hello.txt").exists()
