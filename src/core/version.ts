/** The project's own version (package.json), without loading anything else: `--version` and run.json. */
import { readFileSync } from 'node:fs';

export function ownVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
