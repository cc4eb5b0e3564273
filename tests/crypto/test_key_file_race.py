"""Several subgraph processes starting at once on one data directory agree on the data keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOAD = (
    "from shared.crypto import load_data_keyring; from shared.settings import Settings;"
    "import sys; ring = load_data_keyring(Settings(data_dir=sys.argv[1]));"
    "print(ring.newest_kid)"
)


def test_concurrent_first_starts_never_read_a_partial_key_file(tmp_path) -> None:
    for attempt in range(3):
        data_dir = tmp_path / f"run{attempt}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", LOAD, str(data_dir)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(8)
        ]
        results = [p.communicate(timeout=60) for p in procs]
        assert all(p.returncode == 0 for p in procs), [err for _, err in results]
        assert len({out for out, _ in results}) == 1  # every process loaded the same key file
