#!/usr/bin/python3
"""Optuna 3.1.0's joint Parzen estimator, for the 'optuna-3.1' density rules
of coordinator/samplers/tpe/parzen-estimator.ts (the exploring suggestions of
TpeOptions.exploreEvery), written to tests/fixtures/tpe/parzen-3.1.json.

  /usr/bin/python3 bench/reference/tpe31_fixtures.py tests/fixtures/tpe/parzen-3.1.json

Debian's /usr/bin/python3 with python3-optuna 3.1.0 (the python3 first on PATH
lacks it). Multivariate (joint) estimators only: that is where 3.1's widths
differ. Parameter kinds: float, log float, stepped float, int and
categorical; a log int is left out, because 3.1 models it as a continuous
kernel and cellsweep keeps v5's discrete one.
"""
import json
import sys
import warnings

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import default_weights

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from tpe_fixtures import draw_values, num, space_json  # noqa: E402

COMMAND = "/usr/bin/python3 bench/reference/tpe31_fixtures.py tests/fixtures/tpe/parzen-3.1.json"


def main(out):
    warnings.filterwarnings("ignore")
    assert optuna.__version__ == "3.1.0", optuna.__version__
    # consider_prior, prior_weight, consider_magic_clip, consider_endpoints, weights, multivariate: TPESampler's defaults.
    params = _ParzenEstimatorParameters(True, 1.0, True, False, default_weights, True)
    rng = np.random.default_rng(20261122)
    spaces = {
        "x": FloatDistribution(-3.0, 5.0),
        "lr": FloatDistribution(1e-4, 1e-1, log=True),
        "drop": FloatDistribution(0.0, 0.5, step=0.1),
        "depth": IntDistribution(2, 6),
        "choice": CategoricalDistribution(["none", "weighted", "smote"]),
    }

    def draw(name, n):
        return draw_values(spaces[name], rng, n)

    def points(names, m=12):
        out = {}
        for k in names:
            d = spaces[k]
            if isinstance(d, CategoricalDistribution):
                out[k] = [float(i % len(d.choices)) for i in range(m)]
            else:
                out[k] = [float(v) for v in draw(k, m)]
        return out

    cases = []
    for names, n in [
        (["x", "lr"], 1),
        (["x", "lr", "drop", "depth", "choice"], 3),
        (["x", "lr", "choice"], 30),
        (["x", "drop", "depth", "choice"], 12),
        (["x", "lr", "drop", "depth", "choice"], 90),
    ]:
        obs = {k: draw(k, n) for k in names}
        space = {k: spaces[k] for k in names}
        pe = _ParzenEstimator(obs, space, params)
        pts = points(names)
        logpdf = pe.log_pdf({k: np.asarray(v, dtype=(int if isinstance(spaces[k], CategoricalDistribution) else float)) for k, v in pts.items()})
        dims = []
        for k in names:
            if isinstance(spaces[k], CategoricalDistribution):
                dims.append({"weights": [[num(x) for x in row] for row in pe._categorical_weights[k]]})
            else:
                dims.append({"mu": [num(x) for x in pe._mus[k]], "sigma": [num(x) for x in pe._sigmas[k]]})
        cases.append({
            "name": f"joint {','.join(names)} n={n}",
            "producer": f"optuna {optuna.__version__}",
            "space": [[k, space_json(spaces[k])] for k in names],
            "observations": {k: [float(x) for x in obs[k]] for k in names},
            "mixture_weights": [num(x) for x in pe._weights],
            "dims": dims,
            "points": pts,
            "log_pdf": [num(x) for x in logpdf],
        })
    with open(out, "w") as f:
        json.dump({"generated_by": COMMAND, "producer": f"optuna {optuna.__version__}", "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
