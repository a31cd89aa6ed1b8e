import { erf, logNormalSf, normalSf } from '../../../core/normal.js';
import type { Rng } from '../../../core/rng.js';

/**
 * The truncated standard normal on [a, b], named and parameterised as
 * scipy.stats.truncnorm: `a` and `b` are in standard units, `loc` and `scale`
 * move and stretch the result. The Parzen estimator's kernels are these, so
 * their log densities, masses and quantiles must stay finite and accurate far
 * into the tails (a kernel one hundredth of the range wide sees candidates at
 * z = 100).
 *
 * Same case split as SciPy 1.10 and Optuna's `_truncnorm.py` (work in the left
 * tail, where log Phi is accurate, and mirror the right one), on top of
 * core/normal.ts (Cody's erfc, a few ulps everywhere) instead of Cephes' ndtr.
 * One deliberate difference: a central interval holding less than half the
 * mass is summed as erf(b / sqrt 2) + erf(-a / sqrt 2) (two non-negative
 * terms) rather than 1 - Phi(a) - Phi(-b), which cancels for narrow bins.
 */

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Phi(x), the standard normal cdf. */
function ndtr(x: number): number {
  return normalSf(-x);
}

/** log Phi(x), finite for every finite x. */
export function logNdtr(x: number): number {
  return logNormalSf(-x);
}

/** log of the standard normal density. */
function normLogPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/** log(p - q) from log p and log q, p >= q. */
function logDiff(logP: number, logQ: number): number {
  return logP + Math.log1p(-Math.exp(logQ - logP));
}

function logAddExp(x: number, y: number): number {
  if (x === Number.NEGATIVE_INFINITY) return y;
  if (y === Number.NEGATIVE_INFINITY) return x;
  const m = Math.max(x, y);
  return m + Math.log1p(Math.exp(-Math.abs(x - y)));
}

/** log P(a <= Z <= b) for a standard normal Z and a <= b. */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  // a <= 0 < b. Beyond 38.5 sd each tail is below 1e-323: the mass is 1 to
  // the last representable digit (most kernels of a long history are that narrow).
  if (a <= -38.5 && b >= 38.5) return 0;
  // Near 1 the complement keeps the digits; below 1/2 the sum of two positive
  // half-masses does (the complement would cancel).
  const outside = ndtr(a) + ndtr(-b);
  if (outside < 0.5) return Math.log1p(-outside);
  return Math.log(0.5 * (erf(b * Math.SQRT1_2) + erf(-a * Math.SQRT1_2)));
}

// Wichura's AS 241 (PPND16, Appl. Statist. 37 (1988) 477-484): Phi^-1(p) to
// about 1e-16 relative, from three rational functions. Checked against
// scipy.special.ndtri (max relative difference 1.0e-15 over (1e-300, 1)).
const AS241_A = [3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125, 45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727];
const AS241_B = [1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867, 39307.89580009271061, 28729.085735721942674, 5226.495278852854561];
const AS241_C = [1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504, 1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4];
const AS241_D = [1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9];
const AS241_E = [6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123, 0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7];
const AS241_F = [1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15];

function poly(c: readonly number[], x: number): number {
  let s = 0;
  for (let i = c.length - 1; i >= 0; i--) s = s * x + c[i]!;
  return s;
}

/** Phi^-1(p) for 0 < p < 1 (AS 241). */
function ndtri(p: number): number {
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly(AS241_A, r)) / poly(AS241_B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  const v = r <= 5 ? poly(AS241_C, (r -= 1.6)) / poly(AS241_D, r) : poly(AS241_E, (r -= 5)) / poly(AS241_F, r);
  return q < 0 ? -v : v;
}

/**
 * x such that log Phi(x) = y (y <= 0): SciPy's `ndtri_exp`. AS 241 gives x
 * from p = e^y, then Newton's method on log Phi (whose error is the relative
 * error of p, whatever its size) polishes it; where p underflows, the
 * Gaussian tail asymptote starts Newton instead. Near y = 0 the equation is
 * solved for -x on log(1 - Phi(x)) = log(-expm1(y)), which keeps its digits.
 */
