"""`dvcc-dbt`: the venv's dbt, bound to the life of the process that started it.

dagster-dbt starts `dbt build` as a child process. When the run's process is killed (OOM
killer, reboot, operator), an orphaned dbt would keep writing the warehouse for minutes;
this wrapper asks the kernel to send it SIGKILL when its parent dies, then becomes dbt.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

from dvcc_pipeline.config import get_settings

_PR_SET_PDEATHSIG = 1


def main() -> None:
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            sys.exit(1)
    # dbt's profile reads the warehouse from the environment; a process that only imported the
    # definitions has not exported it, and still means its own DVCC_HOME's warehouse.
    os.environ.setdefault("DVCC_WAREHOUSE_PATH", str(get_settings().warehouse_path))
    dbt = Path(sys.executable).with_name("dbt")
    os.execv(dbt, [str(dbt), *sys.argv[1:]])


if __name__ == "__main__":
    main()
