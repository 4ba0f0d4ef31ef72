// The Node side of benches/official-sdks/run.sh: DingTalk's official Node SDK
// (@alicloud/dingtalk) calling queryConferenceInfo on a running fake DingTalk server.
//
//   node bench.js sequential BASE_URL CONFERENCE_ID CALLS WARMUP
//   node bench.js burst      BASE_URL CONFERENCE_ID CALLS CONCURRENCY
//
// - sequential: one token fetch through the SDK's oauth2_1_0 client, WARMUP calls not measured,
//   then CALLS calls one after another (each awaited before the next), timed.
// - burst: one token fetch, then CALLS calls made by CONCURRENCY workers at once, as fast as
//   they go.
//
// Both use the SDK's defaults (new RuntimeOptions({}): autoretry unset, so the Tea runtime does
// not retry). Prints one JSON line: calls that succeeded, failed throttled or failed otherwise,
// the measured seconds (wall and CPU, all threads) and the peak resident set size (VmHWM from
// /proc/self/status, kB).
'use strict';

const fs = require('fs');
// The SDK's documented entry points (each loads the SDK's dist/index.js, every product).
const conference = require('@alicloud/dingtalk/conference_1_0');
const oauth2 = require('@alicloud/dingtalk/oauth2_1_0');
const { Config } = require('@alicloud/openapi-client');
const { RuntimeOptions } = require('@alicloud/tea-util');

const THROTTLE_PREFIX = 'Forbidden.AccessDenied.';

// The Tea/OpenAPI config: the scheme goes in `protocol`, host:port in `endpoint` (the DingTalk
// gateway SPI sends it as the Host header, and the URL is built from that).
function config(baseUrl) {
  const url = new URL(baseUrl);
  return new Config({ protocol: url.protocol.replace(/:$/, ''), endpoint: url.host });
}

// CPU time this process's threads have run so far, in seconds: the sum over
// /proc/self/task/*/schedstat (nanoseconds on a CPU). Unlike the wall time, it hardly moves when
// other processes compete for the cores.
function cpuSeconds() {
  let total = 0;
  try {
    for (const task of fs.readdirSync('/proc/self/task')) {
      try {
        total += Number(fs.readFileSync(`/proc/self/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      } catch (e) {
        // the thread ended meanwhile
      }
    }
  } catch (e) {
    return 0;
  }
  return total / 1e9;
}

function peakRssKb() {
  try {
    const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
    return line ? parseInt(line.split(/\s+/)[1], 10) : 0;
  } catch (e) {
    return 0;
  }
}

async function main() {
  const usage = 'usage: bench.js sequential|burst BASE_URL CONFERENCE_ID CALLS WARMUP|CONCURRENCY';
  const args = process.argv.slice(2);
  if (args.length !== 5) throw new Error(usage);
  const [mode, baseUrl, conferenceId] = args;
  const calls = parseInt(args[3], 10);
  const extra = parseInt(args[4], 10);

  // The one token fetch, through the SDK's own oauth2 client.
  const tokenResponse = await new oauth2.default(config(baseUrl)).getAccessToken(
    new oauth2.GetAccessTokenRequest({ appKey: 'mock-app-key', appSecret: 'mock-app-secret' }),
  );
  const token = tokenResponse.body.accessToken;

  const client = new conference.default(config(baseUrl));
  const headers = new conference.QueryConferenceInfoHeaders({ xAcsDingtalkAccessToken: token });
  const outcomes = { ok: 0, throttled: 0, other: 0 };
  const call = async (runtime) => {
    try {
      const response = await client.queryConferenceInfoWithOptions(conferenceId, headers, runtime);
      if (!response.body.confInfo) throw new Error('answer without confInfo');
      outcomes.ok += 1;
    } catch (error) {
      const code = (error && error.code) || '';
      if (code.startsWith(THROTTLE_PREFIX) && code.includes('Limit')) {
        outcomes.throttled += 1;
      } else {
        if (outcomes.other === 0) console.error(`bench.js: first unexpected error: ${error}`);
        outcomes.other += 1;
      }
    }
  };

  let seconds;
  let cpu;
  if (mode === 'sequential') {
    const runtime = new RuntimeOptions({});
    for (let i = 0; i < extra; i += 1) {
      await client.queryConferenceInfoWithOptions(conferenceId, headers, runtime);
    }
    const [start, cpuStart] = [process.hrtime.bigint(), cpuSeconds()];
    for (let i = 0; i < calls; i += 1) {
      await call(runtime);
    }
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
    cpu = cpuSeconds() - cpuStart;
  } else if (mode === 'burst') {
    let next = 0;
    const worker = async () => {
      const runtime = new RuntimeOptions({});
      while (next < calls) {
        next += 1;
        await call(runtime);
      }
    };
    const [start, cpuStart] = [process.hrtime.bigint(), cpuSeconds()];
    await Promise.all(Array.from({ length: Math.max(extra, 1) }, worker));
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
    cpu = cpuSeconds() - cpuStart;
  } else {
    throw new Error(usage);
  }

  console.log(JSON.stringify({
    client: 'node',
    mode,
    calls,
    ok: outcomes.ok,
    throttled: outcomes.throttled,
    other_errors: outcomes.other,
    seconds,
    calls_per_s: calls / seconds,
    cpu_seconds: cpu,
    peak_rss_kb: peakRssKb(),
  }));
}

main().catch((error) => {
  console.error(`bench.js: ${error && error.stack ? error.stack : error}`);
  process.exit(1);
});
