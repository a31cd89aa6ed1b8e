#!/usr/bin/python3
"""The Optuna side of the tabular SCTL benchmark (bench/tpe/tabular.ts runs it).

  /usr/bin/python3 bench/tpe/tabular.py TRIALS_CSV SEEDS TRIALS FIRST_SEED N_STARTUP

Optuna 3.1 (Debian's python3-optuna): TPESampler(seed=s, multivariate=True,
constant_liar=True, n_startup_trials=N_STARTUP), in-memory study, ask/tell,
on the sctl-paper grid (l1, l2, l3 and sampling categorical, depth an int
2..6: the space of coordinator/space/builtin-spaces.ts); a trial's value is
the table's mean AUC of its configuration (maximised). Seeds FIRST_SEED ..
FIRST_SEED+SEEDS-1. Prints a JSON list: per seed, the TRIALS values in
trial order (tabular.ts scores them as it scores its own samplers).
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
    path, seeds, trials, first, n_startup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    table = load(path)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = []
    for seed in range(first, first + seeds):
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True, n_startup_trials=n_startup)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        values = []
        for _ in range(trials):
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
            values.append(value)
        out.append(values)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
