import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { version } from '../../../package.json';

export interface BuildInfo {
  version: string;
  commit: string;
  build_date: string;
}

/** Resolved once: env (`GIT_COMMIT`, `BUILD_DATE`) first, then the checkout and the built file's time. */
export function resolveBuildInfo(env: { commit?: string; date?: string }): BuildInfo {
  let commit = env.commit;
  if (!commit) {
    try {
      commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim();
    } catch {
      commit = 'unknown';
    }
  }
  let buildDate = env.date;
  if (!buildDate) {
    const entry = require.main?.filename;
    buildDate = (entry && fs.existsSync(entry) ? fs.statSync(entry).mtime : new Date()).toISOString();
  }
  return { version, commit: commit || 'unknown', build_date: buildDate };
}
