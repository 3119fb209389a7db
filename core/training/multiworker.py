"""One model trained by several processes (machines): the addresses checked, and each worker's training run in a
child process whose parent enforces the time the other workers have to come up.

Why a child: ``tf.distribute.MultiWorkerMirroredStrategy``'s constructor blocks, holding the interpreter lock,
until every worker of the cluster has joined (no Python timer or signal handler runs meanwhile), and once it runs
TensorFlow catches SIGTERM (a lone worker outlived ``timeout 60`` by minutes). So the parent starts the child,
waits for one byte on a pipe that the child writes once the cluster is up (``signal_ready``), kills the child
(SIGKILL) when it does not come in time, and otherwise relays the child's exit status. The child dies with its
parent (Linux: ``PR_SET_PDEATHSIG``).
"""
from __future__ import annotations

import errno
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

from ..errors import SettingsError

READY_FD_ENV = "LAYERWISE_WORKER_READY_FD"
DEFAULT_TIMEOUT = 120.0      # seconds the other workers have to come up
_ADDRESS = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(?P<port>\d{1,5})")


class WorkerTimeout(SettingsError):
    """The other workers did not come up in time."""


def parse_workers(text, flag="--workers") -> list[str]:
    """"host:port,host:port" -> the addresses; SettingsError naming the malformed one."""
    parts = [w.strip() for w in str(text or "").split(",")]
    if not any(parts):
        raise SettingsError(f"{flag}: give the workers' addresses as HOST:PORT,HOST:PORT (one per machine)")
    out = []
    for w in parts:
        m = _ADDRESS.fullmatch(w)
        if not m:
            raise SettingsError(f"{flag}: {w!r} is not HOST:PORT (e.g. 10.0.0.5:12345 or gpu-box:12345)")
        port = int(m["port"])
        if not 1 <= port <= 65535:
            raise SettingsError(f"{flag}: {w!r}: port {port} is not between 1 and 65535")
        if w in out:
            raise SettingsError(f"{flag}: {w} is given twice; every worker needs its own address")
        out.append(w)
    if len(out) < 2:
        raise SettingsError(f"{flag}: one address ({out[0]}) is one worker; multi-worker training needs two or more")
    return out


def check_rank(rank, workers, flag="--rank"):
    if rank is None:
        raise SettingsError(f"{flag}: say which of the {len(workers)} workers this is (0 to {len(workers) - 1}; "
                            f"worker 0 writes the result)")
    if not 0 <= int(rank) < len(workers):
        raise SettingsError(f"{flag}: {rank} is not one of the {len(workers)} workers (0 to {len(workers) - 1})")


def check_own_address(address, rank):
    """SettingsError when this worker cannot listen on its own address: the port is in use, or the host is not
    this machine."""
    host, port = address.rsplit(":", 1)
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise SettingsError(f"--workers: worker {rank}'s host {host!r} cannot be resolved ({e.strerror})") from None
    family, _, _, _, sockaddr = infos[0]
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind(sockaddr)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise SettingsError(f"--workers: port {port} on {host} (worker {rank}) is in use by another program; "
                                f"choose a free port") from None
        if e.errno == errno.EADDRNOTAVAIL:
            raise SettingsError(f"--workers: {address} is not an address of this machine; worker {rank} must run "
                                f"on the machine its address names") from None
        raise SettingsError(f"--workers: cannot listen on {address} ({e.strerror or e})") from None
    finally:
        s.close()


# -- the child process ------------------------------------------------------------------------------------------
def _die_with_parent():
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
        except Exception:
            pass


def launch(cmd, env=None, timeout=DEFAULT_TIMEOUT, others="the other workers") -> int:
    """Run ``cmd`` (a worker's training) in a child process; WorkerTimeout (after killing it) when it does not say
    within ``timeout`` seconds that the cluster is up; else the child's exit status once it ends."""
    r, w = os.pipe()
    env = dict(os.environ if env is None else env)
    env[READY_FD_ENV] = str(w)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl+C reaches the child, which stops cleanly
    try:
        child = subprocess.Popen(cmd, env=env, pass_fds=(w,), preexec_fn=_die_with_parent)
        os.close(w)
        if not _wait_ready(r, child, timeout):
            child.kill()
            child.wait()
            raise WorkerTimeout(f"{others} never came up: no answer within {timeout:g} s (start every worker "
                                f"within that time of each other, or raise --worker-timeout)")
        return child.wait()
    finally:
        os.close(r)
        signal.signal(signal.SIGINT, previous)


def _wait_ready(fd, child, timeout) -> bool:
    """True once the child wrote its byte; False at the timeout. A child that ended before is 'ready' (its exit
    status says how it ended)."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if ready:
            return True   # a byte, or the end of the pipe (the child exited)
        if child.poll() is not None:
            return True


def is_worker_child() -> bool:
    return READY_FD_ENV in os.environ


def signal_ready():
    """In the child: tell the parent that the cluster is up (once)."""
    fd = os.environ.pop(READY_FD_ENV, None)
    if fd is None:
        return
    try:
        os.write(int(fd), b"1")
        os.close(int(fd))
    except OSError:
        pass
