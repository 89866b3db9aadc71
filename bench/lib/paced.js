'use strict';
/**
 * Open-loop load at a fixed offered rate, for latency: request i is due at start + i / rate, evenly spaced, sent on
 * a keep-alive pool of at most `connections` sockets, and its latency counts from when it was due (so time spent
 * waiting for a free socket while the server lags behind is counted: no coordinated omission).
 *
 * Why not autocannon's `overallRate`: autocannon 8 spreads the rate over the connections and lets each connection
 * send its share back to back at the start of every second, then idle (lib/httpClient.js `reqsMadeThisSecond`), so
 * the server sees bursts of `connections` concurrent requests — a saturating load for part of each second — and its
 * coordinated-omission correction uses an expected interval of ceil(1 / rate) = 1 ms, which adds made-up samples.
 */
const http = require('node:http');

const PERCENTILES = [50, 90, 99];

function percentile(sorted, p) {
  if (!sorted.length) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** One request; resolves with the status (0 on error or timeout) once the body has been read. */
function send(agent, target, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.request({ ...target, agent, timeout: timeoutMs }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(target.body);
  });
}

/**
 * `rate` requests/s for `durationS` seconds on `connections` sockets. `target`: { host, port, path, method, headers,
 * body }. Returns the figures of the requests due within the window (each awaited, bounded by `timeoutMs`).
 */
async function paced({ target, rate, connections, durationS, timeoutMs = 10_000 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const body = target.body === undefined ? undefined : Buffer.from(target.body);
  const t = { ...target, body, headers: { ...(target.headers || {}), ...(body ? { 'content-length': body.length } : {}) } };
  const due = Math.max(1, Math.round(rate * durationS));
  const latencies = [];
  let non2xx = 0;
  let errors = 0;
  const inflight = [];
  const start = performance.now();
  for (let i = 0; i < due; i++) {
    const at = start + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inflight.push(send(agent, t, timeoutMs).then((status) => {
      if (status === 0) errors++;
      else {
        latencies.push(performance.now() - at);
        if (status < 200 || status >= 300) non2xx++;
      }
    }));
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const ms = (x) => (x === undefined ? undefined : Number(x.toFixed(1)));
  const out = {
    offered_per_s: rate,
    requests_per_s: Number((latencies.length / seconds).toFixed(1)),
    achieved: latencies.length / seconds >= 0.95 * rate && errors === 0,
    total: latencies.length,
    non_2xx: non2xx,
    errors,
  };
  for (const p of PERCENTILES) out[`latency_p${p}_ms`] = ms(percentile(latencies, p));
  out.latency_max_ms = ms(latencies[latencies.length - 1]);
  return out;
}

module.exports = { paced, percentile };
