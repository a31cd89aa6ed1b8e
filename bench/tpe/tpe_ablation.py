#!/usr/bin/python3
"""Why Optuna 3.1 beats v5 (and cellsweep) on hartmann6-cat: Optuna's own TPE
with the two differences between 3.1 and v5 that matter there swapped, one at
a time (docs/tpe.md, "Against Optuna 3.1: hartmann6-cat").

    /usr/bin/python3 bench/tpe/tpe_ablation.py VARIANT [SEEDS [PROBLEM [FIRST_SEED]]]

VARIANT (the v5 ones need PYTHONPATH=/tmp/optuna-v5, see bench/reference/tpe_fixtures.py):
- v31: Debian's Optuna 3.1.0 as it is (the head-to-head's sampler);
- v31-neighbour: 3.1 with its own neighbour-distance widths in multivariate
  mode instead of the Scott-like 0.2 n^(-1/(d+4)) range;
- v5: Optuna v5 as it is;
- v5-scott: v5 with 3.1's multivariate widths (plain floats only);
- v5-nologscale, v5-scott-nologscale: also 3.1.0's truncated-normal log
  density, which lacks -log(scale) (optuna/optuna#5109, fixed in 3.5.0).

Same ask/tell loop and sampler arguments as head_to_head.py (multivariate=True,
constant_liar=True), 100 trials per seed. One JSON line per seed (final regret,
the variant of the best trial), then a summary line.
"""
import json
import os
import statistics
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import head_to_head as h2h  # noqa: E402
import problems as problem_defs  # noqa: E402
import optuna  # noqa: E402

VARIANTS = ["v31", "v31-neighbour", "v5", "v5-scott", "v5-nologscale", "v5-scott-nologscale"]


def patch(variant):
    v5 = optuna.__version__.startswith("5.")
    if v5 != variant.startswith("v5"):
        sys.exit(f"{variant} needs Optuna {'v5 on PYTHONPATH' if variant.startswith('v5') else '3.1'}, got {optuna.__version__}")
    if variant == "v31-neighbour":
        from optuna.samplers._tpe import parzen_estimator as pe

        numerical = pe._ParzenEstimator._calculate_numerical_params

        def neighbour(self, observations, name):
            saved = (self._parameters, self._sigmas0)
            self._parameters, self._sigmas0 = self._parameters._replace(multivariate=False), None
            try:
                return numerical(self, observations, name)
            finally:
                self._parameters, self._sigmas0 = saved

        pe._ParzenEstimator._calculate_numerical_params = neighbour
    if variant.endswith("-nologscale"):
        from optuna.samplers._tpe import _truncnorm

        logpdf = _truncnorm.logpdf
        _truncnorm.logpdf = lambda x, a, b, loc=0, scale=1: logpdf(x, a, b, loc, scale) + np.log(scale)


def scott_estimator():
    from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator
    from optuna.samplers._tpe.probability_distributions import _BatchedTruncNormDistributions

    class Scott(_ParzenEstimator):
        def _calculate_numerical_distributions(self, observations, search_space, parameters):
            if search_space.step is not None or search_space.log:
                raise NotImplementedError("v5-scott: plain floats only")
            low, high, n = search_space.low, search_space.high, len(observations)
            sigma0 = 0.2 * max(n, 1) ** (-1.0 / (len(self._search_space) + 4)) * (high - low)
            sigma = np.clip(sigma0, (high - low) / min(100.0, n + 2.0), high - low)
            mus = np.append(observations, [0.5 * (low + high)])
            sigmas = np.append(np.full(n, sigma), [high - low])
            return _BatchedTruncNormDistributions(mus, sigmas, low, high)

    return Scott


def main():
    args = sys.argv[1:]
    if not args or args[0] not in VARIANTS:
        sys.exit(__doc__)
    variant = args[0]
    seeds = int(args[1]) if len(args) > 1 else 20
    problem = args[2] if len(args) > 2 else "hartmann6-cat"
    first = int(args[3]) if len(args) > 3 else 0
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore")
    patch(variant)

    def make_study(seed):
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
        if "scott" in variant:
            sampler._parzen_estimator_cls = scott_estimator()
        return optuna.create_study(direction="maximize", sampler=sampler)

    h2h.make_study = make_study
    entry, f = problem_defs.load()[problem]
    fstar = entry["fstar"]
    regrets = []
    for seed in range(first, first + seeds):
        r = h2h.run_seq({"seed": seed, "trials": 100}, entry, f)
        best = int(np.argmin(r["values"]))
        regrets.append(r["values"][best] - fstar)
        choices = {k: v[best] for k, v in r.get("choices", {}).items()}
        print(json.dumps({"seed": seed, "regret": regrets[-1], "best": choices}), flush=True)
    print(json.dumps({"variant": variant, "optuna": optuna.__version__, "problem": problem, "seeds": [first, first + seeds - 1],
                      "median": statistics.median(regrets), "mean": statistics.fmean(regrets)}))


if __name__ == "__main__":
    main()
