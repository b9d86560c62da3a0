"""TensorBoard's memory and the Per-Class routes' answer times on a long run, on a loading path.

Starts a real `tensorboard` (data server, or `--load_fast=false`) on a log directory written by
bench/long_run.py, waits until it has read every event file (its processes stop using CPU), then
calls the routes in the order the Per-Class tab calls them and reads resident memory (VmRSS) of
TensorBoard's processes from /proc after each phase:

  empty       the same tensorboard command on an empty log directory (TensorBoard's own floor)
  loaded      the run read, before the tab asks anything: TensorBoard's reservoir of our data
  tags        the tab opens: the tags route
  curves      curves (binary, as the tab fetches them): the first answer, then warm answers
  confusion   for 10 steps spread over the run: confusion, pairs and report at that step, the
              first answer and a warm one each (the step slider moving)

"plugin growth" is RSS after the last phase minus RSS at `loaded`, summed over TensorBoard's
processes (the Python process and, on the default path, the Rust data server); the issue's
target is at most 3x the bytes of the curves answer. Peaks are each process's VmHWM, reset at
`loaded` (clear_refs), so they show the transient high-water mark of the requests.

    python -m bench.long_run_memory LOGDIR [--load-fast true|false] [--steps-probed 10]
                                       [--many-runs] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.helpers import ROUTE_PREFIX, TensorBoardProcess

MiB = 2**20


# --- processes and memory --------------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """`root` and its descendants (TensorBoard's Python process and its data server)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except OSError:
                continue
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        return "data server" if b"server" in os.path.basename(argv[0]) else "python"
    except OSError:
        return "?"


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return total


class Memory:
    """Resident memory of a TensorBoard process tree, per process kind, in bytes."""

    def __init__(self, root: int):
        self.root = root

    def rss(self) -> dict[str, int]:
        return self._per_kind("VmRSS")

    def peak(self) -> dict[str, int]:
        """High-water marks since `reset_peak` (or the start)."""
        return self._per_kind("VmHWM")

    def _per_kind(self, field: str) -> dict[str, int]:
        result: dict[str, int] = {}
        for pid in process_tree(self.root):
            name = process_name(pid)
            result[name] = result.get(name, 0) + status_kib(pid, field) * 1024
        return result

    def reset_peak(self) -> None:
        for pid in process_tree(self.root):
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                pass

    def wait_idle(self, quiet_seconds: float = 4.0, timeout: float = 1800.0) -> float:
        """Waits until the tree used under 2% of a core for `quiet_seconds`; returns seconds."""
        start = time.monotonic()
        last, since = cpu_seconds(process_tree(self.root)), time.monotonic()
        while time.monotonic() - start < timeout:
            time.sleep(1.0)
            now = cpu_seconds(process_tree(self.root))
            if now - last > 0.02 * 1.0:
                since = time.monotonic()
            last = now
            if time.monotonic() - since >= quiet_seconds:
                return time.monotonic() - start
        raise TimeoutError("TensorBoard kept using CPU")


def total(figures: dict[str, int]) -> int:
    return sum(figures.values())


# --- requests ---------------------------------------------------------------------------------


def timed_get(server: TensorBoardProcess, route: str, **params) -> tuple[float, bytes]:
    """Seconds and body of one GET of a Per-Class route, gzip accepted as a browser does."""
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    url = f"{server.url}{ROUTE_PREFIX}/{route}" + (f"?{query}" if query else "")
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            body = response.read()
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
    except urllib.error.HTTPError as error:
        raise RouteFailed(f"{route} {params}: HTTP {error.code}") from None
    return time.perf_counter() - start, body


class RouteFailed(RuntimeError):
    pass


def tab_session(
    server: TensorBoardProcess, memory: Memory, probes: int, warm: int, figures: dict
) -> None:
    """The tab's requests on the first run, phase by phase, with RSS after each phase, into
    `figures` as it goes (a failing route leaves what was measured before it)."""
    figures.update(phases={}, times={}, answer_bytes={})

    def phase(name: str) -> None:
        figures["phases"][name] = memory.rss()

    def record(key: str, seconds: float, body: bytes) -> None:
        figures["times"].setdefault(key, []).append(seconds)
        figures["answer_bytes"][key] = len(body)

    seconds, body = timed_get(server, "tags")
    record("tags", seconds, body)
    tags = json.loads(body)
    run = sorted(tags)[0]
    name = sorted(tags[run])[0]
    kinds = tags[run][name]["kinds"]
    figures["run"], figures["name"], figures["kinds"] = run, name, kinds
    phase("tags")

    seconds, body = timed_get(server, "curves", run=run, name=name, format="binary")
    record("curves first", seconds, body)
    phase("curves first")
    for _ in range(warm):
        seconds, body = timed_get(server, "curves", run=run, name=name, format="binary")
        record("curves warm", seconds, body)
    phase("curves")

    if "confusion" in kinds:
        seconds, body = timed_get(server, "steps", run=run, name=name, kind="confusion")
        steps = json.loads(body)["steps"]
        chosen = [steps[round(i * (len(steps) - 1) / max(probes - 1, 1))] for i in range(probes)]
        for index, step in enumerate(chosen):
            for route, params in (
                ("confusion", {}),
                ("pairs", {"limit": 20}),
                ("report", {}),
            ):
                seconds, body = timed_get(server, route, run=run, name=name, step=step, **params)
                record(f"{route} first", seconds, body)
                for _ in range(warm):
                    seconds, body = timed_get(
                        server, route, run=run, name=name, step=step, **params
                    )
                    record(f"{route} warm", seconds, body)
            if index == 0:
                phase("confusion first step")
        figures["steps_probed"] = chosen
        phase("confusion")


def many_runs_session(server: TensorBoardProcess, memory: Memory, figures: dict) -> None:
    """What several open runs cost: after the tags route (no run looked at), after one run's
    curves, and after every run's curves (what the tab fetches when all runs are ticked)."""
    figures.update(phases={}, times={}, answer_bytes={})
    seconds, body = timed_get(server, "tags")
    tags = json.loads(body)
    figures["runs"] = len(tags)
    figures["phases"]["tags"] = memory.rss()
    for index, run in enumerate(sorted(tags)):
        name = sorted(tags[run])[0]
        seconds, body = timed_get(server, "curves", run=run, name=name, format="binary")
        figures["times"].setdefault("curves first", []).append(seconds)
        figures["answer_bytes"]["curves first"] = len(body)
        if index == 0:
            figures["phases"]["one run's curves"] = memory.rss()
    figures["phases"][f"all {len(tags)} runs' curves"] = memory.rss()


def start(logdir: str, load_fast: bool) -> TensorBoardProcess:
    return TensorBoardProcess(logdir, load_fast=load_fast, extra_args=["--reload_interval=0"])


def measure(logdir: str, load_fast: bool, probes: int, warm: int, many_runs: bool = False) -> dict:
    result: dict = {"logdir": logdir, "load_fast": load_fast}
    with tempfile.TemporaryDirectory() as empty:
        with start(empty, load_fast) as server:
            memory = Memory(server._process.pid)
            memory.wait_idle()
            result["empty"] = memory.rss()
    with start(logdir, load_fast) as server:
        memory = Memory(server._process.pid)
        server.wait_for_runs(1, timeout=1800)
        result["load_seconds"] = memory.wait_idle()
        result["loaded"] = memory.rss()
        memory.reset_peak()
        try:
            if many_runs:
                many_runs_session(server, memory, result)
            else:
                tab_session(server, memory, probes, warm, result)
        except RouteFailed as error:
            log = server.log_text()
            cause = [line for line in log.splitlines() if "rror" in line and "oneDNN" not in line]
            result["failed"] = f"{error}; TensorBoard's log: {' | '.join(cause[-2:])[:400]}"
        result["peak"] = memory.peak()
    return result


def report(result: dict) -> str:
    lines = []
    path = "data server (default)" if result["load_fast"] else "--load_fast=false"
    loaded, empty = result["loaded"], result["empty"]
    lines.append(f"== {path}: {result['logdir']} (read in {result['load_seconds']:.0f} s)")
    lines.append(
        f"TensorBoard on an empty logdir {total(empty) / MiB:.0f} MiB; with the run read "
        f"{total(loaded) / MiB:.0f} MiB (+{(total(loaded) - total(empty)) / MiB:.0f} MiB: its "
        "reservoir of the run)"
    )
    kinds = sorted({k for p in result["phases"].values() for k in p} | set(loaded))
    lines.append(
        f"{'phase':24s}" + "".join(f"{k + ' MiB':>18s}" for k in kinds) + f"{'growth MiB':>14s}"
    )
    for phase, figures in [("loaded", loaded), *result["phases"].items()]:
        growth = (total(figures) - total(loaded)) / MiB
        lines.append(
            f"{phase:24s}"
            + "".join(f"{figures.get(k, 0) / MiB:18.0f}" for k in kinds)
            + f"{growth:14.0f}"
        )
    lines.append(
        f"{'peak (VmHWM)':24s}" + "".join(f"{result['peak'].get(k, 0) / MiB:18.0f}" for k in kinds)
    )
    if "failed" in result:
        lines.append(f"FAILED: {result['failed']}")
    curves = result["answer_bytes"].get("curves first")
    final = list(result["phases"].values())[-1]
    growth = total(final) - total(loaded)
    if curves:
        lines.append(
            f"curves answer {curves / MiB:.1f} MiB; plugin growth {growth / MiB:.0f} MiB = "
            f"{growth / curves:.1f}x the curves answer (target <= 3x)"
        )
    if "runs" in result:
        lines.append(f"{result['runs']} runs")
    lines.append(f"{'route':20s}{'median ms':>11s}{'max ms':>9s}{'answer KiB':>12s}  n")
    for key, times in result["times"].items():
        lines.append(
            f"{key:20s}{statistics.median(times) * 1e3:11.1f}{max(times) * 1e3:9.1f}"
            f"{result['answer_bytes'][key] / 1024:12.1f}  {len(times)}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir")
    parser.add_argument("--load-fast", default="true", choices=("true", "false"))
    parser.add_argument("--steps-probed", type=int, default=10)
    parser.add_argument("--warm", type=int, default=3, help="warm repeats of each request")
    parser.add_argument(
        "--many-runs",
        action="store_true",
        help="every run's curves instead of one run's views (bench/long_run.py --copies)",
    )
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    result = measure(
        args.logdir, args.load_fast == "true", args.steps_probed, args.warm, args.many_runs
    )
    print(report(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
