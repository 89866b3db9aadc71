'use strict';
/** Small helpers shared by the scripts that start the built server on loopback (npm run soak, npm run bench). */
const net = require('node:net');

const HOST = '127.0.0.1';

/** A positive integer from the environment, or `fallback` when unset; anything else stops the script. */
function positiveIntEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
}

/** A TCP port free on the loopback address right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { HOST, positiveIntEnv, freePort, sleep };
