"""Propagation latency of a user directory in PostgreSQL: CHANGES commits
(joe removed, added again, removed, ...) by `certauth users remove/add`,
each timed until every instance on PORTS answers joe as the change says
(401 unknown_user, then 200), asked on new connections
(tests/e2e/lib/enforcement.py). The commit's time is PostgreSQL's own
(pg_last_committed_xact(), with track_commit_timestamp on: tests/e2e/lib/postgres.sh).
Prints p50, p90, p99 and max from the commit, and from the writer's start
(its start-up and connection included).

Usage: propagation.py CERTAUTH PSQL DIRECTORY FIXTURES CHANGES PORT...
"""
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests/e2e/lib"))
from enforcement import Client  # noqa: E402

COMMIT_TIME = "SELECT extract(epoch FROM timestamp) FROM pg_last_committed_xact()"


def percentile(values, p):
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values):
    return (f"p50 {percentile(values, 50) * 1000:.0f} ms, p90 {percentile(values, 90) * 1000:.0f} ms, "
            f"p99 {percentile(values, 99) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms")


def main():
    certauth, psql, directory, fixtures = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
    changes = int(sys.argv[5])
    ports = [int(p) for p in sys.argv[6:]]
    client = Client(fixtures / "ca.crt", fixtures / "joe.crt", fixtures / "joe.key")
    from_commit, from_start = [], []
    for i in range(changes):
        remove = i % 2 == 0
        args = ["remove", directory, "--cn", "joe"] if remove else ["add", directory, "--cn", "joe", "--role", "admin"]
        expect = "401 unknown_user" if remove else "200"
        start = time.time()
        subprocess.run([certauth, "users", *args], check=True, stdout=subprocess.DEVNULL)
        done, last = client.wait(ports, expect, 10)
        if done is None:
            sys.exit(f"change {i + 1}: not in force on every instance within 10 s: {last}")
        committed = float(subprocess.run([psql, directory, "-XAtc", COMMIT_TIME], check=True, capture_output=True,
                                         text=True).stdout)
        from_commit.append(done - committed)
        from_start.append(done - start)
        time.sleep(0.05)
    print(f"{changes} changes, {len(ports)} instances, each asked on a new connection until all enforce")
    print(f"commit -> every instance enforcing: {summary(from_commit)} (mean {statistics.mean(from_commit) * 1000:.0f} ms)")
    print(f"writer's start -> every instance enforcing: {summary(from_start)}")


if __name__ == "__main__":
    main()
