import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PipelineStatus } from '@walaudit/core';

export const CLI = fileURLToPath(new URL('../../services/cli/bin/walaudit.js', import.meta.url));

export interface WalauditProcess {
  child: ChildProcess;
  /** Everything the process wrote on stderr so far. */
  stderr(): string;
  stdout(): string;
  status(): Promise<PipelineStatus | null>;
  waitFor(predicate: (status: PipelineStatus) => boolean, timeoutMs?: number): Promise<PipelineStatus>;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
  /** kill(signal), then throws with the signal and stderr unless the process exited with code 0. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function flag(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

/** The local manager token a `start` wrote in its data directory; undefined before it did. */
export function localTokenOf(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, 'api-token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Data directories of the `start`s spawned here, by HTTP port. A command run later against that
 * port without a data directory of its own is given that start's local token, as a user running
 * it beside the start would: the tests keep each start's data in a temporary directory.
 */
const startedDataDirs = new Map<string, string>();

function dataDirOf(args: readonly string[], env: NodeJS.ProcessEnv): string {
  return flag(args, '--data-dir') ?? env.WALAUDIT_DATA_DIR ?? process.env.WALAUDIT_DATA_DIR ?? '.walaudit/data';
}

/** The built `walaudit` command as a child process, as a user runs it (`npm test` builds first). */
export function spawnWalaudit(args: string[], env: NodeJS.ProcessEnv = {}): WalauditProcess {
  const httpPort = flag(args, '--http-port') ?? env.WALAUDIT_HTTP_PORT ?? process.env.WALAUDIT_HTTP_PORT ?? '7433';
  const ownDataDir = flag(args, '--data-dir') ?? env.WALAUDIT_DATA_DIR;
  const tokenGiven = flag(args, '--token') ?? env.WALAUDIT_TOKEN;
  if (args[0] === 'start') startedDataDirs.set(httpPort, dataDirOf(args, env));
  else if (!ownDataDir && !tokenGiven && startedDataDirs.has(httpPort)) {
    const token = localTokenOf(startedDataDirs.get(httpPort)!);
    if (token) env = { ...env, WALAUDIT_TOKEN: token };
  }
  const dataDir = dataDirOf(args, env);
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  let endedBy: NodeJS.Signals | null = null;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      endedBy = signal;
      resolve(code);
    }),
  );
  const portIndex = args.indexOf('--http-port');
  const port = portIndex >= 0 ? args[portIndex + 1] : env.WALAUDIT_HTTP_PORT;
  const status = async (): Promise<PipelineStatus | null> => {
    try {
      const token = localTokenOf(dataDir);
      const response = await fetch(`http://127.0.0.1:${port}/api/status`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      if (!response.ok) return null;
      return (await response.json()) as PipelineStatus;
    } catch {
      return null;
    }
  };
  return {
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    status,
    async waitFor(predicate, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await status();
        if (current && predicate(current)) return current;
        if (child.exitCode !== null) throw new Error(`walaudit exited with ${child.exitCode}:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`timed out; last status ${JSON.stringify(current)}\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async kill(signal) {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      const code = await exited;
      if (code !== 0) throw new Error(`walaudit ended with ${code === null ? `signal ${endedBy}` : `exit code ${code}`} after ${signal}:\n${stderr}`);
    },
  };
}

/** Runs a `walaudit` command to completion. */
export async function runWalaudit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const process = spawnWalaudit(args, env);
  const code = await process.exited;
  return { code, stdout: process.stdout(), stderr: process.stderr() };
}
