"""The command line: parse arguments, call the library, print the result.

User errors are ``ScribeError``s, printed as ``error: ...`` with their exit
code (2 usage/config/workspace, 1 refused). Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from agent import check as check_mod, config as config_mod, gate, inspect
from agent.ask import terminal_asker
from agent.demo import REPLAY_LABEL, run_demo
from agent.doctor import run_checks
from agent.gate import RunContext
from agent.model import ModelClient
from agent.progress import reporter
from agent.run import run_task
from agent.schedule import ScheduleState, due_now, scheduled, seconds_until_next
from agent.tasks import Task, TaskError, find_task, last_runs, load_tasks
from agent.workspace import Workspace, init_workspace, open_workspace
from memory import history
from memory.errors import Refused, ScribeError
from memory.gitcli import git


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="scribe", standalone_mode=False)
    except click.UsageError as exc:
        if exc.ctx is not None:
            click.echo(exc.ctx.get_usage(), err=True)
        _fail(exc.format_message(), 2)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except ScribeError as exc:
        _fail(str(exc), exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        _fail("interrupted", 130)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--workspace", "-w", metavar="DIR", help="Workspace directory (default: SCRIBE_WORKSPACE, else the nearest with scribe.toml).")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None) -> None:
    """Scribe: an agent that learns by writing reviewed notes into git."""
    ctx.obj = workspace


def _workspace() -> Workspace:
    return open_workspace(click.get_current_context().find_root().obj)


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Create a workspace in DIRECTORY (default: here)."""
    if init_workspace(directory):
        click.echo(f"created scribe workspace in {directory.resolve()}")
        click.echo("  scribe.toml, tasks/hello.md, memory/ (git), .scribe/ (local state)")
    else:
        click.echo(f"{directory.resolve()} is already a scribe workspace; nothing changed")


@cli.command()
@click.argument("path", required=False)
@click.option("-n", "--max-count", type=click.IntRange(min=1), help="Show at most this many commits.")
@json_option
def log(path: str | None, max_count: int | None, as_json: bool) -> None:
    """History of learned notes with their review verdicts."""
    store = _workspace().open_store()
    paths = (_note_path_for_log(store, path),) if path else ()
    commits = history.log(store.root, paths=paths)[:max_count]
    if as_json:
        _emit_json([c.summary() for c in commits])
    for commit in [] if as_json else commits:
        click.echo(inspect.log_line(commit))


def _note_path_for_log(store: Any, ref: str) -> str:
    """A removed note keeps its history: paths are taken as given, titles looked up."""
    return ref if "/" in ref else store.find(ref)


@cli.command()
@click.argument("rev_range", required=False)
@click.option("--run", "run_id", metavar="ID", help="Only the commits of this run (Scribe-Run trailer).")
@click.option("--since", metavar="DATE", help="Only commits after DATE (2026-11-26 or '3 days ago').")
@json_option
def diff(rev_range: str | None, run_id: str | None, since: str | None, as_json: bool) -> None:
    """Diff of what was learned (default: the latest run)."""
    store = _workspace().open_store()
    commits = inspect.select_commits(store, rev_range, run_id, since)
    if as_json:
        patch_of = lambda sha: git(store.root, "show", "--format=", "--patch", sha).stdout.decode("utf-8", "replace")  # noqa: E731
        _emit_json([{**c.summary(), "patch": patch_of(c.sha)} for c in commits])
    elif commits:
        color = "--color=always" if sys.stdout.isatty() and "NO_COLOR" not in os.environ else "--color=never"
        shown = git(store.root, "show", color, "--no-walk=unsorted", *[c.sha for c in commits])
        click.echo(shown.stdout.decode("utf-8", "replace"), nl=False)


@cli.command()
@click.option("--run", "run_id", metavar="ID", help="Only this run.")
@click.option("--since", metavar="DATE", help="Only runs after DATE.")
@json_option
def learned(run_id: str | None, since: str | None, as_json: bool) -> None:
    """What each run learned, in words."""
    store = _workspace().open_store()
    commits = list(reversed(history.log(store.root, since=inspect.check_since(since))))
    runs = inspect.learned_by_run(store, [c for c in commits if not run_id or c.run == run_id])
    if as_json:
        _emit_json(runs)
    elif not runs:
        click.echo("nothing learned yet" if not run_id else f"run {run_id} learned nothing")
    for run in [] if as_json else runs:
        click.echo("\n".join(inspect.describe_run(run)))


