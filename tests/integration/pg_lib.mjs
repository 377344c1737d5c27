// A throwaway PostgreSQL server for the Node integration tests, started and
// stopped through pg_lib.sh (the same bootstrap the shell tests use).
// startPostgres() skips the test (exit 77) when the server binaries are missing.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { skip } from './serve_lib.mjs';

const lib = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pg_lib.sh');

export function startPostgres() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-pg-'));
  const script = `source "${lib}"; fail() { echo "FAIL: $*" >&2; exit 1; }; pg_require; pg_start "$1"; echo "$pg_url"`;
  const r = spawnSync('bash', ['-c', script, 'pg', dir], { encoding: 'utf8' });
  if (r.status === 77) { fs.rmSync(dir, { recursive: true, force: true }); skip(r.stdout.trim()); }
  if (r.status !== 0) throw new Error(`PostgreSQL did not start: ${r.stdout}${r.stderr}`);
  const url = r.stdout.trim().split('\n').pop();
  const stop = () => {
    spawnSync('bash', ['-c', `source "${lib}"; pg_require >/dev/null; pg_stop "$1"`, 'pg', dir]);
  };
  return { url, stop, cleanup: () => { stop(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

// `troupe keys create` against url; returns { key, id }.
export function createKey(bin, url, args = []) {
  const r = spawnSync(bin, ['keys', 'create', '--db', url, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`keys create failed: ${r.stderr}`);
  const id = (r.stderr.match(/^Created ([^ .]+)/m) || [])[1];
  return { key: r.stdout.trim(), id };
}

export function revokeKey(bin, url, id) {
  return execFileSync(bin, ['keys', 'revoke', id, '--db', url], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
