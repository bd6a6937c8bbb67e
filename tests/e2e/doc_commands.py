#!/usr/bin/env python3
"""Runs the commands of the documentation and checks what they print; checks
its links. Used by tests/e2e/doc_commands.sh, which starts the demo server.

Every ```sh block of the given Markdown files is split into commands (a line,
or lines joined by a trailing backslash); the `# ` lines right below a
command are what its standard output must be: `...` inside a line stands for
any text, a line of `...` alone for any number of lines. Each command runs on
its own with bash, in --work (a copy of the repository root's layout), with
the demo's port 3443 replaced by --port (and the pages' gateway example's
8443 and 8080 by --gateway-port and --app-port), and must exit 0 (every
command of a pipeline: bash -o pipefail). Commands that cannot run inside a
test (the demo and the whole CI run) are only checked to exist.

Links: every relative link of the given files must name a file of the
repository, and an anchor (#part) a heading of that file.

Standard library only. Exit 0 when everything holds, 1 otherwise.
"""

import argparse
import os
import re
import signal
import subprocess
import sys

# Commands that are checked to exist, not run: the demo server never ends,
# and scripts/test.sh is the whole CI run this test is part of.
NOT_RUN = ("scripts/demo.sh", "scripts/test.sh")
COMMAND_TIMEOUT = 60  # seconds, per command


def sh_blocks(text):
    """(first line number, lines) of every ```sh block."""
    blocks, lines, inside, start = [], text.splitlines(), None, 0
    for number, line in enumerate(lines, 1):
        fence = line.strip()
        if inside is None and fence.startswith("```"):
            inside = fence[3:].strip()
            start, body = number + 1, []
        elif inside is not None and fence == "```":
            if inside == "sh":
                blocks.append((start, body))
            inside = None
        elif inside is not None:
            body.append(line)
    return blocks


def commands(start, body):
    """(line number, command, expected output lines or None) of a block."""
    out, i = [], 0
    while i < len(body):
        line = body[i]
        if not line.strip() or line.lstrip().startswith("#"):
            i += 1
            continue
        number, command = start + i, line
        while command.endswith("\\") and i + 1 < len(body):
            i += 1
            command = command[:-1] + "\n" + body[i]
        i += 1
        expected = []
        while i < len(body) and body[i].startswith("#"):
            expected.append(body[i][2:] if body[i].startswith("# ") else body[i][1:])
            i += 1
        out.append((number, command, expected if expected else None))
    return out


def line_matches(pattern, line):
    regex = ".*".join(re.escape(part) for part in pattern.rstrip().split("..."))
    return re.fullmatch(regex, line.rstrip(), re.DOTALL) is not None


def output_matches(expected, actual):
    """Whether the actual lines match the expected ones (`...` lines: any lines)."""
    memo = {}

    def match(e, a):
        if (e, a) in memo:
            return memo[(e, a)]
        if e == len(expected):
            result = a == len(actual)
        elif expected[e].strip() == "...":
            result = any(match(e + 1, k) for k in range(a, len(actual) + 1))
        else:
            result = a < len(actual) and line_matches(expected[e], actual[a]) and match(e + 1, a + 1)
        memo[(e, a)] = result
        return result

    return match(0, 0)


def run_bounded(command, cwd):
    """(exit code or None on timeout, stdout, stderr) of `bash -o pipefail -c
    command` (a pipeline fails with any of its commands: `curl ... | python3`
    with a body that did not end as framed, curl exiting 18 after the whole
    JSON, is not a pass); on timeout its whole process group is killed."""
    process = subprocess.Popen(["bash", "-o", "pipefail", "-c", command], cwd=cwd,
                               env=dict(os.environ, NO_COLOR="1"), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=COMMAND_TIMEOUT)
        code = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        code = None
    return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def run_commands(path, name, work, ports, root):
    failures, count = [], 0
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for start, body in sh_blocks(text):
        for number, command, expected in commands(start, body):
            where = f"{name}:{number}"
            first = command.split()[0]
            if first in NOT_RUN:
                script = os.path.join(root, first)
                if not (os.path.isfile(script) and os.access(script, os.X_OK)):
                    failures.append(f"{where}: {first} is not an executable file of the repository")
                continue
            count += 1
            text_run = command
            for page_port, real_port in ports.items():
                text_run = text_run.replace(f"localhost:{page_port}", f"localhost:{real_port}").replace(
                    f"127.0.0.1:{page_port}", f"127.0.0.1:{real_port}")
            returncode, stdout, stderr = run_bounded(text_run, work)
            if returncode is None:
                failures.append(f"{where}: did not finish within {COMMAND_TIMEOUT} s:\n  {command}")
                continue
            print(f"--- {where}: {command}\n{stdout}", end="" if stdout.endswith("\n") or not stdout else "\n")
            if returncode != 0:
                failures.append(f"{where}: exit {returncode}:\n  {command}\nstdout:\n{stdout}\nstderr:\n{stderr}")
                continue
            if expected is not None and not output_matches(expected, stdout.splitlines()):
                shown = "\n".join("# " + line for line in expected)
                failures.append(f"{where}: printed something else than the page shows:\n  {command}\n"
                                f"the page:\n{shown}\nprinted:\n{stdout}\nstderr:\n{stderr}")
    return count, failures


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_\[\]()]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    result, inside = set(), False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                inside = not inside
            elif not inside and line.startswith("#"):
                result.add(slug(line.lstrip("#")))
    return result


def check_links(path, name, root, pending):
    failures = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # links in code are not links
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target):
            continue  # http:, https:, mailto:
        file_part, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        relative = os.path.relpath(resolved, root)
        if not os.path.exists(resolved):
            if relative in pending:
                print(f"NOTE: {name} links {relative}, written elsewhere and not here yet")
                continue
            failures.append(f"{name}: dead link ({target}): {relative} does not exist")
            continue
        if anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
            failures.append(f"{name}: dead link ({target}): {relative} has no heading #{anchor}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="the repository")
    parser.add_argument("--work", required=True, help="where the commands run")
    parser.add_argument("--port", required=True, help="the demo server's port")
    parser.add_argument("--gateway-port", default="8443", help="the port of certauth in front of the application")
    parser.add_argument("--app-port", default="8080", help="the application's port")
    parser.add_argument("--pending", default="", help="comma-separated pages that may be linked before they exist")
    parser.add_argument("--links-only", nargs="*", default=[], help="files whose links are checked, not commands")
    parser.add_argument("files", nargs="+", help="Markdown files, relative to --root")
    args = parser.parse_args()
    pending = {p for p in args.pending.split(",") if p}

    failures, count = [], 0
    for name in args.files:
        ports = {"3443": args.port, "8443": args.gateway_port, "8080": args.app_port}
        ran, failed = run_commands(os.path.join(args.root, name), name, args.work, ports, args.root)
        count += ran
        failures += failed
    for name in args.files + args.links_only:
        failures += check_links(os.path.join(args.root, name), name, args.root, pending)

    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    print(f"doc_commands: {count} commands run from {len(args.files)} pages; {len(failures)} failures")
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
