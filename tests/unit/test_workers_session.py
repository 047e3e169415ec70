"""A webhook worker is a session of its own and still ends with its supervisor.

Linux shares a busy CPU between sessions before their processes, so workers left in
the supervisor's session got one worker's CPU between them. Once they leave it, a
supervisor killed outright (SIGKILL: no chance to stop them) must not leave them
serving the port: the parent-death signal ends them.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.workers import _own_session

ROOT = Path(__file__).resolve().parents[2]

# The supervisor's part: start a worker the way `supervise` does (spawn), report its pid.
SUPERVISOR = """
import multiprocessing, os, sys
from tests.unit.test_workers_session import worker
context = multiprocessing.get_context("spawn")
reader, writer = context.Pipe(False)
context.Process(target=worker, args=(os.getpid(), writer)).start()
print(reader.recv(), flush=True)
sys.stdin.read()
"""


def worker(parent: int, conn) -> None:
    _own_session(parent)
    conn.send(os.getpid())
    signal.pause()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal")
def test_a_worker_is_its_own_session_and_dies_with_its_supervisor():
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    child = gone = None
    try:
        child = int(supervisor.stdout.readline())
        assert os.getsid(child) == child != os.getsid(supervisor.pid)
        gone = os.pidfd_open(child)
        supervisor.kill()
        supervisor.wait()
        ready, _, _ = select.select([gone], [], [], 30)  # readable once the worker exited
        assert ready, "the worker outlived its supervisor"
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        if gone is not None:
            if not select.select([gone], [], [], 0)[0]:
                signal.pidfd_send_signal(gone, signal.SIGKILL)
            os.close(gone)
