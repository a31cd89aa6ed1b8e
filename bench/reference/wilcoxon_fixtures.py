# Reference p-values of the Wilcoxon signed-rank test for coordinator/pruners/wilcoxon.ts.
# Run: /usr/bin/python3 bench/reference/wilcoxon_fixtures.py > tests/fixtures/wilcoxon.json
# Only cases where scipy's method and ours coincide (see wilcoxon.ts): no zero
# differences; no ties up to n = 50 (exact); the normal approximation beyond 50.
# Tied small samples are checked against brute-force enumeration in the test.
import json
import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(3)
cases = []


def add(d, alt):
    r = stats.wilcoxon(d, alternative=alt, zero_method='wilcox', correction=False, mode='auto')
    cases.append({"d": [float(x) for x in d], "alternative": alt, "p": float(r.pvalue)})


for n in [1, 2, 3, 4, 5, 6, 8, 12, 20, 25, 40, 50]:
    for alt in ['less', 'greater', 'two-sided']:
        add(list(rng.normal(-0.3, 1, n).round(6)), alt)
for alt in ['less', 'greater', 'two-sided']:
    add([-0.1, -0.2, -0.3, -0.4, -0.5, -0.6], alt)  # six seeds all worse: the smallest p
    add([0.1, -0.2, -0.3, -0.4, -0.5, -0.6], alt)
    add(list(rng.normal(0.2, 1, 80).round(6)), alt)  # normal approximation
    add(list(np.repeat(rng.normal(0.1, 1, 30).round(3), 2) * rng.choice([-1, 1], 60)), alt)  # ties, n > 50
print(json.dumps({
    "generated_by": "/usr/bin/python3 bench/reference/wilcoxon_fixtures.py > tests/fixtures/wilcoxon.json",
    "reference": f"scipy {scipy.__version__} stats.wilcoxon(zero_method='wilcox', correction=False, mode='auto')",
    "cases": cases,
}, indent=1))
