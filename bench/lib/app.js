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

/** Every child started and not yet exited, for stopAll(). */
const live = new Set();

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
  // 'exit' can come before the last output is read: `closed` settles once stdout and stderr have ended.
  const closed = new Promise((resolve) => child.on('close', resolve));
  let exited = false;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => {
    exited = true;
    handle.exited = { code, signal };
    live.delete(handle);
    resolve({ code, signal });
  }));
  const handle = {
    name,
    child,
    pid: child.pid,
    tail,
    closed,
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
  live.add(handle);
  return handle;
}

/** Stops every child still running (the last resort of a cleanup). */
async function stopAll(graceMs) {
  for (const c of [...live]) await c.stop(graceMs);
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
  await waitUntil('app /readyz', 180_000, async () => (await request(Number(env.PORT), 'GET', '/readyz')).status === 200, app.alive).catch(async (e) => {
    await app.stop(10_000); // not left running when it never became ready
    await Promise.race([app.closed, sleep(2000)]);
    throw new Error(`${e.message}\n${app.tail.join('\n')}`);
  });
  log(`app ready in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${app.pid})`);
  return app;
}

module.exports = { ROOT, APP_DIR, MAIN, log, startChild, stopAll, waitUntil, startApp };
