"""The action tools themselves: confinement, timeouts, caps, no keys in the environment."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agent.tools import Limits, ToolError, Toolbox, cut


@pytest.fixture
def box(tmp_path: Path) -> Toolbox:
    work = tmp_path / "work"
    work.mkdir()
    return Toolbox(work, Limits(shell_timeout_s=1, http_timeout_s=2, output_cap=200, http_cap=50))


def test_shell_runs_in_the_workdir_and_reports_the_exit_code(box: Toolbox) -> None:
    assert box.run("shell", {"command": "pwd; exit 3"}) == f"exit code 3\n{box.workdir}\n"


def test_shell_never_sees_api_keys(box: Toolbox, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    monkeypatch.setenv("HARMLESS", "visible")
    out = box.run("shell", {"command": "env | grep -E 'OPENAI|HARMLESS'"})
    assert "sk-should-not-leak" not in out and "HARMLESS=visible" in out


def test_shell_timeout_kills_the_whole_process_group(box: Toolbox) -> None:
    out = box.run("shell", {"command": "sleep 30 & sleep 30; echo never"})
    assert out.startswith("timed out after 1s and was killed") and "never" not in out


def test_long_output_is_cut_with_a_note(box: Toolbox) -> None:
    out = box.run("shell", {"command": "yes x | head -n 1000"})
    assert len(out) < 300 and "[output cut:" in out
    assert cut("short", 10) == "short"


def test_files_stay_inside_the_workdir(box: Toolbox, tmp_path: Path) -> None:
    assert box.run("write_file", {"path": "a/b.txt", "content": "hé"}) == "wrote 3 bytes to a/b.txt"
    assert box.run("read_file", {"path": "a/b.txt"}) == "hé"
    (tmp_path / "secret.txt").write_text("outside")
    (box.workdir / "link").symlink_to(tmp_path)
    for path in ("../secret.txt", "/etc/hostname", "link/secret.txt"):
        with pytest.raises(ToolError, match="outside the working directory"):
            box.run("read_file", {"path": path})
    with pytest.raises(ToolError, match="cannot read missing.txt"):
        box.run("read_file", {"path": "missing.txt"})


def test_bad_arguments_and_unknown_tools_are_tool_errors(box: Toolbox) -> None:
    with pytest.raises(ToolError, match="bad arguments for shell"):
        box.run("shell", {"cmd": "ls"})
    with pytest.raises(ToolError, match="unknown tool 'teleport'"):
        box.run("teleport", {})


@pytest.fixture
def web() -> str:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b"y" * 500 if self.path == "/big" else b"hello"
            self.send_response(404 if self.path == "/missing" else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            data = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(201)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_request_status_body_and_size_cap(box: Toolbox, web: str) -> None:
    assert box.run("http_request", {"method": "get", "url": f"{web}/x"}) == "HTTP 200\nhello"
    assert box.run("http_request", {"method": "POST", "url": f"{web}/echo", "body": "ping"}) == "HTTP 201\nping"
    assert box.run("http_request", {"method": "GET", "url": f"{web}/missing"}).startswith("HTTP 404")
    big = box.run("http_request", {"method": "GET", "url": f"{web}/big"})
    assert big == "HTTP 200\n" + "y" * 50 + "\n[response cut at 50 bytes]"
    with pytest.raises(ToolError, match="only http and https"):
        box.run("http_request", {"method": "GET", "url": "file:///etc/passwd"})
    with pytest.raises(ToolError, match="failed"):
        box.run("http_request", {"method": "GET", "url": "http://127.0.0.1:9/"})
