#!/usr/bin/python3
"""Reference values for the TPE sampler (coordinator/samplers/tpe), written to
tests/fixtures/tpe/{truncnorm,parzen,split}.json.

Reproduce (Debian's /usr/bin/python3: python3-scipy 1.10.1, python3-numpy,
python3-mpmath, python3-optuna 3.1.0; the python3 first on PATH lacks them):

  1. Optuna v5's source at commit 1d8ce7bb6f3c7274a7a31a0a007991995085baa7
     (github:optuna/optuna, 2026-08-21, version "5.0.0.dev"). With the
     workspace's fetch tool the bare mirror lands in /work/.mirror/optuna+optuna/repo:
       mkdir -p /tmp/optuna-v5
       git -C /work/.mirror/optuna+optuna/repo archive \
           1d8ce7bb6f3c7274a7a31a0a007991995085baa7 optuna | tar -x -C /tmp/optuna-v5
     (or: git clone https://github.com/optuna/optuna && git checkout 1d8ce7b, and
     pass its root). Debian's optuna dependencies serve it.
  2. /usr/bin/python3 bench/reference/tpe_fixtures.py --optuna-src /tmp/optuna-v5 tests/fixtures/tpe

The v5 parts run in a child process with --optuna-src on PYTHONPATH (so the
two Optunas never share one interpreter); the child checks that the TPE files
it imports are byte-for-byte those of the commit (git blob SHA-1s below).

What each file holds, and who produced it (every case names its producer):
- truncnorm.json: scipy.stats.truncnorm 1.10.1 ppf / logpdf / logcdf, plus
  mpmath (60 digits) for each, on finite, one-sided, two-sided
  infinite, far-tail, narrow and degenerate (a = b) bounds;
- parzen.json: Optuna v5's _ParzenEstimator (observations, weights, sigmas,
  log_pdf at given points) for every kind of parameter, univariate and joint;
- split.json: the good/bad split and default_weights from Optuna v5
  (_split_trials, default_gamma, default_weights) and, for the same trials,
  from Optuna 3.1 (_get_observation_pairs + _split_observation_pairs), which
  must agree on these single-objective histories.
"""
import argparse
import hashlib
import json
import math
import os
import subprocess
import sys

COMMAND = "/usr/bin/python3 bench/reference/tpe_fixtures.py --optuna-src /tmp/optuna-v5 tests/fixtures/tpe"
OPTUNA_V5_COMMIT = "1d8ce7bb6f3c7274a7a31a0a007991995085baa7"
V5_BLOBS = {
    "optuna/samplers/_tpe/sampler.py": "0b29585efbc537d306e5bf9b6a16795d9b0a8bbd",
    "optuna/samplers/_tpe/parzen_estimator.py": "14ddef5c3769bd4600cbe512c692ea9e4cf9aabe",
    "optuna/samplers/_tpe/probability_distributions.py": "7aaa0686ecf275df2eaf25e1dbd7894ab1398fa4",
    "optuna/samplers/_tpe/_truncnorm.py": "2cd8582bedb69411dd8e93b5968da1369ee7d6fd",
    "optuna/samplers/_tpe/_erf.py": "441f7554799a0feada701f3e35d901084af60434",
}
V5_PRODUCER = f"optuna 5.0.0.dev @ {OPTUNA_V5_COMMIT}"


