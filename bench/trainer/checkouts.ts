import { resolve } from 'node:path';

/**
 * The checkouts a trainer benchmark compares, from `LABEL=DIR` options (a
 * bare DIR is its own label); none given: this checkout, as `this checkout`.
 */
export function checkoutRoots(specs: readonly string[] | undefined): [label: string, dir: string][] {
  if (specs === undefined || specs.length === 0) return [['this checkout', resolve(import.meta.dirname, '..', '..')]];
  return specs.map((spec) => {
    const at = spec.indexOf('=');
    return at > 0 ? [spec.slice(0, at), resolve(spec.slice(at + 1))] : [spec, resolve(spec)];
  });
}
