// The ceiling: how fast Postgres itself can decode and ship a slot's changes, measured with
// pg_recvlogical (pgoutput, output to /dev/null) from the slot's start up to a given LSN.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findPostgresBinDir } from '@walaudit/pg';
import { trackChild } from './cleanup.mjs';

export function pgRecvlogicalPath() {
  const path = join(findPostgresBinDir(), 'pg_recvlogical');
  return existsSync(path) ? path : 'pg_recvlogical';
}

/**
 * Streams `slot` until `endpos` and returns { seconds, exitCode }. Rejects when pg_recvlogical fails
 * or exceeds timeoutMs (it is then killed).
 */
export function runCeiling({ url, slot, publication, endpos, timeoutMs = 300_000, protoVersion = 1 }) {
  const args = [
    '-d', url, '--slot', slot, '--start', '--no-loop',
    '-o', `proto_version=${protoVersion}`, '-o', `publication_names=${publication}`,
    '-f', '/dev/null', '-E', endpos,
  ];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = trackChild(spawn(pgRecvlogicalPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] }));
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
      reject(new Error(`pg_recvlogical did not reach ${endpos} within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) resolve({ seconds, args: args.map((a) => (a === url ? '<url>' : a)) });
      else reject(new Error(`pg_recvlogical exited with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}
