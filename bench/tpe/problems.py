#!/usr/bin/python3
"""The head-to-head benchmark's problems on the Python side: the formulas of
bench/tpe/problems.ts, evaluated from the same bench/tpe/problems.json (the one
definition of the problems). Standard library only.

    /usr/bin/python3 bench/tpe/problems.py --eval < points.json

reads {"points": [{"problem": name, "params": {...}}, ...]} and prints
{"values": [f, ...]}: the agreement check that bench/tpe/head-to-head.ts runs
before every benchmark and tests/bench/tpe-problems.test.ts runs when
/usr/bin/python3 exists.
"""
import json
import math
import os
import sys

PROBLEMS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "problems.json")


def branin(x1, x2):
    b = 5.1 / (4 * math.pi * math.pi)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    u = x2 - b * x1 * x1 + c * x1 - 6
    return u * u + 10 * (1 - t) * math.cos(x1) + 10


def hartmann(k, x):
    total = 0.0
    for i in range(len(k["alpha"])):
        inner = 0.0
        for j in range(len(x)):
            d = x[j] - k["P"][i][j]
            inner += k["A"][i][j] * d * d
        total += k["alpha"][i] * math.exp(-inner)
    return -total


def rosenbrock(x):
    total = 0.0
    for i in range(len(x) - 1):
        a = x[i + 1] - x[i] * x[i]
        b = x[i] - 1
        total += 100 * a * a + b * b
    return total


def ackley(x):
    sq = 0.0
    cs = 0.0
    for v in x:
        sq += v * v
        cs += math.cos(2 * math.pi * v)
    d = len(x)
    return -20 * math.exp(-0.2 * math.sqrt(sq / d)) - math.exp(cs / d) + 20 + math.e


def levy(x):
    w = [1 + (v - 1) / 4 for v in x]
    d = len(w)
    total = math.sin(math.pi * w[0]) ** 2
    for i in range(d - 1):
        wi = w[i]
        total += (wi - 1) * (wi - 1) * (1 + 10 * math.sin(math.pi * wi + 1) ** 2)
    wd = w[d - 1]
    return total + (wd - 1) * (wd - 1) * (1 + math.sin(2 * math.pi * wd) ** 2)


def styblinski_tang(x):
    total = 0.0
    for v in x:
        total += v * v * v * v - 16 * v * v + 5 * v
    return total / 2


def _transform(kind, v):
    if kind == "identity":
        return v
    if kind == "log10":
        return math.log10(v)
    if kind == "log2":
        return math.log2(v)
    raise ValueError(f"unknown transform {kind}")


def _table(table, params, by, fallback):
    if table is None:
        return fallback
    return table[_key(params[by])]


def _key(v):
    # JSON object keys are text; match JavaScript's String(v) for the choices used here.
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def quadratic(terms, params):
    total = 0.0
    for t in terms:
        c = t["centre"]
        centre = c if isinstance(c, (int, float)) else _table(c["table"], params, c["by"], 0)
        d = _transform(t["transform"], params[t["var"]]) - centre
        total += t["weight"] * d * d
    return total


def evaluate(objective, constants, params):
    x = [params[name] for name in objective.get("vars", [])]
    kind = objective["kind"]
    if kind == "branin":
        base = branin(x[0], x[1])
    elif kind == "hartmann":
        base = hartmann(constants[objective["constants"]], x)
    elif kind == "rosenbrock":
        base = rosenbrock(x)
    elif kind == "ackley":
        base = ackley(x)
    elif kind == "levy":
        base = levy(x)
    elif kind == "styblinski-tang":
        base = styblinski_tang(x)
    elif kind == "quadratic":
        base = quadratic(objective["terms"], params)
    else:
        raise ValueError(f"unknown objective kind {kind}")
    by = objective.get("by")
    if by is None:
        return base
    return _table(objective.get("scale"), params, by, 1.0) * base + _table(objective.get("offset"), params, by, 0.0)


def load(path=PROBLEMS_FILE):
    """{name: (problem entry, f(params))} from problems.json."""
    with open(path) as f:
        data = json.load(f)
    constants = data["constants"]
    out = {}
    for p in data["problems"]:
        out[p["name"]] = (p, (lambda o: lambda params: evaluate(o, constants, params))(p["objective"]))
    return out


def main():
    if sys.argv[1:] != ["--eval"]:
        sys.exit(__doc__)
    problems = load()
    points = json.load(sys.stdin)["points"]
    json.dump({"values": [problems[pt["problem"]][1](pt["params"]) for pt in points]}, sys.stdout)


if __name__ == "__main__":
    main()
