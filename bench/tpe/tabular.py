#!/usr/bin/python3
"""The Optuna side of the tabular SCTL benchmark (bench/tpe/tabular.ts runs it).

  /usr/bin/python3 bench/tpe/tabular.py TRIALS_CSV SEEDS TRIALS TOLERANCE

Optuna 3.1 (Debian's python3-optuna): TPESampler(seed=s, multivariate=True,
constant_liar=True), in-memory study, ask/tell, on the sctl-paper grid
(l1, l2, l3 and sampling categorical, depth an int 2..6: the space of
coordinator/space/builtin-spaces.ts); a trial's value is the table's mean AUC
of its configuration (maximised). Prints a JSON list: per seed, the number of
trials (1-based) until a configuration within TOLERANCE of the table's best,
or null if never within TRIALS.
"""
import csv
import json
import sys

import optuna

L1 = [0.1, 0.5, 1, 2]
L2 = [0.5, 1, 10]
L3 = [0.5, 1, 5, 15]
SAMPLING = ["none", "weighted", "smote"]


def number(text, choices):
    for c in choices:
        if float(text) == float(c):
            return c
    raise ValueError(f"{text} is not one of {choices}")


def load(path):
    table = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["state"] != "COMPLETE":
                raise SystemExit(f"{path}: trial {row['trial']} is {row['state']}, not COMPLETE")
            key = (number(row["l1"], L1), number(row["l2"], L2), number(row["l3"], L3), int(row["depth"]), row["sampling"])
            table[key] = float(row["auc_mean"])
    if len(table) != 720:
        raise SystemExit(f"{path}: {len(table)} configurations, expected 720")
    return table


def main():
    path, seeds, trials, tolerance = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    table = load(path)
    best = max(table.values())
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = []
    for seed in range(seeds):
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        reached = None
        for i in range(trials):
            t = study.ask()
            key = (
                t.suggest_categorical("l1", L1),
                t.suggest_categorical("l2", L2),
                t.suggest_categorical("l3", L3),
                t.suggest_int("depth", 2, 6),
                t.suggest_categorical("sampling", SAMPLING),
            )
            value = table[key]
            study.tell(t, value)
            if reached is None and value >= best - tolerance:
                reached = i + 1
        out.append(reached)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
