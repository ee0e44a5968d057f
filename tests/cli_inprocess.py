"""The `afluente` command run inside the test process: the console-script entry point
(`afluente.cli.app.main`) with its own argv, stdout, stderr and logging, the result shaped like
`subprocess.run(..., capture_output=True, text=True)`'s.

It tests the same entry point as `python -m afluente.cli` without paying for a new
interpreter and its imports on every call. Keep real subprocesses for what only a process
shows: start-up imports, signals, exit after a crash, several processes at once.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import traceback
from collections.abc import Mapping, Sequence

from click.testing import CliRunner

from afluente.cli.app import main


def run_afluente(
    args: Sequence[str], env: Mapping[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    """`afluente *args` in this process: its exit code, stdout and stderr.

    `env` adds or (with None) removes environment variables for the call only. The
    `afluente` logger's handlers are the command's own for the call (as in a new process:
    `configure_logging` binds them to this call's stderr) and are restored after it.
    """
    logger = logging.getLogger("afluente")
    saved = (logger.handlers[:], logger.level)
    logger.handlers.clear()
    argv = sys.argv
    code: int = 0
    try:
        with CliRunner().isolation(env=env) as (out, err, _):
            sys.argv = ["afluente", *args]
            try:
                main()
            except SystemExit as exit_:
                code = _exit_status(exit_.code)
            except Exception:  # an uncaught error: Python prints it and exits 1
                sys.stderr.write(traceback.format_exc())
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    finally:
        sys.argv = argv
        for handler in logger.handlers:
            handler.close()
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])
    return subprocess.CompletedProcess(["afluente", *args], code, stdout, stderr)


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")  # sys.exit("message"): printed, status 1
    return 1
