/**
 * Norms and angles of gradients read back to the host, accumulated in float64 so that equal
 * inputs give exactly 0 distance and cosine 1 (the first layer's ICS, Santurkar et al. Def. 2.1).
 */

/** The gradient as one list of parts (a tensor each), as read back from the device. */
export type Parts = Float32Array[];

function dot(a: Parts, b: Parts): number {
  let s = 0;
  a.forEach((part, k) => {
    const other = b[k];
    for (let j = 0; j < part.length; j++) s += part[j] * other[j];
  });
  return s;
}

export function norm(a: Parts): number {
  return Math.sqrt(dot(a, a));
}

/** ||a - b||_2 */
export function distance(a: Parts, b: Parts): number {
  let s = 0;
  a.forEach((part, k) => {
    const other = b[k];
    for (let j = 0; j < part.length; j++) {
      const d = part[j] - other[j];
      s += d * d;
    }
  });
  return Math.sqrt(s);
}

/** cos(a, b); NaN when either is zero. Written as dot / sqrt(|a|^2 |b|^2) so cos(a, a) is exactly 1. */
export function cosine(a: Parts, b: Parts): number {
  const denominator = Math.sqrt(dot(a, a) * dot(b, b));
  return denominator === 0 ? NaN : dot(a, b) / denominator;
}