def num(x):
    """JSON has no inf or nan: spell them as strings the tests read back."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def git_blob_sha(path):
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


# --------------------------------------------------------------------------- truncnorm

def truncnorm_fixtures():
    import mpmath as mp
    import numpy as np
    import scipy
    from scipy.stats import truncnorm

    mp.mp.dps = 60
    inf = float("inf")
    bounds = [
        (-1.0, 2.0), (0.0, 1.0), (-2.0, -1.0), (1.5, 4.0),
        (-inf, inf), (-inf, 0.5), (-inf, -5.0), (3.0, inf), (-0.7, inf),
        (8.0, 9.0), (-9.0, -8.5), (30.0, 31.0), (-40.0, -38.0), (-1000.0, -999.0), (37.0, inf), (-inf, -37.5),
        (-1e-3, 1e-3), (5.0, 5.0001), (-3.0, 40.0), (-100.0, 100.0), (-0.01, 12.0),
        (2.0, 2.0), (-inf, -inf),
    ]
    qs = [0.0, 1e-300, 1e-10, 1e-3, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999, 1 - 1e-10, 1.0]

    def mp_ncdf(x):
        return mp.ncdf(mp.mpf(x)) if mp.isfinite(x) else (mp.mpf(1) if x > 0 else mp.mpf(0))

    def mp_sf(x):
        return mp.ncdf(-mp.mpf(x)) if mp.isfinite(x) else (mp.mpf(0) if x > 0 else mp.mpf(1))

    def mp_mass(a, b):
        # Whichever side keeps the digits: the left tail in cdf terms, the right in sf terms.
        a, b = float(a) if not isinstance(a, mp.mpf) else a, float(b) if not isinstance(b, mp.mpf) else b
        return mp_ncdf(b) - mp_ncdf(a) if b <= 0 else mp_sf(a) - mp_sf(b)

    def mp_ppf(q, a, b):
        # Bisection on the truncated cdf mass(a, x) / mass(a, b) in 60 digits:
        # slow, sure, and free of starting-point luck.
        q = mp.mpf(q)
        total = mp_mass(a, b)
        lo = mp.mpf(a if math.isfinite(a) else (min(b, 0.0) - 60))
        hi = mp.mpf(b if math.isfinite(b) else (max(a, 0.0) + 60))
        for _ in range(400):
            mid = (lo + hi) / 2
            if mp_mass(a, mid) / total < q:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    def mp_logpdf(x, a, b):
        if not (a <= x <= b):
            return -mp.inf
        return -mp.mpf(x) ** 2 / 2 - mp.log(mp.sqrt(2 * mp.pi)) - mp.log(mp_mass(a, b))

    def mp_logcdf(x, a, b):
        if x <= a:
            return -mp.inf
        if x >= b:
            return mp.mpf(0)
        return mp.log(mp_mass(a, x) / mp_mass(a, b))

    cases = []
    for a, b in bounds:
        degenerate = not (a < b)
        case = {"a": num(a), "b": num(b), "ppf": [], "logpdf": [], "logcdf": []}
        for q in qs:
            ref = float(truncnorm.ppf(q, a, b))
            exact = None if degenerate or q in (0.0, 1.0) else num(mp_ppf(q, a, b))
            case["ppf"].append({"q": q, "scipy": num(ref), "exact": exact})
        if degenerate:
            xs = [a if math.isfinite(a) else 0.0]
        else:
            lo = a if math.isfinite(a) else min(b, 0.0) - 6
            hi = b if math.isfinite(b) else max(a, 0.0) + 6
            xs = sorted({lo, hi, lo + (hi - lo) * 0.25, lo + (hi - lo) * 0.5, lo + (hi - lo) * 0.9, lo - 0.5, hi + 0.5})
        for x in xs:
            lp = float(truncnorm.logpdf(x, a, b))
            lc = float(truncnorm.logcdf(x, a, b))
            case["logpdf"].append({"x": x, "scipy": num(lp), "exact": None if degenerate else num(mp_logpdf(x, a, b))})
            case["logcdf"].append({"x": x, "scipy": num(lc), "exact": None if degenerate else num(mp_logcdf(x, a, b))})
        cases.append(case)
    # loc / scale as the kernels use them.
    scaled = []
    for x, a, b, loc, scale in [(0.3, -2.0, 1.5, 0.1, 0.4), (5.0, -1.0, 3.0, 2.0, 1.5), (-3.2, -inf, 0.0, -1.0, 2.5), (1.0, 0.5, 30.0, 0.0, 1e-3)]:
        scaled.append({"x": x, "a": num(a), "b": num(b), "loc": loc, "scale": scale,
                       "logpdf": num(truncnorm.logpdf(x, a, b, loc=loc, scale=scale)),
                       "logcdf": num(truncnorm.logcdf(x, a, b, loc=loc, scale=scale))})
    return {
        "generated_by": COMMAND,
        "producer": f"scipy {scipy.__version__} (scipy.stats.truncnorm); exact: mpmath {mp.__version__} at 60 digits",
        "numpy": np.__version__,
        "cases": cases,
        "scaled": scaled,
    }


# --------------------------------------------------------------------------- parzen (v5)

def draw_values(d, rng, n):
    """n random observations of distribution d, as floats (a categorical's are choice indices)."""
    import numpy as np
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(d, CategoricalDistribution):
        return rng.integers(0, len(d.choices), n).astype(float)
    if isinstance(d, IntDistribution):
        if d.log:
            return np.round(np.exp(rng.uniform(np.log(d.low), np.log(d.high), n)))
        return d.low + d.step * rng.integers(0, (d.high - d.low) // d.step + 1, n).astype(float)
    if d.step is not None:
        k = int(round((d.high - d.low) / d.step))
        return np.round(d.low + d.step * rng.integers(0, k + 1, n), 10)
    if d.log:
        return np.exp(rng.uniform(np.log(d.low), np.log(d.high), n))
    return rng.uniform(d.low, d.high, n)


def space_json(dist):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(dist, CategoricalDistribution):
        return {"type": "categorical", "choices": list(dist.choices)}
    if isinstance(dist, IntDistribution):
        return {"type": "int", "low": dist.low, "high": dist.high, "log": dist.log, "step": dist.step}
    out = {"type": "float", "low": dist.low, "high": dist.high, "log": dist.log}
    if dist.step is not None:
        out["step"] = dist.step
    return out


def parzen_fixtures():
    import numpy as np
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
    from optuna.samplers._tpe.sampler import default_weights

    here = os.path.dirname(os.path.abspath(optuna.__file__))
    for rel, blob in V5_BLOBS.items():
        got = git_blob_sha(os.path.join(os.path.dirname(here), rel))
        if got != blob:
            sys.exit(f"{rel}: git blob {got}, expected {blob} (commit {OPTUNA_V5_COMMIT})")
    assert optuna.__version__ == "5.0.0.dev", optuna.__version__

    params = _ParzenEstimatorParameters(
        prior_weight=1.0, consider_magic_clip=True, consider_endpoints=False, weights=default_weights, multivariate=True
    )
    rng = np.random.default_rng(20261121)
    spaces = {
        "x": FloatDistribution(-3.0, 5.0),
        "lr": FloatDistribution(1e-4, 1e-1, log=True),
        "drop": FloatDistribution(0.0, 0.5, step=0.1),
        "depth": IntDistribution(2, 6),
        "width": IntDistribution(16, 512, log=True),
        "even": IntDistribution(0, 20, step=2),
        "choice": CategoricalDistribution(["none", "weighted", "smote"]),
    }

    def draw(name, n):
        return draw_values(spaces[name], rng, n)

    def probe(name, n=9):
        d = spaces[name]
        if isinstance(d, CategoricalDistribution):
            return [float(i) for i in range(len(d.choices))]
        if isinstance(d, IntDistribution) or d.step is not None:
            step = d.step
            k = int(round((d.high - d.low) / step))
            return sorted({float(np.round(d.low + step * i, 10)) for i in range(0, k + 1, max(1, k // 8))} | {float(d.high)})
        lo, hi = (np.log(d.low), np.log(d.high)) if d.log else (d.low, d.high)
        pts = [lo, hi] + list(np.linspace(lo, hi, n)[1:-1]) + [lo + 1e-6 * (hi - lo)]
        return [float(np.exp(p)) if d.log else float(p) for p in pts]

    cases = []

    def add(name, names, n, joint_points=None):
        obs = {k: draw(k, n) for k in names}
        # Ties of a numerical parameter: which tied kernel gets which width follows
        # the sort. Ours is stable; numpy's default argsort is stable for short
        # arrays only, so a case is kept only where the two agree.
        for k in names:
            if not isinstance(spaces[k], CategoricalDistribution):
                v = np.log(obs[k]) if spaces[k].log else obs[k]
                assert (np.argsort(v) == np.argsort(v, kind="stable")).all(), f"{name}: numpy tie order differs for {k}"
        space = {k: spaces[k] for k in names}
        pe = _ParzenEstimator(obs, space, params)
        mix = pe._mixture_distribution
        if joint_points is None:
            grids = [probe(k) for k in names]
            m = max(len(g) for g in grids)
            joint_points = {k: [g[i % len(g)] for i in range(m)] for k, g in zip(names, grids)}
        pts = {k: np.asarray(v, dtype=float) for k, v in joint_points.items()}
        logpdf = pe.log_pdf(pts)
        dims = []
        for k, d in zip(names, mix.distributions):
            if hasattr(d, "mu"):
                dims.append({"mu": [num(x) for x in d.mu], "sigma": [num(x) for x in d.sigma]})
            else:
                dims.append({"weights": [[num(x) for x in row] for row in d.weights]})
        cases.append({
            "name": name,
            "producer": V5_PRODUCER,
            "space": [[k, space_json(spaces[k])] for k in names],
            "observations": {k: [float(x) for x in obs[k]] for k in names},
            "mixture_weights": [num(x) for x in mix.weights],
            "dims": dims,
            "points": {k: [float(x) for x in v] for k, v in joint_points.items()},
            "log_pdf": [num(x) for x in logpdf],
        })

    for k in spaces:
        for n in (0, 1, 2, 5, 12):
            add(f"{k} n={n}", [k], n)
    for k in ("x", "lr", "choice"):
        add(f"{k} n=40 (ramp weights)", [k], 40)
    add("joint x,lr,drop,depth,choice n=3", ["x", "lr", "drop", "depth", "choice"], 3)
    add("joint x,lr,choice n=30 (ramp weights)", ["x", "lr", "choice"], 30)
    add("joint lr,width,even,choice n=14", ["lr", "width", "even", "choice"], 14)
    return {"generated_by": COMMAND, "producer": V5_PRODUCER, "cases": cases}


# --------------------------------------------------------------------------- split (v5 and 3.1)

SPLIT_HISTORIES = {
    # number: (state, value or intermediate values)
    "complete only, ties broken by the earlier trial": [
        ("COMPLETE", 0.7), ("COMPLETE", 0.9), ("COMPLETE", 0.7), ("COMPLETE", 0.5), ("COMPLETE", 0.9),
        ("COMPLETE", 0.6), ("COMPLETE", 0.65), ("COMPLETE", 0.8), ("COMPLETE", 0.71), ("COMPLETE", 0.55),
        ("COMPLETE", 0.9), ("COMPLETE", 0.3),
    ],
    "pruned fill the good group when complete ones run out": [
        ("PRUNED", {0: 0.6, 1: 0.62}), ("COMPLETE", 0.7), ("PRUNED", {0: 0.9}), ("PRUNED", {0: 0.5, 1: 0.7, 2: 0.4}),
        ("PRUNED", None), ("PRUNED", {0: 0.5, 1: 0.7, 2: 0.45}), ("RUNNING", None), ("PRUNED", {0: 0.95}),
        ("FAIL", None), ("PRUNED", {0: 0.1, 1: 0.2}), ("COMPLETE", 0.2), ("PRUNED", {0: 0.8, 1: 0.1}),
        ("PRUNED", None), ("PRUNED", {0: 0.3, 1: 0.2, 2: 0.1, 3: 0.0}), ("PRUNED", {0: 0.3, 1: 0.2, 2: 0.1, 3: 0.05}),
    ] + [("PRUNED", {0: 0.1 * (i % 7)}) for i in range(10)],
    "running trials always go to the bad group": [
        ("RUNNING", None), ("COMPLETE", 0.5), ("RUNNING", None), ("COMPLETE", 0.9), ("COMPLETE", 0.1),
        ("RUNNING", None), ("COMPLETE", 0.95), ("COMPLETE", 0.4), ("RUNNING", None), ("COMPLETE", 0.3),
        ("COMPLETE", 0.2), ("COMPLETE", 0.25), ("RUNNING", None),
    ],
    "a long history: gamma caps at 25": [("COMPLETE", ((i * 7919) % 1000) / 1000.0) for i in range(300)]
    + [("RUNNING", None)] * 5 + [("PRUNED", {0: 0.99})] * 3,
}


def build_study(optuna, history):
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    study = optuna.create_study(direction="maximize")
    dist = {"x": FloatDistribution(0.0, 1.0)}
    for i, (state, v) in enumerate(history):
        st = getattr(TrialState, state)
        kw = {"params": {"x": (i % 97) / 97.0}, "distributions": dist, "state": st}
        if state == "COMPLETE":
            kw["value"] = v
        if state == "PRUNED" and v is not None:
            kw["intermediate_values"] = v
        study.add_trial(create_trial(**kw))
    return study


def split_v5():
    import optuna
    from optuna.samplers._tpe.sampler import _split_trials, default_gamma, default_weights
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = []
    for name, history in SPLIT_HISTORIES.items():
        study = build_study(optuna, history)
        trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING))
        n = sum(t.state != TrialState.RUNNING for t in trials)
        below, above = _split_trials(study, trials, default_gamma(n))
        out.append({"name": name, "producer": V5_PRODUCER, "n_finished": n, "gamma": default_gamma(n),
                    "below": [t.number for t in below], "above": [t.number for t in above],
                    "weights_below": list(map(float, default_weights(len(below)))),
                    "weights_above": list(map(float, default_weights(len(above))))})
    weights = {str(n): list(map(float, default_weights(n))) for n in (0, 1, 10, 24, 25, 26, 27, 30, 100)}
    gammas = {str(n): default_gamma(n) for n in (0, 1, 9, 10, 11, 100, 240, 250, 251, 1000)}
    return {"splits": out, "default_weights": weights, "default_gamma": gammas}


def split_31():
    import numpy as np
    import optuna
    from optuna.samplers._tpe.sampler import _get_observation_pairs, _split_observation_pairs, default_gamma, default_weights

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = []
    for name, history in SPLIT_HISTORIES.items():
        study = build_study(optuna, history)
        _, scores, _ = _get_observation_pairs(study, ["x"], constant_liar=True)
        numbers = [t.number for t in study.get_trials(deepcopy=False) if t.state.name in ("COMPLETE", "PRUNED", "RUNNING")]
        n = sum(s < float("inf") for s, _ in scores)
        below, above = _split_observation_pairs(scores, default_gamma(n), None)
        out.append({"name": name, "producer": f"optuna {optuna.__version__} (Debian python3-optuna)", "n_finished": n,
                    "gamma": default_gamma(n), "below": [numbers[i] for i in below], "above": [numbers[i] for i in above],
                    "weights_below": list(map(float, default_weights(len(below)))),
                    "weights_above": list(map(float, default_weights(len(above))))})
    weights = {str(n): list(map(float, default_weights(n))) for n in (0, 1, 10, 24, 25, 26, 27, 30, 100)}
    return {"splits": out, "default_weights": weights}


# --------------------------------------------------------------------------- main

def child(what):
    result = {"parzen": parzen_fixtures, "split": split_v5}[what]()
    json.dump(result, sys.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--optuna-src", help="root of the extracted Optuna v5 checkout (see the header)")
    ap.add_argument("--child", choices=["parzen", "split"], help=argparse.SUPPRESS)
    ap.add_argument("out_dir", nargs="?")
    args = ap.parse_args()
    if args.child:
        return child(args.child)
    if not args.optuna_src or not args.out_dir:
        ap.error("usage: " + COMMAND)

    def run_v5(what):
        env = dict(os.environ, PYTHONPATH=os.path.abspath(args.optuna_src))
        text = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", what], env=env, check=True,
                              capture_output=True, text=True).stdout
        return json.loads(text)

    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "truncnorm.json"), "w") as f:
        json.dump(truncnorm_fixtures(), f, indent=1)
    with open(os.path.join(args.out_dir, "parzen.json"), "w") as f:
        json.dump(run_v5("parzen"), f, indent=1)
    v5 = run_v5("split")
    v31 = split_31()
    for a, b in zip(v5["splits"], v31["splits"]):
        assert (a["below"], a["above"]) == (b["below"], b["above"]), f"3.1 and v5 split differently: {a['name']}"
    assert v5["default_weights"] == v31["default_weights"]
    with open(os.path.join(args.out_dir, "split.json"), "w") as f:
        json.dump({"generated_by": COMMAND, "v5": v5, "v3_1": v31}, f, indent=1)


if __name__ == "__main__":
    main()
