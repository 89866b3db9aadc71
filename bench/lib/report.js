'use strict';
/** The results table, the issue's targets (met / not met) and the results section of docs/performance.md. */

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';
const ratio = (a, b) => (a && b ? Number((a / b).toFixed(2)) : null);
const fmt = (x) => (x === null || x === undefined ? '—' : String(x));
const byName = (result, name) => result.scenarios.find((s) => s.scenario === name);

function table(result) {
  const out = [
    '| scenario | app req/s | p50 / p99 (ms) | Express same work | raw same work | app ÷ Express | app ÷ raw | non-2xx / errors | app peak RSS, per run (MB) | CPU cores: app / PostgreSQL |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of result.scenarios) {
    const a = s.app;
    const e = s.express;
    const r = s.raw;
    out.push(`| ${s.scenario}${s.scenario.startsWith('healthz') ? ' (baselines: hello, no database)' : ''} | ${a ? a.requests_per_s : '—'} | ${a ? `${a.latency_p50_ms} / ${a.latency_p99_ms}` : '—'} | ${e ? `${e.requests_per_s} (p99 ${e.latency_p99_ms})` : '—'} | ${r ? `${r.requests_per_s} (p99 ${r.latency_p99_ms})` : '—'} | ${a ? fmt(ratio(a.requests_per_s, e && e.requests_per_s)) : fmt(ratio(e && e.requests_per_s, r && r.requests_per_s)) + ' (Express ÷ raw)'} | ${a ? fmt(ratio(a.requests_per_s, r && r.requests_per_s)) : ''} | ${a ? `${a.non_2xx} / ${a.errors}` : `${e.non_2xx + r.non_2xx} / ${e.errors + r.errors}`} | ${a && a.rss_by_run_mb ? a.rss_by_run_mb.join(' / ') : ''} | ${a && a.app_cpu_cores !== undefined ? `${a.app_cpu_cores} / ${a.pg_cpu_cores}` : ''} |`);
  }
  if (result.s4) {
    const s4 = result.s4;
    const line = (label, runs, comparable) => {
      if (!runs) return;
      const best = runs[Math.floor(runs.length / 2)];
      out.push(`| S4 job queue ${label} (${s4.agents} agents, ${s4.jobs} jobs) | ${runs.map((x) => x.jobs_per_s).join(' / ')} jobs/s | ${best.latency_p50_ms} / ${best.latency_p99_ms} per call | ${s4.express ? s4.express.map((x) => x.jobs_per_s).join(' / ') + ' jobs/s' : '—'} | ${s4.raw ? s4.raw.map((x) => x.jobs_per_s).join(' / ') + ' jobs/s' : '—'} | ${comparable ? fmt(ratio(best.jobs_per_s, s4.express && s4.express[0].jobs_per_s)) : '— (baselines claim one at a time)'} | ${comparable ? fmt(ratio(best.jobs_per_s, s4.raw && s4.raw[0].jobs_per_s)) : '—'} | dup ${runs.reduce((n, x) => n + x.duplicates, 0)}, lost ${runs.reduce((n, x) => n + x.lost, 0)}, failed ${runs.reduce((n, x) => n + x.failed_requests, 0)} | ${runs.map((x) => x.peak_rss_mb).join(' / ')} | ${best.app_cpu_cores !== undefined ? `${best.app_cpu_cores} / ${best.pg_cpu_cores}` : ''} |`);
    };
    line('single claims', s4.app, true);
    line(`max_jobs=${s4.batch_size}`, s4.app_batch, false);
    if (!s4.app_batch) out.push('| S4 job queue, batch claims | not measured: the app refused `max_jobs` | | | | | | | | |');
  }
  return out.join('\n');
}

