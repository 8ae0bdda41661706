import { readFileSync } from 'node:fs';

/** The version of the @walaudit/cli package this command was built from. */
export const WALAUDIT_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
