#!/usr/bin/env python3
"""`make bench`: every client against one fast local token server, alternating, 5 repetitions.

Prints a Markdown table and writes it to bench/results/latest.md. Server and clients are
pinned to CPU 0 (taskset), which gave the steadiest figures on 2-core machines.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "bench" / "peers"
PY = str(PEERS / "venv" / "bin" / "python")
RUST = str(ROOT / "target" / "release" / "oauth-refresh-bench")
C = str(PEERS / "c_bench")
NODE = ["node", str(ROOT / "bench" / "node" / "bench.js")]

# (language, client, command, is ours)
CLIENTS = [
    ("Rust", "oauth-refresh Client::refresh", [RUST, "ours"], True),
    ("Rust", "raw ureq POST + serde_json (floor)", [RUST, "ureq"], False),
    ("Python", "oauth-refresh refresh", [PY, "bench/python_bench.py", "oauth-refresh refresh"], True),
    ("Python", "oauth-refresh refresh_async", [PY, "bench/python_bench.py", "oauth-refresh refresh_async"], True),
    ("Python", "requests.Session.post", [PY, "bench/python_bench.py", "requests.Session.post"], False),
    ("Python", "httpx.Client.post", [PY, "bench/python_bench.py", "httpx.Client.post"], False),
    ("Python", "authlib OAuth2Client.refresh_token", [PY, "bench/python_bench.py", "authlib OAuth2Client.refresh_token"], False),
    ("Python", "requests-oauthlib OAuth2Session.refresh_token",
     [PY, "bench/python_bench.py", "requests-oauthlib OAuth2Session.refresh_token"], False),
    ("Node", "oauth-refresh refresh (await)", NODE + ["oauth-refresh refresh (await)"], True),
    ("Node", "oauth-refresh refreshSync", NODE + ["oauth-refresh refreshSync"], True),
    ("Node", "undici.request", NODE + ["undici.request"], False),
    ("Node", "fetch", NODE + ["fetch"], False),
    ("Node", "simple-oauth2 token.refresh()", NODE + ["simple-oauth2 token.refresh()"], False),
    ("Node", "openid-client refreshTokenGrant", NODE + ["openid-client refreshTokenGrant"], False),
    ("C", "oauth_refresh_client_refresh", [C, "oauth_refresh_client_refresh"], True),
    ("C", "libcurl easy handle + cJSON", [C, "libcurl"], False),
]

TARGETS = [  # (language, our client, peer or floor, minimum ratio)
    ("Rust", "oauth-refresh Client::refresh", "floor", 0.9),
    ("Python", "oauth-refresh refresh", "peer", 5.0),
    ("Python", "oauth-refresh refresh_async", "peer", 5.0),
    ("Node", "oauth-refresh refreshSync", "peer", 5.0),
    ("Node", "oauth-refresh refresh (await)", "peer", 2.5),
    ("C", "oauth_refresh_client_refresh", "peer", 0.9),
]


def start_server():
    server = subprocess.Popen(
        ["taskset", "-c", "0", str(ROOT / "target" / "release" / "token-server"), "--threads", "1"],
        stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), "token-server did not start"
    return server, url


def connections(url):
    with urllib.request.urlopen(url + "/bench/stats", timeout=10) as r:
        return json.load(r)["connections"]


def run_one(cmd, url, n, warmup, cpus="0"):
    argv = ["taskset", "-c", cpus] + cmd + [url + "/bench/fast/token", str(n), str(warmup)]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def callgrind_instructions(url, client):
    """Instructions per refresh in the client process (the server is another process)."""
    totals = []
    for n in (100, 600):
        out_file = f"/tmp/oauth-refresh-callgrind.{os.getpid()}.out"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", RUST, client,
                        url + "/bench/fast/token", str(n), "0"], capture_output=True, check=True, timeout=600)
        summary = [l for l in Path(out_file).read_text().splitlines() if l.startswith("summary:")]
        totals.append(int(summary[0].split()[1]))
        os.remove(out_file)
    return (totals[1] - totals[0]) / 500


def manager_costs(url, args):
    """Median ns per TokenManager.access_token(): cached, and coordinated (after invalidate()),
    with the in-memory store (the baseline) and with Redis."""
    costs = {}
    stores = ("memory", "redis", "postgres") if os.environ.get("POSTGRES_URL") else ("memory", "redis")
    for kind, n in (("cached", args.n * 100), ("coordinated", args.n)):
        for store in stores:
            if store == "postgres" and kind == "coordinated":
                n = max(args.n // 10, 200)  # every commit waits for the disk
            client = f"manager-{kind}-{store}"
            runs = [run_one([RUST, client], url, n, args.warmup) for _ in range(args.reps)]
            costs[kind, store] = statistics.median(r["seconds"] / r["n"] * 1e9 for r in runs)
            print(f"{client:32} {costs[kind, store]:12,.0f} ns", file=sys.stderr)
    # The same cache hit from Python and Node (memory store): the binding's cost on top.
    for lang, cmd in (("Python", [PY, "bench/python_bench.py"]), ("Node", NODE)):
        runs = [run_one(cmd + ["manager-cached"], url, args.n * 100, args.warmup) for _ in range(args.reps)]
        costs["cached", lang] = statistics.median(r["seconds"] / r["n"] * 1e9 for r in runs)
        print(f"manager-cached {lang:17} {costs['cached', lang]:12,.0f} ns", file=sys.stderr)
    return costs


def accounts_figures(url, reps):
    """AccountTokens through each store: refresh-ahead from stored grants to fresh tokens,
    and a cold load by a new process; medians of `reps` runs."""
    figures = {}
    stores = [("memory", 10000), ("file", 2000), ("redis", 10000)]
    if os.environ.get("POSTGRES_URL"):
        stores.append(("postgres", 10000))
    for store, n in stores:
        # Seeding 10,000 rows commits durably some 30,000 times: one run for PostgreSQL.
        runs = [run_one([RUST, f"accounts-{store}"], url, n, 0) for _ in range(1 if store == "postgres" else reps)]
        figures[store] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(f"accounts-{store:10} {n / figures[store]['ahead_seconds']:12,.0f} refreshes/s", file=sys.stderr)
    return figures


def machine_line():
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()

    server, url = start_server()
    results = {c[1]: [] for c in CLIENTS}
    try:
        for rep in range(args.reps):
            # Alternate: each repetition runs every client once, in a rotated order.
            order = CLIENTS[rep % len(CLIENTS):] + CLIENTS[:rep % len(CLIENTS)]
            for lang, name, cmd, _ in order:
                before = connections(url)
                r = run_one(cmd, url, args.n, args.warmup)
                # The stats request that reads the counter is itself one connection.
                r["connections"] = connections(url) - before - 1
                r["rate"] = r["n"] / r["seconds"]
                results[name].append(r)
                print(f"rep {rep + 1}/{args.reps} {lang:6} {name:48} {r['rate']:9.0f}/s", file=sys.stderr)
        scaling = {}
        for threads, client in ((1, "ours"), (2, "ours-2threads")):
            r = run_one([RUST, client], url, args.n, args.warmup, cpus="0,1")
            scaling[threads] = r["n"] / r["seconds"]
        instructions = {c: callgrind_instructions(url, c) for c in ("ours", "ureq")}
        managers = manager_costs(url, args) if os.environ.get("REDIS_URL") else None
        accounts = accounts_figures(url, args.reps) if os.environ.get("REDIS_URL") else None
    finally:
        server.terminate()

    def med(name, key):
        return statistics.median(r[key] for r in results[name])

    rate = {name: med(name, "rate") for name in results}
    best_peer = {}
    for lang, name, _, ours in CLIENTS:
        if not ours and lang != "Rust":
            best_peer[lang] = max(best_peer.get(lang, 0), rate[name])
    floor = rate["raw ureq POST + serde_json (floor)"]

    lines = [
        "# make bench: latest results",
        "",
        f"Machine: {machine_line()}. Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"{args.n} refreshes after {args.warmup} warm-up, {args.reps} repetitions alternating, "
        "server and client pinned to CPU 0, every client reusing its connection.",
        "",
        "| language | client | refreshes/s (median, min–max) | median µs | p99 µs | peak RSS | TCP connections | × best peer | × Rust floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for lang, name, _, ours in CLIENTS:
        rs = [r["rate"] for r in results[name]]
        peer = f"{rate[name] / best_peer[lang]:.2f}" if lang in best_peer else "–"
        label = f"**{name}**" if ours else name
        lines.append(
            f"| {lang} | {label} | {rate[name]:,.0f} ({min(rs):,.0f}–{max(rs):,.0f}) | {med(name, 'median_us'):.0f} "
            f"| {med(name, 'p99_us'):.0f} | {med(name, 'rss_kb') / 1024:.1f} MiB "
            f"| {max(r['connections'] for r in results[name])} | {peer} | {rate[name] / floor:.2f} |")
    lines += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for lang, name, against, minimum in TARGETS:
        measured = rate[name] / (floor if against == "floor" else best_peer[lang])
        what = "the raw ureq floor" if against == "floor" else f"the fastest {lang} peer"
        lines.append(f"| {lang} `{name}` ≥ {minimum}× {what} | {measured:.2f}× | {'yes' if measured >= minimum else '**no**'} |")
    lines += [
        "",
        "## Instructions per refresh (valgrind callgrind, client process only)",
        "",
        f"- oauth-refresh `Client::refresh`: {instructions['ours']:,.0f}",
        f"- raw ureq POST + serde_json: {instructions['ureq']:,.0f}",
        "",
        "## Two threads sharing one client (client on CPUs 0–1, server on CPU 0)",
        "",
        f"- 1 thread: {scaling[1]:,.0f} refreshes/s; 2 threads: {scaling[2]:,.0f} refreshes/s "
        f"({scaling[2] / scaling[1]:.2f}×)",
        "",
    ]
    lines += ["## TokenManager.access_token() with Redis and PostgreSQL (Rust, local servers)", ""]
    if managers is None:
        lines += ["Not measured: REDIS_URL was not set (`make bench` starts a redis-server).", ""]
    else:
        lines += [
            "Median time per call; coordinated = after `invalidate()`: lease, load, refresh, "
            "compare-and-swap. Ratios against the in-memory store measured in the same run.",
            "",
            "| call | memory store | Redis store | Redis ÷ memory | PostgreSQL store | PostgreSQL ÷ memory |",
            "|---|---|---|---|---|---|",
        ]
        for kind, what in (("cached", "cached (fast path)"), ("coordinated", "coordinated refresh")):
            memory, redis = managers[kind, "memory"], managers[kind, "redis"]
            pg = managers.get((kind, "postgres"))
            pg_cells = f"{pg:,.0f} ns | {pg / memory:.2f}×" if pg else "not measured | –"
            lines.append(f"| {what} | {memory:,.0f} ns | {redis:,.0f} ns | {redis / memory:.2f}× | {pg_cells} |")
        lines += [
            "",
            "PostgreSQL commits every write durably (`synchronous_commit = on`): a coordinated refresh "
            "waits for the disk twice (the lease, then the token with the lease's release), so its "
            "cost is the machine's fsync time.",
        ]
        lines += [
            "",
            "## A cache hit in each language (memory store, batches of 1,000 calls)",
            "",
            "| language | call | ns per call | target | met |",
            "|---|---|---|---|---|",
        ]
        for lang, call, key, target in (("Rust", "access_token()", "memory", 100),
                                        ("Python", "access_token()", "Python", 1000),
                                        ("Node", "accessTokenSync()", "Node", 1000)):
            ns = managers["cached", key]
            lines.append(f"| {lang} | `{call}` | {ns:,.0f} | ≤ {target:,} ns | {'yes' if ns <= target else '**no**'} |")
        lines.append("")
    lines += ["## Many accounts: AccountTokens (Rust)", ""]
    if accounts is None:
        lines += ["Not measured: REDIS_URL was not set.", ""]
    else:
        memory = accounts["memory"]["n"] / accounts["memory"]["ahead_seconds"]
        lines += [
            "Refresh-ahead (at most 4 refreshes in flight) bringing N grants added to the store to "
            "fresh tokens, counted from a new process (so including its load of every account); "
            "then a cold load: a new process serving all N from the store. Medians of "
            f"{args.reps} runs (PostgreSQL: one); ratios against the memory store in the same run.",
            "",
            "| store | accounts | refresh-ahead refreshes/s | ÷ memory | cold load of all | per account | "
            "round trips per refresh | connections held |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for store in accounts:
            f = accounts[store]
            rate = f["n"] / f["ahead_seconds"]
            networked = store in ("redis", "postgres")
            trips = f"{f['round_trips_per_refresh']:.2f}" if networked else "–"
            held = f"{f['connections']:.0f}" if networked else "–"
            lines.append(
                f"| {store} | {f['n']:,.0f} | {rate:,.0f} | {rate / memory:.2f}× | {f['cold_load_seconds']:.3f} s "
                f"| {f['cold_load_seconds'] / f['n'] * 1e6:.1f} µs | {trips} | {held} |")
        lines += [
            "",
            "Redis round trips per refresh-ahead refresh include the one load of each account when the new "
            "process first sees it; a coordinated refresh of a loaded account takes 2 (lease with load, then "
            "write with release), asserted in `core/tests/accounts.rs`.",
            "",
        ]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results" / "latest.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
