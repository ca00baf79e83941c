"""The Jupyter kernel a chapter runs in: IPC sockets in a private folder that no exit path leaves behind.

By default jupyter_client starts kernels on TCP ports of localhost with a connection file (holding the
kernel's key) in ``/tmp``; ipykernel then warns, in every executed stage, that its traffic is unencrypted,
and a killed run leaves the file behind. :func:`private_kernel` instead puts the connection file and the
kernel's Unix sockets (``transport = "ipc"``, reachable by this user only) in a fresh 0700 folder named
after this process, and removes it when the stage ends, fails or is interrupted. A folder of a process that
no longer exists (killed with SIGKILL, which nothing can catch) is removed by the next stage that starts.

:func:`run_in_worker` runs the notebook in a thread: nbclient then leaves the process's signal handlers
alone (it installs its own only in the main thread), so SIGINT and SIGTERM reach mwalign, which stops with
one line (:mod:`mwalign.cli`); the kernel, whose parent has gone, exits by itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

PREFIX = "mwalign-kernel-"
T = TypeVar("T")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_folders(parent: Path | None = None) -> list[Path]:
    """Remove kernel folders left by mwalign processes that no longer run; returns what was removed."""
    removed = []
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid = folder.name.removeprefix(PREFIX).split("-")[0]
        if folder.is_dir() and pid.isdigit() and not _alive(int(pid)) and folder.stat().st_uid == os.getuid():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextlib.contextmanager
def private_kernel(parent: Path | None = None) -> Iterator[dict[str, Any]]:
    """Yield papermill keyword arguments for a kernel on IPC sockets in a private folder, removed afterwards."""
    from traitlets.config import Config

    remove_stale_folders(parent)
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))  # mode 0700
    connection = folder / "kernel.json"
    try:
        yield {"config": Config({"KernelManager": {"transport": "ipc", "connection_file": str(connection)}})}
    except BaseException:
        _stop_kernels(connection)  # interrupted or failed: the kernel must not outlive the stage
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _stop_kernels(connection: Path) -> None:
    """SIGTERM the kernel processes started with ``connection`` (Linux ``/proc``; elsewhere the kernel notices
    that its parent has gone and exits by itself)."""
    needle = str(connection).encode()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if needle in cmdline.read_bytes():
                os.kill(int(cmdline.parent.name), signal.SIGTERM)
        except (OSError, ValueError):
            continue


def run_in_worker(work: Callable[[], T], *, name: str = "mwalign-notebook") -> T:
    """``work()`` in a daemon thread while the main thread waits, so signals interrupt the wait at once."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as err:  # handed to the caller's thread
            outcome["error"] = err

    worker = threading.Thread(target=target, name=name, daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.2)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
