import { f64Kernels } from '../../backend/simd/vecmat-f64.js';

export interface UnbalancedOtOptions {
  /** Entropic weight (SCTL: 0.1). */
  eps: number;
  /** KL weight of the relaxed marginals (SCTL: 1). */
  tau: number;
  /** Proximal point steps (SCTL: 10). */
  outer: number;
  /** Scaling steps per proximal point step (SCTL: 10). */
  inner: number;
}

/**
 * The plan (row-major) of unbalanced entropic optimal transport between two
 * uniform point clouds with a row-major rows x cols cost matrix (entries >=
 * 0), solved by the inexact proximal point method of SCTL (eq. 6-8) as
 * uniPort's `unbalanced_ot` writes it. With p = 1/rows, q = 1/cols, f = tau / (tau + eps)
 * and T = 1 / (rows cols) to start, each of `outer` steps does
 *
 *   K = exp(-C / (eps max C)) * T            (elementwise)
 *   v = q / K^T u                             (u carries over from the last step)
 *   `inner` times:  u = (p / K v)^f,  v = (q / K^T u)^f
 *   T = diag(u) K diag(v)
 *
 * Each outer step is the unbalanced Sinkhorn problem of POT's
 * sinkhorn_knopp_unbalanced with cost C / max C - eps log T; run to
 * convergence the two agree to 1e-16 (bench/reference/sctl_reference.py).
 *
 * The plan is a constant in SCTL's loss (L_ot = sum C T, no gradient through
 * T), so it is solved here, in float64 on the host, outside autodiff: a
 * 128 x 128 batch costs a few milliseconds, and float64 keeps the small entries
 * (they reach exp(-outer / eps) of the largest) that float32 would flush.
 *
 * A cost of all zeros gives the starting plan 1 / (rows cols): every pairing
 * costs the same (uniPort would divide 0 by 0 there). A non-finite cost gives a
 * non-finite plan, and so a non-finite L_ot that the training step reports.
 */
export function unbalancedOtPlan(cost: ArrayLike<number>, rows: number, cols: number, opts: UnbalancedOtOptions): Float64Array {
  checkArguments(cost, rows, cols, opts);
  const n = rows * cols;
  const plan = new Float64Array(n).fill(1 / n);
  let maxCost = 0;
  for (let i = 0; i < n; i++) maxCost = Math.max(maxCost, Math.abs(cost[i] as number));
  if (!Number.isFinite(maxCost)) return plan.fill(Number.NaN);
  if (maxCost === 0) return plan;

  const scale = -1 / (opts.eps * maxCost);
  const p = 1 / rows;
  const q = 1 / cols;
  const f = opts.tau / (opts.tau + opts.eps);
  // The two matrix-vector products of each scaling step (K v and K^T u,
  // 200 of them a solve) run in a float64 SIMD kernel; K is kept transposed
  // too so that both are sums down columns, which the kernel does in the
  // same order as a plain loop: the plan is the plain loops' bit for bit
  // (bench/results/trainer-speed.md has what it gained).
  const simd = f64Kernels();
  const [kernel, kernelT, base, u, v, rowSums, colSums] = simd.arrays([n, n, n, rows, cols, rows, cols]) as [
    Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array,
  ];
  for (let i = 0; i < n; i++) base[i] = Math.exp((cost[i] as number) * scale);

  // K = exp(-C / (eps max C)) * T with T = 1 / n, and v = q / K^T u.
  const start = plan[0] as number;
  for (let i = 0; i < n; i++) kernel[i] = (base[i] as number) * start;
  u.fill(1 / rows);
  simd.vecmat(kernel, u, colSums, rows, cols);
  powInto(v, colSums, q, 1);
  for (let step = 0; step < opts.outer; step++) {
    transpose(kernel, kernelT, rows, cols);
    for (let it = 0; it < opts.inner; it++) {
      // u = (p / K v)^f, then v = (q / K^T u)^f
      simd.vecmat(kernelT, v, rowSums, cols, rows);
      powInto(u, rowSums, p, f);
      simd.vecmat(kernel, u, colSums, rows, cols);
      powInto(v, colSums, q, f);
    }
    // T = diag(u) K diag(v): the result, or the next step's K = base * T and v = q / K^T u (u carries over).
    const last = step === opts.outer - 1;
    const target = last ? plan : kernel;
    for (let r = 0; r < rows; r++) {
      const ur = u[r] as number;
      const off = r * cols;
      for (let c = 0; c < cols; c++) {
        const t = ur * (kernel[off + c] as number) * (v[c] as number);
        target[off + c] = last ? t : (base[off + c] as number) * t;
      }
    }
    if (!last) {
      simd.vecmat(kernel, u, colSums, rows, cols);
      powInto(v, colSums, q, 1);
    }
  }
  return plan;
}

/** out = m^T for m [rows, cols] row-major. */
function transpose(m: Float64Array, out: Float64Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = m[off + c] as number;
  }
}

/** out[c] = (q / sums[c])^f. */
function powInto(out: Float64Array, sums: Float64Array, q: number, f: number): void {
  for (let c = 0; c < out.length; c++) out[c] = Math.pow(q / (sums[c] as number), f);
}

/** sum_ij C_ij T_ij in float64. */
export function transportCost(cost: ArrayLike<number>, plan: ArrayLike<number>): number {
  if (cost.length !== plan.length) throw new RangeError(`transportCost: ${cost.length} costs but ${plan.length} plan entries`);
  let s = 0;
  for (let i = 0; i < cost.length; i++) s += (cost[i] as number) * (plan[i] as number);
  return s;
}

function checkArguments(cost: ArrayLike<number>, rows: number, cols: number, opts: UnbalancedOtOptions): void {
  const fail = (what: string): never => {
    throw new RangeError(`unbalancedOtPlan: ${what}`);
  };
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) fail(`expected rows and cols >= 1, but got ${rows} x ${cols}`);
  if (cost.length !== rows * cols) fail(`expected ${rows} x ${cols} = ${rows * cols} costs, but got ${cost.length}`);
  if (!(opts.eps > 0) || !(opts.tau > 0)) fail(`expected eps > 0 and tau > 0, but got eps ${opts.eps}, tau ${opts.tau}`);
  if (!Number.isInteger(opts.outer) || opts.outer < 1 || !Number.isInteger(opts.inner) || opts.inner < 1) {
    fail(`expected outer and inner >= 1, but got ${opts.outer} and ${opts.inner}`);
  }
}
