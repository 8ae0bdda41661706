// Which code a bench measured: the git commit, the uncommitted source files, and when the built
// output (packages/*/dist, services/*/dist) last changed. Other people rebuild while a bench runs.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
  } catch {
    return null;
  }
}

/** { commit, uncommittedSourceFiles } (bench/ itself left out). */
export function gitInfo() {
  const status = git(['status', '--porcelain']);
  return {
    commit: git(['rev-parse', '--short', 'HEAD'])?.trim() ?? null,
    uncommittedSourceFiles: status === null ? null : status.split('\n').filter((l) => l && !l.slice(3).startsWith('bench/')).map((l) => l.slice(3)),
  };
}

/** ISO time of the newest .js file under packages/*\/dist and services/*\/dist. */
export function distBuiltAt() {
  let newest = 0;
  const walk = (dir) => {
    let names;
    try {
      names = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of names) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.js')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const group of ['packages', 'services']) {
    let packages = [];
    try {
      packages = readdirSync(join(ROOT, group));
    } catch {
      // none
    }
    for (const name of packages) walk(join(ROOT, group, name, 'dist'));
  }
  return newest ? new Date(newest).toISOString() : null;
}
