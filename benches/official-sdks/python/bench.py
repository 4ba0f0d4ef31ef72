"""The Python side of benches/official-sdks/run.sh: DingTalk's official Python SDK
(alibabacloud-dingtalk) calling queryConferenceInfo on a running fake DingTalk server.

    python bench.py sequential BASE_URL CONFERENCE_ID CALLS WARMUP
    python bench.py burst      BASE_URL CONFERENCE_ID CALLS CONCURRENCY

- sequential: one token fetch through the SDK's oauth2_1_0 client, WARMUP calls not measured,
  then CALLS calls one after another with the synchronous client, timed.
- burst: one token fetch, then CALLS calls made by CONCURRENCY asyncio workers at once, with
  the SDK's async methods (query_conference_info_with_options_async), as fast as they go.

Both use the SDK's defaults (RuntimeOptions() and no retry options: the Tea runtime does not
retry). Prints one JSON line: calls that succeeded, failed throttled or failed otherwise, the
measured seconds (wall and CPU, all threads) and the peak resident set size (VmHWM from
/proc/self/status, kB) at the end.
"""

import asyncio
import json
import os
import sys
import time
from urllib.parse import urlsplit

from alibabacloud_dingtalk.conference_1_0 import models as conference_models
from alibabacloud_dingtalk.conference_1_0.client import Client as ConferenceClient
from alibabacloud_dingtalk.oauth2_1_0 import models as oauth2_models
from alibabacloud_dingtalk.oauth2_1_0.client import Client as OAuth2Client
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models

THROTTLE_PREFIX = "Forbidden.AccessDenied."


def config(base_url):
    # The Tea/OpenAPI config: the scheme goes in `protocol`, host:port in `endpoint` (the
    # DingTalk gateway SPI sends it as the Host header, and the URL is built from that).
    url = urlsplit(base_url)
    return open_api_models.Config(protocol=url.scheme, endpoint=url.netloc)


def cpu_seconds():
    """CPU time this process's threads have run so far: the sum over /proc/self/task/*/schedstat
    (nanoseconds on a CPU). Unlike the wall time, it hardly moves when other processes compete
    for the cores."""
    total = 0
    try:
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/schedstat") as stat:
                    total += int(stat.read().split()[0])
            except OSError:
                pass
    except OSError:
        return 0.0
    return total / 1e9


def peak_rss_kb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Outcomes:
    def __init__(self):
        self.ok = self.throttled = self.other = 0

    def error(self, error):
        code = getattr(error, "code", None) or ""
        if code.startswith(THROTTLE_PREFIX) and "Limit" in code:
            self.throttled += 1
        else:
            if self.other == 0:
                print(f"bench.py: first unexpected error: {error!r}", file=sys.stderr)
            self.other += 1


def main():
    usage = "usage: bench.py sequential|burst BASE_URL CONFERENCE_ID CALLS WARMUP|CONCURRENCY"
    if len(sys.argv) != 6:
        sys.exit(usage)
    mode, base_url, conference_id = sys.argv[1:4]
    calls, extra = int(sys.argv[4]), int(sys.argv[5])

    # The one token fetch, through the SDK's own oauth2 client.
    token = OAuth2Client(config(base_url)).get_access_token(
        oauth2_models.GetAccessTokenRequest(app_key="mock-app-key", app_secret="mock-app-secret")
    ).body.access_token

    client = ConferenceClient(config(base_url))
    headers = conference_models.QueryConferenceInfoHeaders(x_acs_dingtalk_access_token=token)
    outcomes = Outcomes()

    if mode == "sequential":
        runtime = util_models.RuntimeOptions()
        for _ in range(extra):
            client.query_conference_info_with_options(conference_id, headers, runtime)
        start, cpu_start = time.perf_counter(), cpu_seconds()
        for _ in range(calls):
            try:
                response = client.query_conference_info_with_options(conference_id, headers, runtime)
                assert response.body.conf_info is not None
                outcomes.ok += 1
            except Exception as error:  # noqa: BLE001 - every failure is counted
                outcomes.error(error)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    elif mode == "burst":

        async def burst():
            remaining = iter(range(calls))

            async def worker():
                runtime = util_models.RuntimeOptions()
                for _ in remaining:
                    try:
                        response = await client.query_conference_info_with_options_async(
                            conference_id, headers, runtime
                        )
                        assert response.body.conf_info is not None
                        outcomes.ok += 1
                    except Exception as error:  # noqa: BLE001
                        outcomes.error(error)

            await asyncio.gather(*(worker() for _ in range(max(extra, 1))))

        start, cpu_start = time.perf_counter(), cpu_seconds()
        asyncio.run(burst())
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    else:
        sys.exit(usage)

    print(
        json.dumps(
            {
                "client": "python",
                "mode": mode,
                "calls": calls,
                "ok": outcomes.ok,
                "throttled": outcomes.throttled,
                "other_errors": outcomes.other,
                "seconds": seconds,
                "calls_per_s": calls / seconds,
                "cpu_seconds": cpu,
                "peak_rss_kb": peak_rss_kb(),
            }
        )
    )


if __name__ == "__main__":
    main()
