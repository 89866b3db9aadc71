#!/usr/bin/env node
'use strict';
/**
 * Online backup of an embedded-mode DATA_DIR while the server runs (docs/operations.md, "Backup and restore").
 *
 *   node scripts/backup-embedded.js <target-folder>       (DATA_DIR and EMBEDDED_PG_PORT as the server has them)
 *
 * The embedded PostgreSQL ships no pg_dump, so this uses PostgreSQL's low-level base-backup API, which needs only SQL
 * and a file copy: a temporary replication slot keeps the WAL from being recycled, `pg_backup_start()` marks the start
 * (fast checkpoint), the cluster folder is copied while the server keeps writing, `pg_backup_stop()` returns the
 * `backup_label` written into the copy, and the WAL written meanwhile is copied last. `secrets.json` and `pg-password`
 * are copied too. The target is a complete DATA_DIR: stop the server, put the folder in DATA_DIR's place, start, and
 * PostgreSQL replays the WAL up to the end of the backup before it accepts connections.
 *
 * The copy holds every key: keep it as secret as the keys themselves.
 */
const fs = require('node:fs');
const path = require('node:path');
const { Client } = require('pg');

// Left out of the copy (PostgreSQL's list for base backups, plus the server's own lock file). The folders stay, empty.
const SKIP_FILES = new Set(['pg/postmaster.pid', 'pg/postmaster.opts', 'countersign.pid']);
const EMPTY_DIRS = new Set(['pg/pg_wal', 'pg/pg_replslot', 'pg/pg_dynshmem', 'pg/pg_notify', 'pg/pg_serial', 'pg/pg_snapshots', 'pg/pg_stat_tmp', 'pg/pg_subtrans']);

function usage(message) {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write('usage: node scripts/backup-embedded.js [--data-dir DIR] [--port N] <target-folder>\n');
  process.exit(2);
}

function parseArgs(argv) {
  const options = { dataDir: process.env.DATA_DIR || './.data', port: Number(process.env.EMBEDDED_PG_PORT || 54329), target: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data-dir') options.dataDir = argv[++i];
    else if (argv[i] === '--port') options.port = Number(argv[++i]);
    else if (argv[i].startsWith('-')) usage(`unknown option ${argv[i]}`);
    else if (options.target) usage('one target folder only');
    else options.target = argv[i];
  }
  if (!options.target) usage();
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) usage('--port must be a port number');
  return options;
}

/** Copies `rel` (relative to both roots) keeping mode and, when run as root, owner; files gone meanwhile are skipped. */
function copyEntry(fromRoot, toRoot, rel, options) {
  const from = path.join(fromRoot, rel);
  let stat;
  try {
    stat = fs.lstatSync(from);
  } catch (error) {
    if (error.code === 'ENOENT') return; // removed while copying (a temporary file): PostgreSQL did not need it
    throw error;
  }
  const to = path.join(toRoot, rel);
  if (stat.isDirectory()) {
    fs.mkdirSync(to, { recursive: true });
    if (options.descend(rel)) {
      for (const name of fs.readdirSync(from)) copyEntry(fromRoot, toRoot, path.join(rel, name), options);
    }
  } else if (stat.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(from), to);
  } else if (stat.isFile()) {
    if (options.skip(rel)) return;
    try {
      fs.copyFileSync(from, to);
    } catch (error) {
      if (error.code === 'ENOENT') return;
      throw error;
    }
  } else {
    return; // sockets and the like
  }
  fs.chmodSync(to, stat.mode & 0o7777);
  if (process.getuid?.() === 0) fs.lchownSync(to, stat.uid, stat.gid);
}

function writeOwnedLike(file, content, like) {
  fs.writeFileSync(file, content, { mode: 0o600 });
  const stat = fs.statSync(like);
  if (process.getuid?.() === 0) fs.chownSync(file, stat.uid, stat.gid);
}

async function main() {
  const { dataDir: givenDataDir, port, target: givenTarget } = parseArgs(process.argv.slice(2));
  const dataDir = path.resolve(givenDataDir);
  const target = path.resolve(givenTarget);
  const clusterDir = path.join(dataDir, 'pg');
  if (!fs.existsSync(path.join(clusterDir, 'PG_VERSION'))) throw new Error(`no embedded PostgreSQL cluster in ${clusterDir} (set DATA_DIR or --data-dir)`);
  if (fs.existsSync(target) && fs.readdirSync(target).length > 0) throw new Error(`${target} exists and is not empty`);
  if ((target + path.sep).startsWith(dataDir + path.sep)) throw new Error('the target must be outside DATA_DIR');

  const password = fs.readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim();
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', application_name: 'countersign-backup' });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`cannot reach the embedded PostgreSQL on 127.0.0.1:${port} (is the server running, with this EMBEDDED_PG_PORT?): ${error.message}`, { cause: error });
  }
  try {
    // The server on that port must be the one whose files are copied.
    const { rows } = await client.query('SHOW data_directory');
    if (fs.realpathSync(rows[0].data_directory) !== fs.realpathSync(clusterDir)) {
      throw new Error(`the PostgreSQL on port ${port} serves ${rows[0].data_directory}, not ${clusterDir}`);
    }
    const started = Date.now();
    // Temporary: dropped when this session ends, even if the backup fails half-way.
    await client.query('SELECT pg_create_physical_replication_slot($1, true, true)', [`countersign_backup_${process.pid}`]);
    const { rows: begin } = await client.query('SELECT pg_backup_start($1, true)::text AS lsn', [`countersign ${new Date().toISOString()}`]);

    fs.mkdirSync(target, { recursive: true, mode: 0o700 });
    copyEntry(dataDir, target, '.', { descend: (rel) => !EMPTY_DIRS.has(rel), skip: (rel) => SKIP_FILES.has(rel) });

    const { rows: end } = await client.query('SELECT lsn::text AS lsn, labelfile, spcmapfile FROM pg_backup_stop(false)');
    writeOwnedLike(path.join(target, 'pg', 'backup_label'), end[0].labelfile, clusterDir);
    if (end[0].spcmapfile) writeOwnedLike(path.join(target, 'pg', 'tablespace_map'), end[0].spcmapfile, clusterDir);
    // The WAL from the start checkpoint on (kept by the slot) up to and past the end of the backup.
    copyEntry(dataDir, target, 'pg/pg_wal', { descend: () => true, skip: () => false });

    process.stdout.write(
      `backup of ${dataDir} written to ${target} (WAL ${begin[0].lsn} to ${end[0].lsn}, ${((Date.now() - started) / 1000).toFixed(1)} s).\n` +
        'It holds secrets.json and pg-password: keep it as secret as the keys. To restore: stop the server, replace DATA_DIR with this folder, start.\n',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

main().catch((error) => {
  process.stderr.write(`backup failed: ${error.message}\n`);
  process.exit(1);
});
