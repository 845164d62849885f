"""Where a phase of a bench run spent the server's CPU: a summary of py-spy's recording of that phase.

bench/run.py --py-spy DIR records each Daphne with `py-spy record --format raw --threads` during
each phase of the run (the join burst; each reveal, from just before the host's End to a second
after its Next), into DIR/daphne-PID-PHASE.txt. Only samples of threads on the CPU are kept, so a
thread's samples divided by the rate are its CPU seconds. This prints, per group of threads, the
samples and the functions that took most of them (inclusive, and own time).

    python bench/spyslice.py DIR/daphne-PID-join.txt [--rate 100] [--top 25]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

THREAD_RE = re.compile(r"^thread \(\d+\): (?P<name>[^;]*)")
# py-spy counts a thread woken again and again as running: an innermost frame that waits is waiting
# (for another thread, a lock, a new thread to start), not working, and is counted apart.
WAITS = ("wait", "acquire", "select", "_wait_for_tstate_lock", "sleep")


def group_of(thread: str) -> str:
    """The event loop, the database thread that every database_sync_to_async call shares, and the
    rest: under ASGI each HTTP request runs its sync views in a thread of its own (asgiref's
    ThreadSensitiveContext), which is then joined and dropped."""
    if thread == "MainThread":
        return "event loop (MainThread)"
    if thread == "ThreadPoolExecutor-0_0":
        return "database thread (ThreadPoolExecutor-0_0)"
    return "other threads (per HTTP request)"


def read(path: Path) -> dict[str, Counter]:
    """Busy stacks (outermost first) -> samples, by group of threads."""
    groups: dict[str, Counter] = defaultdict(Counter)
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        found = THREAD_RE.match(frames[0])
        name = found.group("name") if found else frames[0]
        groups[group_of(name)][tuple(frames[1:])] += int(count)
    return groups


def summary(path: Path, rate: int = 100, top: int = 20) -> list[str]:
    lines = [f"== {path.name}"]
    for group, stacks in sorted(read(path).items()):
        own: Counter = Counter()
        inclusive: Counter = Counter()
        waits: Counter = Counter()
        for stack, count in stacks.items():
            innermost = stack[-1] if stack else ""
            if innermost.split(" ")[0].rsplit(".", 1)[-1] in WAITS:
                waits[stack[-2] if len(stack) > 1 else innermost] += count
                continue
            own[innermost] += count
            for fn in set(stack):
                inclusive[fn] += count
        n = max(1, sum(own.values()))
        lines.append(f"{group}: {sum(own.values())} samples working, {n / rate:.1f} CPU s")
        lines.append(
            f"  waiting: {sum(waits.values())} samples, in "
            + ", ".join(f"{fn} {c}" for fn, c in waits.most_common(4))
        )
        lines.append("  inclusive:")
        lines += [f"    {100 * c / n:5.1f}%  {fn}" for fn, c in inclusive.most_common(top)]
        lines.append("  own time:")
        lines += [f"    {100 * c / n:5.1f}%  {fn}" for fn, c in own.most_common(top)]
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("recording", type=Path, nargs="+")
    p.add_argument("--rate", type=int, default=100)
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args(argv)
    for path in args.recording:
        print("\n".join(summary(path, args.rate, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
