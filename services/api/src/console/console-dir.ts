import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where the console's built files are (services/console/dist); undefined when it is not installed. */
export function consoleDistDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@walaudit/console/package.json')), 'dist');
  } catch {
    return undefined;
  }
}
