'use strict';
/** Starting the built app (and other Node children) with bounded waits and kept output tails. */
const { spawn } = require('node:child_process');
const path = require('node:path');
const { sleep } = require('../../scripts/lib/harness');
const { request } = require('./http');

const ROOT = path.resolve(__dirname, '..', '..');
/** The app measured: this checkout, or BENCH_APP_DIR (e.g. a clean clone built with `npx nest build`). */
const APP_DIR = path.resolve(process.env.BENCH_APP_DIR || ROOT);
const MAIN = path.join(APP_DIR, 'dist', 'src', 'main.js');

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

/** Child process with its output kept (tail); `stop()` sends SIGTERM, then SIGKILL after graceMs. */
function startChild(name, args, env, cwd = ROOT) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  const keep = (chunk) => {
    for (const line of String(chunk).split('\n')) if (line.trim()) tail.push(line);
    while (tail.length > 60) tail.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => { exited = true; resolve({ code, signal }); }));
  return {
    name,
    child,
    pid: child.pid,
    tail,
    alive: () => !exited,
    async stop(graceMs) {
      if (exited) return exit;
      child.kill('SIGTERM');
      const result = await Promise.race([exit, sleep(graceMs).then(() => null)]);
      if (result) return result;
      log(`${name} (pid ${child.pid}) still running after ${graceMs / 1000} s: SIGKILL`);
      child.kill('SIGKILL');
      return Promise.race([exit, sleep(5000)]);
    },
  };
}

async function waitUntil(what, timeoutMs, probe, isAlive) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (isAlive && !isAlive()) throw new Error(`${what}: the process exited`);
    try {
      if (await probe()) return;
    } catch {
      /* not yet */
    }
    await sleep(250);
  }
  throw new Error(`${what}: not ready after ${timeoutMs / 1000} s`);
}

/** Starts the app and waits for /readyz. */
async function startApp(env, nodeArgs = []) {
  const app = startChild('app', [...nodeArgs, MAIN], env, APP_DIR);
  const started = Date.now();
  await waitUntil('app /readyz', 180_000, async () => (await request(Number(env.PORT), 'GET', '/readyz')).status === 200, app.alive).catch((e) => {
    throw new Error(`${e.message}\n${app.tail.join('\n')}`);
  });
  log(`app ready in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${app.pid})`);
  return app;
}

module.exports = { ROOT, APP_DIR, MAIN, log, startChild, waitUntil, startApp };