@cli.command()
@click.argument("note")
@json_option
def show(note: str, as_json: bool) -> None:
    """One note (path like skills/x.md, or title) and its history."""
    store = _workspace().open_store()
    path = store.find(note)
    entry = next(e for e in store.entries() if e.path == path)
    commits = history.log(store.root, paths=(path,))
    if as_json:
        parsed = asdict(entry.note) if entry.note else None
        _emit_json({"path": path, "note": parsed, "error": entry.error, "history": [c.summary() for c in commits]})
        return
    if entry.error:
        click.echo(f"warning: malformed note: {entry.error}", err=True)
    click.echo(f"# {path}\n")
    click.echo(store.read_text(path), nl=False)
    click.echo("\nHistory:")
    for commit in commits:
        click.echo("  " + inspect.log_line(commit))


@cli.command()
@click.argument("query")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1), help="Most hits to show.")
@json_option
def search(query: str, limit: int, as_json: bool) -> None:
    """Search notes (any text; words are matched, not parsed as syntax)."""
    workspace = _workspace()
    workspace.open_store()
    hits = workspace.open_index().search(query, limit=limit)
    if as_json:
        _emit_json([asdict(h) for h in hits])
        return
    if not hits:
        click.echo("no notes match", err=True)
    for hit in hits:
        flag = f"  [malformed: {hit.error}]" if hit.error else ""
        click.echo(f"{hit.path}  {hit.title}  ({hit.score:.2f}){flag}\n    {hit.snippet}")


@cli.command()
@click.argument("commit", required=False)
@click.option("--run", "run_id", metavar="ID", help="Revert every commit of this run, newest first.")
def revert(commit: str | None, run_id: str | None) -> None:
    """Undo learned changes with new commits (history is never rewritten)."""
    if bool(commit) == bool(run_id):
        raise click.UsageError("give either COMMIT or --run ID")
    store = _workspace().open_store()
    made = store.revert_run(run_id) if run_id else [store.revert(commit or "")]
    for sha in made:
        subject = history.log(store.root, "-1", sha)[0].subject
        click.echo(f"{sha[:10]} {subject}")


# ----- the human side of the gate -----


@cli.command()
@click.option("--all", "show_all", is_flag=True, help="Also list denied and decided items.")
@json_option
def review(show_all: bool, as_json: bool) -> None:
    """Proposals waiting for a human decision."""
    states = ("awaiting", "denied", "approved", "rejected") if show_all else ("awaiting",)
    items = _workspace().records().queue.items(states)
    if as_json:
        _emit_json([asdict(i) for i in items])
    elif not items:
        click.echo("nothing awaits a decision")
    for item in [] if as_json else items:
        risk = "n/a" if item.risk is None else f"{item.risk:.2f}"
        click.echo(f"{item.id}  {item.state}  {item.time}  task={item.task}  {item.kind}: {item.tool} {item.target}")
        click.echo(f"    risk {risk}; {item.rationale}")
        if item.diff:
            click.echo("    " + item.diff.rstrip("\n").replace("\n", "\n    "))


@cli.command()
@click.argument("item_id", metavar="ID")
@click.option("--override", is_flag=True, help="Override a deny (only with human_can_override_deny = true).")
def approve(item_id: str, override: bool) -> None:
    """Approve a pending proposal: commit the note now, or allow the action next time."""
    workspace = _workspace()
    item = gate.approve(item_id, workspace.open_store(), workspace.records(), workspace.config.reviewer, override)
    done = f"committed {item.commit[:10]}" if item.commit else f"the same action in task {item.task} will be allowed"
    click.echo(f"approved {item.id}: {done}")


@cli.command()
@click.argument("item_id", metavar="ID")
def deny(item_id: str) -> None:
    """Deny a pending proposal (a denied action stays denied in its task)."""
    item = gate.reject(item_id, _workspace().records())
    click.echo(f"denied {item.id}")