export function ndtriExp(y: number): number {
  if (Number.isNaN(y) || y > 0) return Number.NaN;
  if (y === 0) return Number.POSITIVE_INFINITY;
  if (y === Number.NEGATIVE_INFINITY) return Number.NEGATIVE_INFINITY;
  const flipped = y > -1e-2;
  const z = flipped ? Math.log(-Math.expm1(y)) : y;
  // e^z is a normal double above -708; below, only the asymptote is left.
  let x = z > -700 ? ndtri(Math.exp(z)) : -Math.sqrt(-2 * (z + LOG_SQRT_2PI));
  for (let i = 0; i < 50; i++) {
    const logPhi = logNdtr(x);
    // Phi / phi as exp(log Phi - log phi): both underflow in the far left tail, the ratio does not.
    const dx = (logPhi - z) * Math.exp(logPhi - normLogPdf(x));
    x -= dx;
    // Newton squares the error: a step below 1e-9 (relative, or absolute near
    // 0) leaves an error below 1e-16 of x, so no further evaluation is needed.
    if (!(Math.abs(dx) > 1e-9 * Math.max(1, Math.abs(x)))) break;
  }
  return flipped ? -x : x;
}

/** Quantile of the truncated standard normal on [a, b] (SciPy's `truncnorm.ppf(q, a, b)`). */
export function ppf(q: number, a: number, b: number): number {
  if (Number.isNaN(q) || Number.isNaN(a) || Number.isNaN(b) || a >= b || q < 0 || q > 1) return Number.NaN;
  if (q === 0) return a;
  if (q === 1) return b;
  const logMass = logGaussMass(a, b);
  let x: number;
  // SciPy solves Phi(x) = Phi(a) + q mass whenever a < 0; for an interval across 0
  // and q > 1/2 the answer may lie in the far right tail, where Phi(x) ~ 1 has lost
  // its digits, so there (as for a >= 0) the mirrored equation
  // 1 - Phi(x) = Phi(-b) + (1 - q) mass is solved instead. q <= 1/2 keeps Phi(x)
  // below 3/4, so the left equation is never in that trouble.
  if (b <= 0 || (a < 0 && q <= 0.5)) {
    x = ndtriExp(logAddExp(logNdtr(a), Math.log(q) + logMass));
  } else {
    x = -ndtriExp(logAddExp(logNdtr(-b), Math.log1p(-q) + logMass));
  }
  // The last ulps of Newton's answer may step outside: a sample must not.
  return Math.min(b, Math.max(a, x));
}

/** One draw of truncnorm(a, b, loc, scale) by inversion of a uniform from `rng`. */
export function rvs(a: number, b: number, loc: number, scale: number, rng: Rng): number {
  return ppf(rng.float(), a, b) * scale + loc;
}

/** log density of truncnorm(a, b, loc, scale) at x: -inf outside [loc + a scale, loc + b scale], NaN when a = b (SciPy's values). */
export function logpdf(x: number, a: number, b: number, loc = 0, scale = 1): number {
  if (Number.isNaN(x) || Number.isNaN(a) || Number.isNaN(b) || a >= b) return Number.NaN;
  const z = (x - loc) / scale;
  if (z < a || z > b) return Number.NEGATIVE_INFINITY;
  return normLogPdf(z) - logGaussMass(a, b) - Math.log(scale);
}

/** log cdf of truncnorm(a, b, loc, scale) at x (SciPy's `truncnorm.logcdf`). */
export function logcdf(x: number, a: number, b: number, loc = 0, scale = 1): number {
  if (Number.isNaN(x) || Number.isNaN(a) || Number.isNaN(b) || a >= b) return Number.NaN;
  const z = (x - loc) / scale;
  if (z <= a) return Number.NEGATIVE_INFINITY;
  if (z >= b) return 0;
  const logMass = logGaussMass(a, b);
  const logLeft = logGaussMass(a, z);
  // Above the median the cdf is 1 - sf: log1p of the (small) upper mass keeps
  // the digits SciPy's difference of two logs loses (30 < z < 31: 1e-12 of 1e-12).
  if (logLeft - logMass > -Math.LN2) return Math.log1p(-Math.exp(logGaussMass(z, b) - logMass));
  return logLeft - logMass;
}
