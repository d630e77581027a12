"""The test machinery of week-environments, in one place, for every suite and the benchmarks:

- `week_testkit.ports`: a free loopback port;
- `week_testkit.processes`: process groups that a crash cannot leave behind;
- `week_testkit.postgres`: a throw-away PostgreSQL cluster (context manager, pytest fixture,
  and `python -m week_testkit.postgres -- COMMAND` for shell scripts);
- `week_testkit.server`: a server process (the API's `python -m app`, or any command) started,
  waited for and stopped;
- `week_testkit.wrk`: wrk's command line, with wrk_counts.lua, and its output parsed;
- `week_testkit.models`: the API's model trained for tests (`python -m ml.algo`).
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
"""The repository root (this package lives in tests/support/week_testkit)."""
API_DIR = REPO / "lambdas-src" / "api"
SAMPLE_CSV = API_DIR / "ml" / "data" / "sample.csv"


class SetupError(RuntimeError):
    """Some test machinery could not start or stop; the message says what and why."""
