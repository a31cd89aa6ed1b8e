#!/usr/bin/python3
"""Optuna 3.1's TPE suggestion latency, for bench/tpe/latency.ts (which runs it;
see that file for the command). Needs Debian's python3-optuna: /usr/bin/python3.

Reads {"space": ..., "trials": [{params, value}], "sizes": [...], "iters": n,
"warmup": n} as JSON on stdin; for each size builds an in-memory study of that
many COMPLETE trials (add_trial, not timed), then times `iters` ask + tell
cycles after `warmup` untimed ones: the same work cellsweep's sampler does per
suggestion (re-read the history, split, two Parzen estimators, 24 candidates).
TPESampler(seed=0, multivariate=True, constant_liar=True): both set explicitly,
since 3.1's defaults are False. Prints one JSON object per size.
"""
import json
import sys
import time
import warnings

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import create_trial

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def distributions(space):
    out = {}
    for name, d in space:
        if d["type"] == "categorical":
            out[name] = CategoricalDistribution(d["choices"])
        elif d["type"] == "int":
            out[name] = IntDistribution(d["low"], d["high"], log=d["log"], step=d["step"])
        else:
            out[name] = FloatDistribution(d["low"], d["high"], log=d["log"], step=d.get("step"))
    return out


def main():
    spec = json.load(sys.stdin)
    dists = distributions(spec["space"])
    for size in spec["sizes"]:
        study = optuna.create_study(
            direction="maximize", sampler=optuna.samplers.TPESampler(seed=0, multivariate=True, constant_liar=True)
        )
        for t in spec["trials"][:size]:
            study.add_trial(create_trial(params=t["params"], distributions=dists, value=t["value"]))
        rng = np.random.default_rng(size)
        walls = []
        cpu0 = None
        for i in range(spec["warmup"] + spec["iters"]):
            if i == spec["warmup"]:
                cpu0 = time.process_time()
            w0 = time.perf_counter()
            trial = study.ask(dists)
            study.tell(trial, float(rng.random()))
            if i >= spec["warmup"]:
                walls.append((time.perf_counter() - w0) * 1000)
        cpu = (time.process_time() - cpu0) * 1000 / spec["iters"]
        print(json.dumps({"size": size, "wall_ms": walls, "cpu_ms": cpu, "optuna": optuna.__version__}), flush=True)


if __name__ == "__main__":
    main()
