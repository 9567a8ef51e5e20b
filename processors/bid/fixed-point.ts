/**
 * Integer arithmetic for money. Factors (pacing, performance) are integer parts-per-million, so
 * "price × factor" is `mulDivFloor(price, factorPpm, PPM)`: exact, rounded down (towards the
 * advertiser, never overspending), and free of float error.
 */

/** 1.0 as parts per million. */
export const PPM = 1_000_000;

/**
 * floor(a × b / c) for non-negative safe integers a, b and positive c. When a × b fits in 2^53 the
 * float division is exact enough (a true quotient below an integer k+1 is at least 1/c below it, more
 * than half an ulp when a × b <= 2^53), so floor is exact; otherwise it falls back to BigInt.
 */
export function mulDivFloor(a: number, b: number, c: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER) return Math.floor(product / c);
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** floor(value × ppm / 1,000,000). */
export function applyPpm(value: number, ppm: number): number {
  return mulDivFloor(value, ppm, PPM);
}
