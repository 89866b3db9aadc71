#!/usr/bin/env node
// `npm start`: build when the compiled output is missing or older than the sources (skip with --no-build), then run
// the server as a child process and stay its faithful proxy: SIGINT, SIGTERM and SIGHUP are passed on, and this
// process exits when the server does, with its exit code (128 + signal number when a signal ended it).
// The server counts copies of one Ctrl-C (the terminal signals the whole process group, and npm and this script pass
// it on as well) as a single stop request; see docs/operations.md.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'src', 'main.js');
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function newestMtime(dir) {
  let newest = 0;
  for (const item of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name);
    if (item.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (item.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function exitCode(code, signal) {
  if (code !== null && code !== undefined) return code;
  return signal ? 128 + (os.constants.signals[signal] ?? 0) : 1;
}

let child;
let stopRequested;
for (const signal of FORWARDED) {
  process.on(signal, () => {
    stopRequested ??= signal;
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

/** Runs `args` with this Node, relaying signals to it; resolves with its exit code. */
function run(args) {
  return new Promise((resolve) => {
    child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('error', (error) => {
      process.stderr.write(`could not start ${args.join(' ')}: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(exitCode(code, signal)));
  });
}

async function main() {
  const noBuild = process.argv.includes('--no-build');
  if (!noBuild) {
    const sources = ['src', 'migrations', 'agent'].map((d) => path.join(root, d)).filter((d) => fs.existsSync(d));
    const stale = !fs.existsSync(entry) || Math.max(...sources.map(newestMtime)) > fs.statSync(entry).mtimeMs;
    if (stale) {
      process.stdout.write('Building (first start or sources changed)…\n');
      const code = await run([require.resolve('@nestjs/cli/bin/nest.js'), 'build']);
      if (code !== 0) return code;
    }
  } else if (!fs.existsSync(entry)) {
    process.stderr.write(`${path.relative(root, entry)} is missing: build first (npx nest build), or start without --no-build\n`);
    return 1;
  }
  if (stopRequested) return 0; // stopped while building: never start the server
  // Node flags given to this script (e.g. --enable-source-maps, --inspect) apply to the server.
  return run([...process.execArgv, entry]);
}

main().then((code) => process.exit(code));
