/** `report DIR1 DIR2 ... --out DIR`: DIR/report.md comparing several ended run folders (analysis/compare-report.ts). */
import { buildComparison } from '../analysis/compare-report.js';
import type { Logger } from '../core/logger.js';
import { makeDirs, writeFileAtomic } from '../run/run-folder.js';
import { freshOutputs, readEndedFolders } from './compare-folders.js';

export async function reportFolders(dirs: string[], out: string | undefined, logger: Logger): Promise<void> {
  const [path] = freshOutputs(out, ['report.md']);
  const text = buildComparison(await readEndedFolders(dirs, logger));
  makeDirs(out!);
  writeFileAtomic(path, text);
  process.stdout.write(text);
  logger.info(`wrote ${path}`);
}
