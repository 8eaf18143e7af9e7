"""Benchmark: a burst of submissions to a running course server (``coursekit serve``) on loopback.

Starts a server (a process of its own, with its grading workers) on a fresh gradebook with a roster of
100 students, posts N submissions of lesson 07 through the API within the given seconds (60% correct
notebooks made from solutions/, 25% with one solution broken, 15% untouched exercises/; every one
different), while an instructor reloads the dashboard. Then reports: lost (posted but not in the queue,
must be 0), graded once (each upload's result recorded exactly once), the p50/p95 time from post to
grade, and the dashboard's p50/p95 response time while the queue drained (goal: under 200 ms).

    python benchmarks/bench_server.py [--count 500] [--seconds 25] [--workers 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from bench_grading import percentile, variants  # this folder's: the scripts run as `python benchmarks/...`

from coursekit.grading.gradebook import Gradebook
from coursekit.server import tokens

ROOT = Path(__file__).resolve().parents[1]
LESSON = "07_efficiency"


def notebooks(count: int) -> list[bytes]:
    """``count`` different notebooks: 60% correct, 25% one solution broken, 15% untouched exercises."""
    return [nbformat.writes(nb).encode() for _, nb in variants(LESSON, count, last="untouched")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=25.0, help="post them all within this time")
    parser.add_argument("--workers", type=int, default=2, help="grading processes of the server")
    parser.add_argument("--port", type=int, default=8731)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-server-"))
    runtime = folder / "runtime"
    runtime.mkdir(mode=0o700)
    gradebook = folder / "gradebook.sqlite"
    roster = "id,name,email\n" + "".join(f"s{i:03d},Student {i},s{i}@example.org\n" for i in range(100))
    with Gradebook(gradebook) as book:
        issued = [one.token for one in tokens.import_roster(book.db, roster.encode())]
        instructor = tokens.issue_instructor_token(book.db)
    payloads = notebooks(args.count)
    env = {**os.environ, "COURSEKIT_RUNTIME_DIR": str(runtime),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    log = (folder / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "coursekit", "serve", "--root", str(ROOT), "--gradebook",
                               str(gradebook), "--port", str(args.port), "--workers", str(args.workers)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{args.port}"
    try:
        _wait_up(url, server)
        print(f"server up; posting {args.count} submissions of {LESSON} within {args.seconds:g} s "
              f"({args.workers} grading processes, {os.cpu_count()} cores)")
        report = _run(url, issued, instructor, payloads, args.seconds, gradebook)
    finally:
        server.terminate()
        server.wait(30)
        subprocess.run([sys.executable, "-m", "coursekit", "sandbox", "stop"], env=env, capture_output=True)
    for line in report:
        print(line)


def _wait_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server ended at start")
        try:
            urllib.request.urlopen(url + "/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer")


def _instructor_opener(url: str, token: str):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(url + "/").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    opener.open(url + "/login", data=urllib.parse.urlencode({"csrf": csrf, "token": token}).encode()).read()
    return opener


def _run(url, issued, instructor, payloads, seconds, gradebook) -> list[str]:
    posted: dict[int, float] = {}  # queue id -> wall time of the post's answer
    refused: list[str] = []
    lock = threading.Lock()
    start = time.time()

    def post(index: int) -> None:
        time.sleep(max(0.0, start + index * seconds / len(payloads) - time.time()))  # an even burst
        call = urllib.request.Request(f"{url}/api/submissions?lesson={LESSON}", data=payloads[index], method="POST",
                                      headers={"Authorization": f"Bearer {issued[index % len(issued)]}"})
        try:
            with urllib.request.urlopen(call, timeout=30) as answer:
                queue_id = json.load(answer)["id"]
            with lock:
                posted[queue_id] = time.time()
        except OSError as error:
            with lock:
                refused.append(str(error))

    dashboard: list[float] = []
    done = threading.Event()

    def watch_dashboard() -> None:
        opener = _instructor_opener(url, instructor)
        while not done.is_set():
            began = time.perf_counter()
            opener.open(url + "/instructor").read()
            dashboard.append(time.perf_counter() - began)
            done.wait(0.2)

    watcher = threading.Thread(target=watch_dashboard, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(post, range(len(payloads))))
    post_seconds = time.time() - start
    db = sqlite3.connect(f"file:{gradebook}?mode=ro", uri=True)
    deadline = time.monotonic() + 600
    while db.execute("SELECT COUNT(*) FROM queue WHERE state != 'done'").fetchone()[0]:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    drained = time.time() - start
    done.set()
    watcher.join(5)
    rows = db.execute("SELECT id, recorded, done_at FROM queue").fetchall()
    states = dict(db.execute("SELECT state, COUNT(*) FROM submissions GROUP BY state").fetchall())
    in_queue = {row[0] for row in rows}
    latencies = [dt.datetime.fromisoformat(done_at).timestamp() - posted[queue_id]
                 for queue_id, _, done_at in rows if done_at and queue_id in posted]
    lost = len(set(posted) - in_queue)
    once = sum(1 for _, recorded, _ in rows if recorded == 1)
    return [
        f"posted: {len(posted)} accepted in {post_seconds:.1f} s, {len(refused)} refused"
        + (f" (first: {refused[0]})" if refused else ""),
        f"lost: {lost}; graded exactly once: {once} of {len(rows)} (more than once: "
        f"{sum(1 for _, r, _ in rows if r > 1)}); gradebook: {states}",
        f"queue drained {drained:.1f} s after the first post ({len(rows) / drained:.1f} graded per s overall)",
        f"post to grade: p50 {percentile(latencies, 0.5):.2f} s, p95 {percentile(latencies, 0.95):.2f} s, "
        f"max {max(latencies):.2f} s",
        f"dashboard while draining ({len(dashboard)} loads): p50 {1000 * percentile(dashboard, 0.5):.0f} ms, "
        f"p95 {1000 * percentile(dashboard, 0.95):.0f} ms, max {1000 * max(dashboard):.0f} ms",
    ]


if __name__ == "__main__":
    main()
