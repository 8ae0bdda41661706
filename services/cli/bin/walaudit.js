#!/usr/bin/env node
// The `walaudit` command. A committed file, so npm can link it before the build has run;
// `npm ci` builds dist/ through the root `prepare` script.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('walaudit: the build output is missing: run `npm run build` (or `npm ci`) at the repository root\n');
  process.exit(2);
}
await import(main.href);
