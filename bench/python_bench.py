"""`python_bench.py CLIENT URL N WARMUP`: N refreshes after WARMUP, one JSON line of figures.

Every client reuses its connection, as a careful user would.
"""

import asyncio
import json
import sys
import time

CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = "bench-app", "secret-bench-app", "rt-bench"


def make(client, url):
    if client == "oauth-refresh refresh":
        import oauth_refresh

        c = oauth_refresh.Client(url)
        return lambda: c.refresh(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN).access_token
    if client == "requests.Session.post":
        import requests

        s = requests.Session()
        auth = (CLIENT_ID, CLIENT_SECRET)
        data = {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN}
        return lambda: s.post(url, data=data, auth=auth).json()["access_token"]
    if client == "httpx.Client.post":
        import httpx

        h = httpx.Client()
        auth = (CLIENT_ID, CLIENT_SECRET)
        data = {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN}
        return lambda: h.post(url, data=data, auth=auth).json()["access_token"]
    if client == "authlib OAuth2Client.refresh_token":
        from authlib.integrations.httpx_client import OAuth2Client

        a = OAuth2Client(CLIENT_ID, CLIENT_SECRET, token_endpoint=url)
        return lambda: a.refresh_token(url, refresh_token=REFRESH_TOKEN)["access_token"]
    if client == "requests-oauthlib OAuth2Session.refresh_token":
        from requests.auth import HTTPBasicAuth
        from requests_oauthlib import OAuth2Session

        o = OAuth2Session(CLIENT_ID, token={"access_token": "x", "token_type": "Bearer"})
        auth = HTTPBasicAuth(CLIENT_ID, CLIENT_SECRET)
        return lambda: o.refresh_token(url, refresh_token=REFRESH_TOKEN, auth=auth)["access_token"]
    raise SystemExit(f"unknown client {client}")


def run_sync(one, n):
    latencies = []
    for _ in range(n):
        t = time.perf_counter()
        one()
        latencies.append((time.perf_counter() - t) * 1e6)
    return latencies


def run_async(url, n, warmup):
    import oauth_refresh

    c = oauth_refresh.Client(url)

    async def main():
        for _ in range(warmup):
            await c.refresh_async(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)
        latencies = []
        for _ in range(n):
            t = time.perf_counter()
            await c.refresh_async(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)
            latencies.append((time.perf_counter() - t) * 1e6)
        return latencies

    return asyncio.run(main())


def run_cached(url, n, warmup):
    """TokenManager.access_token() served from the cache, timed in batches of 1,000 calls."""
    import oauth_refresh

    manager = oauth_refresh.TokenManager(oauth_refresh.Client(url), CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)
    for _ in range(warmup):
        manager.access_token()
    latencies = []
    for _ in range(max(1, n // 1000)):
        t = time.perf_counter()
        for _ in range(1000):
            manager.access_token()
        latencies.append((time.perf_counter() - t) * 1e6 / 1000)
    return latencies


def peak_rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    client, url, n, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    import os

    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # requests-oauthlib refuses http:// otherwise
    if client == "oauth-refresh refresh_async":
        latencies = run_async(url, n, warmup)
    elif client == "manager-cached":
        latencies = run_cached(url, n, warmup)
    else:
        one = make(client, url)
        run_sync(one, warmup)
        latencies = run_sync(one, n)
    # Throughput from the summed latencies: the loop does nothing else.
    seconds = sum(latencies) / 1e6 * (n / len(latencies))
    latencies.sort()
    k = len(latencies)
    print(json.dumps({"n": n, "seconds": seconds, "median_us": latencies[k // 2],
                      "p99_us": latencies[k * 99 // 100], "rss_kb": peak_rss_kb()}))


if __name__ == "__main__":
    main()