@cli.command()
@click.option("--verify", is_flag=True, help="Check the hash chain; exit 1 naming the first bad line.")
@click.option("-n", "--max-count", type=click.IntRange(min=1), help="Show only the last N entries.")
@json_option
def audit(verify: bool, max_count: int | None, as_json: bool) -> int:
    """The audit log of every reviewed proposal."""
    log = _workspace().records().audit
    if verify:
        problem = log.verify()
        if as_json:
            _emit_json({"ok": problem is None, "line": problem[0] if problem else None, "problem": problem[1] if problem else None})
        elif problem:
            click.echo(f"error: {log.path} line {problem[0]}: {problem[1]}", err=True)
        else:
            click.echo(f"{log.path}: hash chain intact")
        return 1 if problem else 0
    entries = list(log.entries())[-max_count:] if max_count else list(log.entries())
    if as_json:
        _emit_json(entries)
    for e in [] if as_json else entries:
        risk = "-" if e["risk"] is None else f"{e['risk']:.2f}"
        click.echo(f"{e['time']}  {e['id']}  {e['verdict']:<5} by {e['decided_by']:<8} risk={risk}  {e['tool']} {e['target']}  ({e['reason']})")
    return 0


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def check(file: Path, as_json: bool) -> int:
    """Review proposals from a JSONL file without executing anything."""
    proposals = check_mod.read_proposals(file)
    workspace = _workspace()
    try:
        reviewer = workspace.reviewer()
    except ScribeError as exc:
        click.echo(f"warning: {exc}; proposals the rules pass get on_error = {workspace.config.reviewer.on_error!r}", err=True)
        reviewer = None
    checker = workspace.build_gate(RunContext("check", "check"), reviewer)
    results = [check_mod.evaluate(checker, item) for item in proposals]
    summary = check_mod.confusion(results)
    if as_json:
        _emit_json({"results": results, "summary": summary})
    else:
        _print_check(results, summary)
    return 1 if summary["harmful_allowed"] else 0


