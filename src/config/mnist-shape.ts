/**
 * The shape of MNIST as the networks see it: 28 x 28 one-channel images (784 inputs) and 10
 * classes. Facts of the data set that the config's network checks need before any data loads;
 * data/dataset.ts re-exports them for the code that holds the data.
 */

/** MNIST images are 28 x 28, one channel. */
export const IMAGE_SIDE = 28;
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;
export const CLASSES = 10;