/** The issue's targets against the figures: [{ target, figure, met }]. */
function evaluateTargets(result) {
  const t = [];
  const add = (target, figure, met) => t.push({ target, figure, met });
  const s = (name) => byName(result, name);
  const h = s('healthz');
  if (h && h.app && h.express) add('/healthz ≥ 0.7× bare Express hello', `${ratio(h.app.requests_per_s, h.express.requests_per_s)}×`, h.app.requests_per_s >= 0.7 * h.express.requests_per_s);
  const s1 = s('S1 GET request (JWT)');
  if (s1 && s1.app && s1.express) add('S1 ≥ 0.7× bare Express doing the same work', `${ratio(s1.app.requests_per_s, s1.express.requests_per_s)}×`, s1.app.requests_per_s >= 0.7 * s1.express.requests_per_s);
  const s1f = s('S1 GET request (JWT) · Fastify');
  if (s1f && s1f.app && s1f.raw) add('S1 on Fastify ≥ 0.5× raw doing the same work', `${ratio(s1f.app.requests_per_s, s1f.raw.requests_per_s)}×`, s1f.app.requests_per_s >= 0.5 * s1f.raw.requests_per_s);
  for (const name of ['S2 create request (Idempotency-Key)', 'S3 approve']) {
    const x = s(name);
    if (x && x.app && x.raw) add(`${name.split(' ')[0]} ≥ 0.5× raw doing the same transaction`, `${ratio(x.app.requests_per_s, x.raw.requests_per_s)}×`, x.app.requests_per_s >= 0.5 * x.raw.requests_per_s);
  }
  const s5 = s('S5 authz check');
  if (s5 && s5.app) add('S5 p99 ≤ 10 ms', `${s5.app.latency_p99_ms} ms`, s5.app.latency_p99_ms <= 10);
  for (const name of ['S6 first page', 'S6 page 50']) {
    const x = s(name);
    if (x && x.app) add(`${name} p99 ≤ 50 ms`, `${x.app.latency_p99_ms} ms`, x.app.latency_p99_ms <= 50);
  }
  if (result.s4 && result.s4.app) {
    const best = [...result.s4.app, ...(result.s4.app_batch || [])].reduce((b, r) => (r.jobs_per_s > b.jobs_per_s ? r : b));
    const clean = [...result.s4.app, ...(result.s4.app_batch || [])].every((r) => r.duplicates === 0 && r.lost === 0);
    add('S4 ≥ 1,000 jobs/s, 0 duplicates, 0 lost', `${best.jobs_per_s} jobs/s (best mode), ${clean ? 'no' : 'some'} duplicates/lost`, best.jobs_per_s >= 1000 && clean);
  }
  const peaks = [];
  for (const x of result.scenarios) if (x.app && x.app.rss_by_run_mb) peaks.push({ name: x.scenario, runs: x.app.rss_by_run_mb });
  if (result.s4 && result.s4.app) peaks.push({ name: 'S4', runs: [...result.s4.app, ...(result.s4.app_batch || [])].map((r) => r.peak_rss_mb) });
  if (peaks.length) {
    const max = Math.max(...peaks.flatMap((p) => p.runs));
    add('API RSS ≤ 300 MB in every scenario', `max ${max} MB`, max <= 300);
    const multi = peaks.filter((p) => p.runs.length > 1);
    if (multi.length) {
      // Flat: within a scenario, no run's peak more than 10 % above its first run's.
      const worst = multi.reduce((w, p) => {
        const growth = Math.max(...p.runs) / p.runs[0] - 1;
        return growth > w.growth ? { name: p.name, growth } : w;
      }, { name: '', growth: -1 });
      add('RSS flat across repeated runs (≤ 10 % growth)', `worst ${(worst.growth * 100).toFixed(0)} % (${worst.name})`, worst.growth <= 0.1);
    }
  }
  return t;
}

function renderSection(result) {
  const m = result.machine;
  const st = result.settings;
  const lines = [
    START,
    `_Generated by \`npm run bench -- --write-doc\` on ${result.date.slice(0, 16).replace('T', ' ')} UTC; figures in [bench/results/${result.date.slice(0, 10)}.json](../bench/results/${result.date.slice(0, 10)}.json)._`,
    '',
    `- **Machine**: ${m.cpus} × ${m.cpu_model}, ${m.memory_gb} GB, ${m.platform}, Node ${m.node}. App, PostgreSQL, baselines and load generator share it.`,
    `- **Load average** before the run: ${m.load_average_before.join(' / ')} (1/5/15 min); after: ${m.load_average_after.join(' / ')}.`,
    `- **App**: commit \`${result.commit}\`${result.app_dir !== '.' ? ` (built in \`${result.app_dir}\`)` : ''}; embedded PostgreSQL, pool ${st.db_pool_size}, \`LOG_LEVEL=warn\`.`,
    `- **Load**: autocannon ${st.autocannon}, ${st.connections} connections, ${st.warmup_s} s warm-up discarded, ${st.duration_s} s measured, median of ${st.runs} run(s); baselines Express ${st.express} and raw \`node:http\`, both with \`pg\` and the same work (principal reused ${st.baseline_principal_cache_ms} ms like the app's cache).`,
    result.seeding && result.seeding.inserted ? `- **S6 table**: ${result.seeding.inserted.toLocaleString('en')} events inserted by SQL in ${result.seeding.insert_seconds} s, then sealed by the app's sealer in ${result.seeding.seal_seconds} s before S6 was measured (the other scenarios ran before; app RSS ${result.seeding.app_rss_before_mb} MB before, peak ${result.seeding.app_peak_rss_while_sealing_mb} MB while sealing).` : '',
    '',
    table(result),
    '',
    '| target (issue 14) | figure | met |',
    '| --- | --- | --- |',
    ...result.targets.map((x) => `| ${x.target} | ${x.figure} | ${x.met ? 'met' : '**not met**'} |`),
    END,
  ];
  return lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n');
}

function renderDoc(doc, result) {
  const section = renderSection(result);
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < 0) return `${doc.trimEnd()}\n\n## Results\n\n${section}\n`;
  return doc.slice(0, a) + section + doc.slice(b + END.length);
}

module.exports = { table, evaluateTargets, renderDoc, renderSection };
