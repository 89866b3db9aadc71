'use strict';
/** The results table, the issue's targets (met / not met) and the results section of docs/performance.md. */

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';
const ratio = (a, b) => (a && b ? Number((a / b).toFixed(2)) : null);
const fmt = (x) => (x === null || x === undefined ? '—' : String(x));
const byName = (result, name) => result.scenarios.find((s) => s.scenario === name);

/** The reported ratio of a row: the median of its per-round ratios, or (older results) the ratio of the medians. */
function rowRatio(s, key) {
  const x = s.ratios && s.ratios[key];
  if (x) return x;
  const [num, den] = key.split('_');
  const value = ratio(s[num] && s[num].requests_per_s, s[den] && s[den].requests_per_s);
  return value === null ? undefined : { median: value };
}
/** "0.66" or, over several rounds, "0.66 (0.61–0.70)": the median of the per-round ratios and their range. */
const ratioCell = (x) => {
  if (!x) return '—';
  if (!x.per_round || x.per_round.length < 2) return String(x.median);
  return `${x.median} (${Math.min(...x.per_round).toFixed(2)}–${Math.max(...x.per_round).toFixed(2)})`;
};
/** Growth of the peak RSS from the first run to the last of one series (like with like: same process, same load). */
const rssGrowth = (runs) => (runs && runs.length > 1 && runs[0] ? runs[runs.length - 1] / runs[0] - 1 : undefined);
const pct = (g) => {
  const v = Math.round(g * 100);
  return `${v >= 0 ? '+' : ''}${v} %`;
};

function fixedRateRow(s) {
  const { app: a, express: e, raw: r, fixed_rate: f } = s;
  const served = (x) => `${x.requests_per_s} of ${x.offered_per_s} req/s${x.achieved ? '' : ' (**rate not achieved**)'}`;
  const base = (x) => (x ? `p99 ${fmt(x.latency_p99_ms)} (p50 ${fmt(x.latency_p50_ms)}, max ${fmt(x.latency_max_ms)})${x.achieved ? '' : ', rate not achieved'}` : '—');
  return `| ${s.scenario} (${f.connections} connections, latency) | ${served(a)} | ${fmt(a.latency_p50_ms)} / ${fmt(a.latency_p99_ms)} (p90 ${fmt(a.latency_p90_ms)}, max ${fmt(a.latency_max_ms)}) | ${base(e)} | ${base(r)} | — | — | ${a.non_2xx} / ${a.errors} | | |`;
}

