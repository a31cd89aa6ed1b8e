#!/usr/bin/python3
"""Optuna 3.1's side of the TPE head-to-head (bench/tpe/head-to-head.ts runs it;
see that file for the command). Needs Debian's python3-optuna, python3-scipy:
/usr/bin/python3.

    /usr/bin/python3 bench/tpe/head_to_head.py run JOB.json OUT.jsonl
    /usr/bin/python3 bench/tpe/head_to_head.py mwu < samples.json

`run` reads a job {"units": [...]} written by head-to-head.ts and appends one
JSON line per unit to OUT.jsonl as it finishes (so an interrupted run keeps
what it did). A unit is one seed of one problem:

- {"mode": "seq", "problem", "seed", "trials"}: sequential ask/tell;
- {"mode": "async", "problem", "seed", "trials", "workers", "durations"}: a
  discrete-event simulation of `workers` asynchronous workers. At time 0 each
  worker asks in turn; trial i runs for durations[i] (a table made by
  head-to-head.ts, so both sides see the same timings); when a trial ends (the
  earliest end first, ties by trial number) it is told and its worker asks the
  next trial at once, while the others are still RUNNING in the study (which
  the constant liar sees).

Sampler: optuna.samplers.TPESampler(seed=seed, multivariate=True,
constant_liar=True), both set explicitly (3.1's defaults are False), in an
in-memory study that maximises -f (as cellsweep's samplers are told).

`mwu` reads {"pairs": [[x, y], ...]} and prints {"p": [...], "u": [...]}:
scipy.stats.mannwhitneyu(x, y, alternative="two-sided") for each pair, the
cross-check of head-to-head.ts's own rank test.
"""
import heapq
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import problems as problem_defs  # noqa: E402


def distributions(space):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out = {}
    for name, d in space.items():
        if d["type"] == "categorical":
            out[name] = CategoricalDistribution(d["choices"])
        elif d["type"] == "int":
            out[name] = IntDistribution(d["low"], d["high"], log=d.get("log", False), step=d.get("step", 1))
        else:
            out[name] = FloatDistribution(d["low"], d["high"], log=d.get("log", False), step=d.get("step"))
    return out


def make_study(seed):
    import optuna

    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
    return optuna.create_study(direction="maximize", sampler=sampler)


def categorical_names(space):
    return [name for name, d in space.items() if d["type"] == "categorical"]


def with_choices(result, names, params_by_trial):
    # The value of each categorical parameter, by trial number (as simulate.ts records them).
    if names:
        result["choices"] = {n: [p[n] for p in params_by_trial] for n in names}
    return result


def run_seq(unit, entry, f):
    dists = distributions(entry["space"])
    study = make_study(unit["seed"])
    values, params = [], []
    for _ in range(unit["trials"]):
        trial = study.ask(dists)
        value = f(trial.params)
        study.tell(trial, -value)
        values.append(value)
        params.append(trial.params)
    return with_choices({"values": values}, categorical_names(entry["space"]), params)


def run_async(unit, entry, f):
    dists = distributions(entry["space"])
    study = make_study(unit["seed"])
    n, workers, durations = unit["trials"], unit["workers"], unit["durations"]
    running = {}
    heap = []
    values = [None] * n
    ends = [None] * n
    params = [None] * n
    asked = 0

    def ask(now):
        nonlocal asked
        trial = study.ask(dists)
        assert trial.number == asked, (trial.number, asked)
        running[trial.number] = trial
        params[trial.number] = trial.params
        heapq.heappush(heap, (now + durations[asked], trial.number))
        asked += 1

    for _ in range(min(workers, n)):
        ask(0.0)
    while heap:
        end, number = heapq.heappop(heap)
        trial = running.pop(number)
        value = f(trial.params)
        study.tell(trial, -value)
        values[number] = value
        ends[number] = end
        if asked < n:
            ask(end)
    return with_choices({"values": values, "ends": ends}, categorical_names(entry["space"]), params)


def cmd_run(job_path, out_path):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    with open(job_path) as fh:
        job = json.load(fh)
    defs = problem_defs.load()
    with open(out_path, "a") as out:
        for unit in job["units"]:
            entry, f = defs[unit["problem"]]
            wall0, cpu0 = time.perf_counter(), time.process_time()
            result = run_seq(unit, entry, f) if unit["mode"] == "seq" else run_async(unit, entry, f)
            result.update(
                key=unit["key"],
                spec=unit["spec"],
                wall_s=time.perf_counter() - wall0,
                cpu_s=time.process_time() - cpu0,
                optuna=optuna.__version__,
            )
            out.write(json.dumps(result) + "\n")
            out.flush()


def cmd_mwu():
    from scipy.stats import mannwhitneyu

    pairs = json.load(sys.stdin)["pairs"]
    p, u = [], []
    for x, y in pairs:
        r = mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
        p.append(float(r.pvalue))
        u.append(float(r.statistic))
    json.dump({"p": p, "u": u}, sys.stdout)


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "run":
        cmd_run(args[1], args[2])
    elif args == ["mwu"]:
        cmd_mwu()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
