#!/usr/bin/env python3
"""Replays the Dockerfile's build stage in a scratch directory, then checks that the binary
it produces starts and answers a health check.

No Docker engine runs where CI runs, so `docker build` cannot be tried; this reads the
Dockerfile itself and carries out its build stage's WORKDIR, COPY (honouring .dockerignore)
and RUN instructions in order, in an empty folder standing for the image's root, so that
the stage compiles from exactly what it copies. An instruction it does not know fails the
replay rather than being skipped.

Usage: .ci/replay-dockerfile.py   (from anywhere; exits non-zero on the first failure)
"""

import fnmatch
import os
import pathlib
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent


def instructions(text):
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    out, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        op, _, arg = current.partition(" ")
        out.append((op.upper(), arg.strip()))
        current = ""
    return out


def build_stage(instrs):
    """The instructions of the stage named `build`."""
    stage, inside = [], False
    for op, arg in instrs:
        if op == "FROM":
            if inside:
                break
            inside = arg.lower().split()[-2:] == ["as", "build"]
            continue
        if inside:
            stage.append((op, arg))
    if not stage:
        sys.exit("replay: the Dockerfile has no stage named `build`")
    return stage


def ignore_patterns():
    path = REPO / ".dockerignore"
    if not path.exists():
        return []
    return [
        p.strip().rstrip("/")
        for p in path.read_text().splitlines()
        if p.strip() and not p.strip().startswith("#")
    ]


def ignored(rel, patterns):
    return any(
        fnmatch.fnmatch(rel, p) or rel.startswith(p + "/") or fnmatch.fnmatch(rel.split("/")[-1], p)
        for p in patterns
    )


def copy(sources, dest, cwd, patterns):
    # A destination ending in "/" is a folder, as in Docker (pathlib drops the slash).
    many = len(sources) > 1 or dest.endswith("/")
    dest = pathlib.PurePosixPath(dest) if dest.startswith("/") else pathlib.Path(dest)
    target = dest if dest.is_absolute() else cwd / dest
    for src in sources:
        origin = (REPO / src).resolve()
        if not origin.exists():
            sys.exit(f"replay: COPY {src}: not in the build context")
        if origin.is_dir():
            into = target if (src in (".", "./") or not many) else target / origin.name
            for path in origin.rglob("*"):
                rel = path.relative_to(REPO).as_posix()
                if ignored(rel, patterns) or not path.is_file():
                    continue
                to = into / path.relative_to(origin)
                to.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, to)
        else:
            rel = origin.relative_to(REPO).as_posix()
            if ignored(rel, patterns):
                sys.exit(f"replay: COPY {src}: excluded by .dockerignore")
            to = target / origin.name if many else target
            to.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, to)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    root = pathlib.Path(tempfile.mkdtemp(prefix="herald-image-"))
    cwd = root
    env = dict(os.environ)
    # The image's build knows nothing of the host's cargo settings: its target folder is
    # the one under WORKDIR.
    env.pop("CARGO_TARGET_DIR", None)
    patterns = ignore_patterns()
    for op, arg in build_stage(instructions((REPO / "Dockerfile").read_text())):
        if op == "WORKDIR":
            cwd = root / arg.lstrip("/")
            cwd.mkdir(parents=True, exist_ok=True)
        elif op == "COPY":
            *sources, dest = shlex.split(arg)
            if any(s.startswith("--") for s in sources):
                sys.exit(f"replay: COPY {arg}: flags are not replayed")
            copy(sources, dest, cwd, patterns)
        elif op == "RUN":
            print(f"replay: RUN {arg}", flush=True)
            subprocess.run(["bash", "-ec", arg], cwd=cwd, env=env, check=True)
        elif op == "ENV":
            for pair in shlex.split(arg):
                key, _, value = pair.partition("=")
                env[key] = value
        else:
            sys.exit(f"replay: {op} is not replayed; teach .ci/replay-dockerfile.py about it")
    binary = root / "src" / "target" / "release" / "herald"
    if not binary.is_file():
        sys.exit(f"replay: the build stage made no {binary}")
    # The runtime stage copies this binary; it must start, and answer its health check.
    version = subprocess.run([binary, "--version"], check=True, capture_output=True, text=True)
    print(f"replay: {version.stdout.strip()}")
    port = free_port()
    work = pathlib.Path(tempfile.mkdtemp(prefix="herald-run-"))
    demo = REPO / "config" / "demo" / "hartlepool-2021.json"
    server = subprocess.Popen(
        [binary, "watch", "--source", demo, "--store", work / "herald.db", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        for _ in range(100):
            if subprocess.run([binary, "health", "--url", url], capture_output=True).returncode == 0:
                print(f"replay: `herald health --url {url}` says healthy")
                break
            time.sleep(0.2)
        else:
            sys.exit("replay: the built herald never answered its health check")
    finally:
        server.terminate()
        server.wait(timeout=10)
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
