"""Start a command that opens JupyterLab on chapters/, check that it serves the chapters, and stop it.

    .venv/bin/python tests/lab_check.py make lab          # what `make check-lab` runs
    .venv/bin/python tests/lab_check.py --cwd DIR -- jupyter lab chapters/

The command runs unchanged. What a test must not get (a browser window, a random port, a token it cannot
know) is set through a Jupyter config file in a temporary JUPYTER_CONFIG_DIR: a free port on 127.0.0.1, no
browser, a known token, and allow_root (a container often runs as root). Then, through 127.0.0.1 only:

- GET /lab answers 200 with JupyterLab's page;
- GET /api/contents/ lists exactly the notebooks of chapters/ (read from the folder itself), so the server
  was started on chapters/ and not on the repository or the home folder.

The server is stopped (SIGTERM to its process group, then SIGKILL) whatever happened. Exit 0 when both checks
pass, 1 otherwise, with the server's last output.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

STARTUP_SECONDS = 120


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(config_dir: Path, port: int, token: str) -> None:
    """Jupyter server settings for a headless check: fixed port, no browser, known token, root allowed."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {"ip": "127.0.0.1", "port": port, "port_retries": 0, "open_browser": False,
                      "allow_root": True},
        "IdentityProvider": {"token": token},
    }))


def get(url: str, token: str) -> tuple[int, str]:
    """GET `url` with the server's token; return (status, body)."""
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def wait_until_serving(base: str, token: str, server: subprocess.Popen, seconds: float) -> None:
    """Poll /api/status until the server answers; fail early if its process ends."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the command exited with status {server.returncode} before serving")
        try:
            if get(f"{base}/api/status", token)[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"no Jupyter server answered on {base} within {seconds:.0f} s")


def check_serving(base: str, token: str, chapters: Path) -> list[str]:
    """The two checks of the module docstring; return the problems found (empty: all good)."""
    problems = []
    status, body = get(f"{base}/lab", token)
    if status != 200 or "JupyterLab" not in body:
        problems.append(f"GET /lab answered {status}, not JupyterLab's page")
    status, body = get(f"{base}/api/contents/", token)
    expected = sorted(path.name for path in chapters.glob("*.ipynb"))
    if status != 200:
        problems.append(f"GET /api/contents/ answered {status}")
    else:
        listed = sorted(item["name"] for item in json.loads(body)["content"] if item["type"] == "notebook")
        if not expected or listed != expected:
            problems.append(f"the server's root lists the notebooks {listed}, expected chapters/: {expected}")
    return problems


def stop(server: subprocess.Popen) -> None:
    """Stop the command and everything it started (it runs in its own process group)."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def check_lab(command: list[str] | str, cwd: Path, env: dict[str, str] | None = None,
              startup_seconds: float = STARTUP_SECONDS) -> list[str]:
    """Run `command` (a list, or a bash script) in `cwd`; return the problems found, [] when it works.

    `startup_seconds`: how long the command may take before it serves (a script that installs first needs more).
    """
    token = secrets.token_hex(16)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="lab-check-") as tmp:
        config_dir = Path(tmp) / "jupyter-config"
        write_config(config_dir, port, token)
        env = {**(env or os.environ), "JUPYTER_CONFIG_DIR": str(config_dir)}
        log_path = Path(tmp) / "server.log"
        shell = isinstance(command, str)
        with open(log_path, "wb") as log:
            server = subprocess.Popen(["bash", "-c", command] if shell else command, cwd=cwd, env=env,
                                      stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                base = f"http://127.0.0.1:{port}"
                wait_until_serving(base, token, server, startup_seconds)
                problems = check_serving(base, token, cwd / "chapters")
            except RuntimeError as error:
                problems = [str(error)]
            finally:
                stop(server)
        if problems:
            tail = log_path.read_text(errors="replace")[-3000:]
            problems.append(f"server output (last lines):\n{tail}")
        return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cwd", type=Path, default=Path(__file__).resolve().parents[1],
                        help="folder to run the command in (it must hold chapters/); default: the repository")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, e.g. make lab")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to check, e.g. make lab")
    start = time.perf_counter()
    problems = check_lab(command, args.cwd.resolve())
    seconds = time.perf_counter() - start
    if problems:
        print(f"FAILED: {' '.join(command)}", *problems, sep="\n", file=sys.stderr)
        return 1
    print(f"ok: `{' '.join(command)}` served JupyterLab on chapters/ ({seconds:.1f} s, started and stopped)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
