"""Propagation latency of a user directory: CHANGES commits (joe removed,
added again, removed, ...) by `certauth users remove/add`, each timed until
every instance on PORTS answers joe as the change says (401 unknown_user,
then 200), asked on new connections (tests/e2e/lib/enforcement.py). Prints
p50, p90, p99 and max, from the writer's start (its start-up and connection
included: an upper bound of commit -> enforced) and from its exit (after the
commit: a lower bound).

Usage: propagation.py CERTAUTH DIRECTORY FIXTURES CHANGES PORT...
"""
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests/e2e/lib"))
from enforcement import Client  # noqa: E402


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def main():
    certauth, directory, fixtures, changes = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    ports = [int(p) for p in sys.argv[5:]]
    client = Client(fixtures / "ca.crt", fixtures / "joe.crt", fixtures / "joe.key")
    from_start, from_exit, writer = [], [], []
    for i in range(changes):
        remove = i % 2 == 0
        args = ["remove", directory, "--cn", "joe"] if remove else ["add", directory, "--cn", "joe", "--role", "admin"]
        expect = "401 unknown_user" if remove else "200"
        start = time.time()
        subprocess.run([certauth, "users", *args], check=True, stdout=subprocess.DEVNULL)
        exited = time.time()
        took, last = client.wait(ports, expect, start, 10)
        if took is None:
            sys.exit(f"change {i + 1}: not in force on every instance within 10 s: {last}")
        from_start.append(took)
        from_exit.append(max(0.0, took - (exited - start)))
        writer.append(exited - start)
        time.sleep(0.05)
    print(f"changes {changes}, instances {len(ports)}")
    for name, values in (("from the writer's start", from_start), ("from the writer's exit", from_exit)):
        print(f"{name}: p50 {percentile(values, 50) * 1000:.0f} ms, p90 {percentile(values, 90) * 1000:.0f} ms, "
              f"p99 {percentile(values, 99) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms")
    print(f"the writer (certauth users add/remove) itself: median {statistics.median(writer) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
