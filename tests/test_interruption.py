"""Interrupted runs stop with one line and leave nothing behind (issue 29, item 6; the kernel warning of issue 26).

SIGINT and SIGTERM end with "interrupted; rerun the same command to resume" and exit 130/143; a temporary
that an uncatchable kill (SIGKILL) left in a run folder is removed by the next run that takes the folder's
lock; the chapters' kernels run on IPC sockets in a private folder that every exit path removes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from mwalign import atomic, kernels, pipeline

REPO = Path(__file__).resolve().parents[1]

# A command that writes a folder atomically and is interrupted halfway (the point where training saves a model).
_SLOW_COMMAND = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from mwalign import atomic, cli

    def slow(args):
        with atomic.atomic_dir(Path(sys.argv[1]) / "model") as tmp:
            (tmp / "weights.bin").write_bytes(b"x" * 1000)
            print("writing", flush=True)
            time.sleep(60)

    cli.cmd_models = slow
    sys.exit(cli.main(["models", "prepare"]))
""")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_with_one_line_and_no_half_written_folder(tmp_path, signum, code):
    # Given a command halfway through an atomic folder write
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_COMMAND, str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "writing"
    # When it gets the signal
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    # Then one line says so, the exit status is 128 + the signal, and the temporary folder is gone
    assert proc.returncode == code, err
    assert err == "mwalign: interrupted; rerun the same command to resume\n", err
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "the interrupted write left files behind"


def test_the_next_run_removes_what_a_killed_write_left_in_its_run_folder(tmp_path):
    # Given a run folder with what SIGKILL leaves: a temporary model folder, a temporary file, a set-aside copy
    run_dir = tmp_path / "run"
    (run_dir / "models" / ".tiny-s0.k2j4l5m6.tmp").mkdir(parents=True)
    (run_dir / "models" / ".tiny-s0.k2j4l5m6.tmp" / "model.safetensors").write_bytes(b"x" * 100)
    (run_dir / "results").mkdir()
    (run_dir / "results" / ".scores.parquet.abcd_123.tmp").write_bytes(b"x")
    (run_dir / "models" / ".tiny-s1.old-0123abcd").mkdir()
    kept = [run_dir / "models" / "tiny-s0" / ".mwalign-fingerprint.json", run_dir / "results" / "scores.parquet"]
    for path in kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    # When a run takes the folder's lock
    with pipeline.run_lock(run_dir):
        left = sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*"))
    # Then only the debris is gone
    assert left == [".mwalign.lock", "models", "models/tiny-s0", "models/tiny-s0/.mwalign-fingerprint.json",
                    "results", "results/scores.parquet"], left
    assert atomic.remove_leftovers(run_dir) == [], "nothing left to remove"


def test_kernel_folders_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"{kernels.PREFIX}{dead.stdout.strip()}-abcd1234"
    live = tmp_path / f"{kernels.PREFIX}{os.getpid()}-abcd1234"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "kernel.json").write_text("{}")
    assert kernels.remove_stale_folders(tmp_path) == [stale]
    assert live.is_dir()


def test_a_chapter_kernel_runs_on_ipc_without_the_tcp_warning_and_leaves_no_connection_file(tmp_path, capfd):
    import papermill

    # Given a one-cell notebook, When it runs the way the stages run
    cell = "from ipykernel.kernelapp import IPKernelApp; print(IPKernelApp.instance().transport)"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source = tmp_path / "in.ipynb"
    nbformat.write(notebook, source)
    before = set(Path("/tmp").glob("tmp*.json"))
    with kernels.private_kernel(tmp_path) as kernel:
        folder = next(tmp_path.glob(f"{kernels.PREFIX}*"))
        kernels.run_in_worker(lambda: papermill.execute_notebook(
            str(source), str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False, **kernel))
    # Then the kernel used Unix sockets, printed no transport warning, and no connection file is left anywhere
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert out.cells[0].outputs[0]["text"] == "ipc\n", out.cells[0].outputs
    assert "without encryption" not in capfd.readouterr().err
    assert not folder.exists(), "the kernel folder (connection file with its key, sockets) must be removed"
    assert set(Path("/tmp").glob("tmp*.json")) <= before, "no connection file may be left in /tmp"


def test_an_interrupted_chapter_stops_its_kernel_and_removes_its_folder(tmp_path):
    # Given a chapter whose cell runs for a minute, executed the way the stages run, in a child process
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time; time.sleep(60)")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "in.ipynb")
    script = textwrap.dedent(f"""
        import papermill, sys
        from pathlib import Path
        from mwalign import cli, kernels

        def chapter(args):
            with kernels.private_kernel(Path({str(tmp_path)!r})) as kernel:
                print("started", flush=True)
                kernels.run_in_worker(lambda: papermill.execute_notebook(
                    {str(tmp_path / 'in.ipynb')!r}, {str(tmp_path / 'out.ipynb')!r}, kernel_name="python3",
                    progress_bar=False, **kernel))

        cli.cmd_models = chapter
        sys.exit(cli.main(["models", "prepare"]))
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout.readline().strip() == "started"
    folder = next(tmp_path.glob(f"{kernels.PREFIX}*"))
    deadline = time.time() + 60
    while not list(folder.glob("kernel-ipc-*")) and time.time() < deadline:  # the kernel is up
        time.sleep(0.2)
    # When it gets SIGTERM
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    # Then one line, status 143, no kernel folder and no kernel process of it left
    assert proc.returncode == 143 and err.endswith("mwalign: interrupted; rerun the same command to resume\n"), err
    assert not folder.exists()
    time.sleep(1)
    kernels_left = [p for p in Path("/proc").glob("[0-9]*/cmdline") if str(folder).encode() in _read(p)]
    assert kernels_left == [], "the kernel outlived the interrupted stage"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
