/**
 * Picks and loads the data a run uses, then applies the seeded subsets and the input encoding.
 * Full MNIST comes from the first source of sources.ts that has it, else from a download into
 * the data/mnist cache. Only when none of that works does `--data auto` fall back to the 10,000
 * embedded digits, with a warning that says what differs; files that are found but damaged are
 * always an error, never a reason to train on fewer images.
 */
import type { ResolvedConfig } from '../config/config.js';
import { UsageError, UserError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { Rng } from '../core/random.js';
import { binarize, subset, type Dataset } from './dataset.js';
import { downloadMnist } from './download.js';
import { EMBEDDED_ORIGIN, EMBEDDED_WARNING, loadEmbeddedAll, splitEmbedded } from './embedded.js';
import { loadMnistDir } from './mnist-files.js';
import { defaultDataDirs, fullSources, locateFull, type DataDirs } from './sources.js';

export interface LoadOptions {
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  onDownloadProgress?: (file: string, received: number, total: number) => void;
  /** The cache and package folders; tests pass others to exercise each path. */
  dirs?: DataDirs;
}

/** Thrown when no source has full MNIST and the download failed: the one case auto falls back. */
class FullMnistUnavailable extends UserError {}

async function loadFull(config: ResolvedConfig, opts: LoadOptions): Promise<Dataset> {
  const env = opts.env ?? process.env;
  const dirs = opts.dirs ?? defaultDataDirs();
  const found = locateFull(config.data.dir, env, dirs);
  if (found) return { ...loadMnistDir(found.dir, config.data.verifyChecksums), source: 'full', origin: found.origin, folder: found.dir };
  const dir = dirs.cache;
  const looked = fullSources(config.data.dir, env, dirs).map((s) => s.dir);
  opts.logger.info(`MNIST not found in ${looked.join(', ')}; downloading it into ${dir}.`);
  try {
    await downloadMnist(dir, {
      mirrors: config.data.mirrors,
      retries: config.data.downloadRetries,
      logger: opts.logger,
      onProgress: opts.onDownloadProgress,
    });
  } catch (err) {
    if (err instanceof UserError) throw new FullMnistUnavailable(err.message);
    throw err;
  }
  return { ...loadMnistDir(dir, config.data.verifyChecksums), source: 'full', origin: 'download', folder: dir };
}

function loadEmbedded(config: ResolvedConfig): Dataset {
  const split = splitEmbedded(loadEmbeddedAll(), config.data.embeddedTrain, config.data.embeddedTest, Rng.stream(config.data.seed, 'embedded-split'));
  return { ...split, source: 'embedded', origin: 'embedded', folder: EMBEDDED_ORIGIN };
}

async function loadRaw(config: ResolvedConfig, opts: LoadOptions): Promise<Dataset> {
  if (config.data.source === 'embedded') {
    opts.logger.warn(EMBEDDED_WARNING);
    return loadEmbedded(config);
  }
  if (config.data.source === 'full') return loadFull(config, opts);
  try {
    return await loadFull(config, opts);
  } catch (err) {
    if (!(err instanceof FullMnistUnavailable)) throw err;
    opts.logger.warn(`${err.message} Falling back to the embedded digits. ${EMBEDDED_WARNING}`);
    return loadEmbedded(config);
  }
}

/** The data set of a run, with subsets and input encoding applied. */
export async function loadDataset(config: ResolvedConfig, opts: LoadOptions): Promise<Dataset> {
  const raw = await loadRaw(config, opts);
  const larger = ([key, asked, have, what]: [string, number, number, string]) => {
    if (asked > have) throw new UsageError(`config key "${key}" (${asked}) asks for more examples than the ${what} holds (${have}).`);
  };
  larger(['data.trainSubset', config.data.trainSubset, raw.train.count, 'training set']);
  larger(['data.testSubset', config.data.testSubset, raw.test.count, 'held-out set']);
  larger(['eval.probeSize', config.eval.probeSize, config.data.testSubset || raw.test.count, 'held-out set']);
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