function table(result) {
  const out = [
    '| scenario | app req/s | p50 / p99 (ms) | Express same work | raw same work | app ÷ Express | app ÷ raw | non-2xx / errors | app peak RSS, per run (MB) | CPU cores: app / PostgreSQL |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of result.scenarios) {
    if (s.fixed_rate) {
      out.push(fixedRateRow(s));
      continue;
    }
    const a = s.app;
    const e = s.express;
    const r = s.raw;
    const growth = a && rssGrowth(a.rss_by_run_mb);
    const rss = a && a.rss_by_run_mb ? `${a.rss_by_run_mb.join(' / ')}${growth !== undefined ? ` (${pct(growth)})` : ''}` : '';
    out.push(`| ${s.scenario}${s.scenario.startsWith('healthz') ? ' (baselines: hello, no database)' : ''} | ${a ? a.requests_per_s : '—'} | ${a ? `${a.latency_p50_ms} / ${a.latency_p99_ms}` : '—'} | ${e ? `${e.requests_per_s} (p99 ${e.latency_p99_ms})` : '—'} | ${r ? `${r.requests_per_s} (p99 ${r.latency_p99_ms})` : '—'} | ${a ? ratioCell(rowRatio(s, 'app_express')) : `${ratioCell(rowRatio(s, 'express_raw'))} (Express ÷ raw)`} | ${a ? ratioCell(rowRatio(s, 'app_raw')) : ''} | ${a ? `${a.non_2xx} / ${a.errors}` : `${e.non_2xx + r.non_2xx} / ${e.errors + r.errors}`} | ${rss} | ${a && a.app_cpu_cores !== undefined ? `${a.app_cpu_cores} / ${a.pg_cpu_cores}` : ''} |`);
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

/** The issue's targets against the figures: [{ target, figure, met }]. Ratios: medians of the per-round ratios. */
function evaluateTargets(result) {
  const t = [];
  const add = (target, figure, met) => t.push({ target, figure, met });
  const s = (name) => byName(result, name);
  const ratioTarget = (target, row, key, min) => {
    const x = row && row.app && rowRatio(row, key);
    if (!x) return;
    const rounds = x.per_round && x.per_round.length > 1 ? ` (median of ${x.per_round.length} rounds: ${x.per_round.map((v) => v.toFixed(2)).join(', ')})` : '';
    add(target, `${x.median}×${rounds}`, x.median >= min);
  };
  ratioTarget('/healthz ≥ 0.7× bare Express hello', s('healthz'), 'app_express', 0.7);
  ratioTarget('S1 ≥ 0.7× bare Express doing the same work', s('S1 GET request (JWT)'), 'app_express', 0.7);
  ratioTarget('S1 on Fastify ≥ 0.5× raw doing the same work', s('S1 GET request (JWT) · Fastify'), 'app_raw', 0.5);
  for (const name of ['S2 create request (Idempotency-Key)', 'S3 approve']) ratioTarget(`${name.split(' ')[0]} ≥ 0.5× raw doing the same transaction`, s(name), 'app_raw', 0.5);
  // Latency targets: on the fixed-rate figures (below saturation) when measured; the saturated p99 is shown beside.
  for (const [name, label, max] of [['S5 authz check', 'S5', 10], ['S6 first page', 'S6 first page', 50], ['S6 page 50', 'S6 page 50', 50]]) {
    const sat = s(name);
    const fixed = result.scenarios.find((x) => x.fixed_rate && x.base === name);
    const satText = sat && sat.app ? `${sat.app.latency_p99_ms} ms saturated (${result.settings ? result.settings.connections : '?'} connections)` : '';
    if (fixed && fixed.app) {
      const a = fixed.app;
      add(`${label} p99 ≤ ${max} ms`, `${fmt(a.latency_p99_ms)} ms at ${a.requests_per_s} of ${a.offered_per_s} req/s offered, ${fixed.fixed_rate.connections} connections${a.achieved ? '' : ' (rate not achieved)'}${satText ? `; ${satText}` : ''}`, a.achieved && a.latency_p99_ms !== undefined && a.latency_p99_ms <= max);
    } else if (sat && sat.app) {
      add(`${label} p99 ≤ ${max} ms`, satText, sat.app.latency_p99_ms <= max);
    }
  }
  if (result.s4 && result.s4.app) {
    const best = [...result.s4.app, ...(result.s4.app_batch || [])].reduce((b, r) => (r.jobs_per_s > b.jobs_per_s ? r : b));
    const clean = [...result.s4.app, ...(result.s4.app_batch || [])].every((r) => r.duplicates === 0 && r.lost === 0);
    add('S4 ≥ 1,000 jobs/s, 0 duplicates, 0 lost', `${best.jobs_per_s} jobs/s (best mode), ${clean ? 'no' : 'some'} duplicates/lost`, best.jobs_per_s >= 1000 && clean);
  }
  // RSS: one series per scenario and process (the app, or the Fastify instance in "· Fastify" rows), runs in order.
  const series = [];
  for (const x of result.scenarios) if (!x.fixed_rate && x.app && x.app.rss_by_run_mb) series.push({ name: x.scenario, runs: x.app.rss_by_run_mb });
  if (result.s4 && result.s4.app) series.push({ name: 'S4 single claims', runs: result.s4.app.map((r) => r.peak_rss_mb) });
  if (result.s4 && result.s4.app_batch) series.push({ name: `S4 max_jobs=${result.s4.batch_size}`, runs: result.s4.app_batch.map((r) => r.peak_rss_mb) });
  if (series.length) {
    const max = Math.max(...series.flatMap((p) => p.runs));
    add('API RSS ≤ 300 MB in every scenario', `max ${max} MB`, max <= 300);
    const multi = series.map((p) => ({ ...p, growth: rssGrowth(p.runs) })).filter((p) => p.growth !== undefined);
    if (multi.length) {
      // Flat: within a scenario, the peak of the last run at most 10 % above the first run's (same process, same load).
      const worst = multi.reduce((w, p) => (p.growth > w.growth ? p : w));
      add(`RSS flat across repeated runs: last run's peak ≤ 1.1× the first's, per scenario`, `worst ${pct(worst.growth)} (${worst.name}: ${worst.runs.join(' → ')} MB); per scenario: ${multi.map((p) => `${p.name} ${pct(p.growth)}`).join(', ')}`, worst.growth <= 0.1);
    }
  }
  return t;
}

function targetsTable(result) {
  return [
    '| target (issue 14) | figure | met |',
    '| --- | --- | --- |',
    ...result.targets.map((x) => `| ${x.target} | ${x.figure} | ${x.met ? 'met' : '**not met**'} |`),
  ].join('\n');
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
    `- **Load**: autocannon ${st.autocannon}, ${st.connections} connections, ${st.warmup_s} s warm-up discarded, ${st.duration_s} s measured, ${st.runs} round(s), each measuring app, Express, raw (and Fastify) back to back; the median run per target, and for ratios the median of the per-round ratios (range in brackets); baselines Express ${st.express} and raw \`node:http\`, both with \`pg\` and the same work (principal reused ${st.baseline_principal_cache_ms} ms like the app's cache).`,
    st.latency_rate_per_s ? `- **Latency** (${(st.latency_scenarios || ['S5', 'S6']).join(', ')}): also ${st.latency_rate_per_s} req/s offered, ${st.latency_generator === 'autocannon' ? `autocannon \`overallRate\` (bursts at the start of each second)` : 'evenly spaced, open loop (latency from when each request was due)'}, on at most ${st.latency_connections} connections, same warm-up, duration and rounds; the median run by p99. The p99 targets are read there: at ${st.connections} saturating connections p99 ≥ connections ÷ throughput.` : '',
    result.seeding && result.seeding.inserted ? `- **S6 table**: ${result.seeding.inserted.toLocaleString('en')} events inserted by SQL in ${result.seeding.insert_seconds} s, then sealed by the app's sealer in ${result.seeding.seal_seconds} s before S6 was measured (the other scenarios ran before; app RSS ${result.seeding.app_rss_before_mb} MB before, peak ${result.seeding.app_peak_rss_while_sealing_mb} MB while sealing).` : '',
    '',
    table(result),
    '',
    targetsTable(result),
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

module.exports = { table, targetsTable, evaluateTargets, renderDoc, renderSection };