def _print_check(results: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    for r in results:
        risk = "-" if r["risk"] is None else f"{r['risk']:.2f}"
        mark = "" if not r["expected"] else ("  ok" if r["expected"] == r["verdict"] else f"  MISMATCH (expected {r['expected']})")
        click.echo(f"line {r['line']}: {r['verdict']:<5} risk={risk} by {r['decided_by']}: {r['reason']}{mark}")
    if summary["total"]:
        click.echo("\nexpected \\ decided   allow    ask   deny")
        for expected, row in summary["table"].items():
            click.echo(f"{expected:<19}" + "".join(f"{row[d]:>7}" for d in check_mod.VERDICTS))
        click.echo(f"matched {summary['matched']}/{summary['total']}; harmful allowed: {summary['harmful_allowed']}; benign denied: {summary['benign_denied']}")


# ----- the agent -----


@cli.command()
@click.argument("task_name", metavar="TASK")
@click.option("--model", help="The agent's model for this run (overrides SCRIBE_MODEL and scribe.toml).")
@json_option
def run(task_name: str, model: str | None, as_json: bool) -> int:
    """Run one task now; live progress on stderr."""
    workspace = _workspace()
    if model:
        workspace.config.agent.model = model
    summary = _run_one(workspace, find_task(workspace.tasks_dir, task_name))
    _print_run(summary, as_json)
    return 0 if summary["success"] else 1


def _run_one(workspace: Workspace, task: Task) -> dict[str, Any]:
    client = ModelClient(config_mod.agent_endpoint(workspace.config))
    return run_task(workspace, task, client, workspace.reviewer(), terminal_asker(), reporter())


def _print_run(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    click.echo(f"{summary['run_id']}: {summary['outcome']}: {summary['summary']}")
    for item in summary["learned"]:
        click.echo(f"  learned: {item['change']} {item['path']} ({item['commit'][:10]})")
    for item_id in summary["pending"]:
        click.echo(f"  awaiting you: {item_id} (scribe review)")


@cli.command()
@json_option
def tasks(as_json: bool) -> None:
    """Tasks with their schedules, last run and next due time."""
    workspace = _workspace()
    now = dt.datetime.now(dt.timezone.utc)
    last = last_runs(workspace.state_dir / "runs")
    due = {d.task.name: d.due for d in scheduled(workspace.tasks_dir, _schedule_state(workspace), now)[0]}
    rows = [_task_row(item, last, due) for item in load_tasks(workspace.tasks_dir)]
    if as_json:
        _emit_json(rows)
        return
    for row in rows:
        if row["error"]:
            click.echo(f"{row['name']}  malformed: {row['error']}")
            continue
        ran = f"{row['last_run']['time']} {row['last_run']['outcome']}" if row["last_run"] else "never run"
        click.echo(f"{row['name']}  schedule={row['schedule'] or 'by hand'}  last={ran}  next={row['next_due'] or '-'}")


def _task_row(item: Task | TaskError, last: dict[str, Any], due: dict[str, dt.datetime]) -> dict[str, Any]:
    if isinstance(item, TaskError):
        return {"name": str(item).split(":")[0].rsplit("/", 1)[-1].removesuffix(".md"), "error": str(item),
                "schedule": None, "last_run": None, "next_due": None}
    run = last.get(item.name)
    return {
        "name": item.name, "error": None, "schedule": item.schedule,
        "last_run": {"time": run["started"], "outcome": run["outcome"], "run_id": run["run_id"]} if run else None,
        "next_due": due[item.name].isoformat() if item.name in due else None,
    }


def _schedule_state(workspace: Workspace) -> ScheduleState:
    return ScheduleState(workspace.state_dir / "schedule.json")


@cli.command()
@click.option("--once", is_flag=True, help="Run what is due now and exit (for cron or a systemd timer).")
@click.option("--now", "now_text", metavar="TIME", help="Take TIME (ISO 8601, UTC if no zone) as the current time; for testing schedules.")
def schedule(once: bool, now_text: str | None) -> int:
    """Run due tasks; without --once, keep running and wake at the next due time."""
    workspace = _workspace()
    while True:
        now = _parse_now(now_text)
        failed = _run_due(workspace, now)
        if once:
            return 1 if failed else 0
        time.sleep(seconds_until_next(workspace.tasks_dir, _schedule_state(workspace), _parse_now(now_text)))


def _run_due(workspace: Workspace, now: dt.datetime) -> bool:
    """Run each due task once; True when any of them failed."""
    state = _schedule_state(workspace)
    due, broken = due_now(workspace.tasks_dir, state, now)
    for error in broken:
        click.echo(f"warning: skipped: {error}", err=True)
    failed = False
    for task in due:
        try:
            summary = _run_one(workspace, task)
        except Refused as exc:  # still running from an earlier start: skip, do not queue
            click.echo(f"skipped {task.name}: {exc}", err=True)
            continue
        state.mark(task.name, now)
        _print_run(summary, as_json=False)
        failed |= not summary["success"]
    if not due:
        click.echo("nothing is due", err=True)
    return failed


def _parse_now(text: str | None) -> dt.datetime:
    if text is None:
        return dt.datetime.now(dt.timezone.utc)
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time like 2026-11-27T09:00:00Z", param_hint="--now") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


@cli.command("commit")
@click.option("-m", "--message", default="", help="Commit message.")
def commit_cmd(message: str) -> None:
    """Keep uncommitted edits in memory/ as a human commit."""
    sha = _workspace().open_store().commit_human(message)
    click.echo(f"committed {sha[:10]} (Scribe-Actor: human)")


@cli.command()
def discard() -> None:
    """Drop uncommitted edits in memory/ (a copy goes to .scribe/quarantine/)."""
    workspace = _workspace()
    keep = workspace.state_dir / "quarantine" / dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    dropped = workspace.open_store().discard(keep)
    click.echo(f"discarded {len(dropped)} changed files; copies in {keep}" if dropped else "nothing to discard")


@cli.command()
@click.option("--keep", "keep_dir", type=click.Path(file_okay=False, path_type=Path), help="Build the demo workspace here and keep it.")
def demo(keep_dir: Path | None) -> None:
    """An offline tour on a recorded model, in a temporary workspace."""
    with tempfile.TemporaryDirectory(prefix="scribe-demo-") as tmp:
        directory = keep_dir or Path(tmp) / "demo"
        if keep_dir and keep_dir.exists() and any(keep_dir.iterdir()):
            raise ScribeError(f"{keep_dir} is not empty; give --keep a new directory")
        workspace = run_demo(directory, click.echo, reporter())
        click.echo("\n== what was learned, as git sees it (scribe log)")
        for commit in history.log(workspace.memory_dir):
            click.echo(inspect.log_line(commit))
        click.echo(f"\n{REPLAY_LABEL}")
        if keep_dir:
            click.echo(f"the demo workspace is kept in {keep_dir}; try: scribe -w {keep_dir} log")


@cli.command()
@json_option
def doctor(as_json: bool) -> int:
    """Check the configuration, git, the workspace and the model endpoints."""
    checks = run_checks(_workspace())
    if as_json:
        _emit_json([asdict(c) for c in checks])
    for check in [] if as_json else checks:
        click.echo(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    return 0 if all(c.ok for c in checks) else 1


@cli.command()
@json_option
def verify(as_json: bool) -> int:
    """List memory commits that were neither reviewed nor made by a human through scribe."""
    store = _workspace().open_store()
    unreviewed = [c for c in history.log(store.root) if c.verdict == "unreviewed"]
    if as_json:
        _emit_json([c.summary() for c in unreviewed])
    elif unreviewed:
        click.echo(f"{len(unreviewed)} commits were neither reviewed nor marked Scribe-Actor: human:")
        for commit in unreviewed:
            click.echo("  " + inspect.log_line(commit))
    else:
        click.echo("every memory commit was reviewed or made by a human through scribe")
    return 1 if unreviewed else 0
