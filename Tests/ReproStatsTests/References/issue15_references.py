#!/usr/bin/env python3
"""Reference values of issue 15 (logit-scale interval, alpha spending, planning), computed with scipy.

Run:  python3 Tests/ReproStatsTests/References/issue15_references.py
Prints the values that LogitIntervalTests.swift, GroupSequentialTests.swift and PlanTests.swift
embed (full precision, as printed here by scipy 1.17.1 / numpy 2.4.6 / sympy 1.14; run it from this
directory or with it on PYTHONPATH, it imports issue15_beta_expansion.py). Nothing random.
"""
import numpy as np
import scipy
import scipy.special as sp
import scipy.stats as st

print(f"# scipy {scipy.__version__}, numpy {np.__version__}")

# ----------------------------------------------------------------------------------------------
# Logit-scale interval of a mean bounded in [a, b], with the second-order skewness correction of
# docs/statistics.md §2a (LogitSkewCorrection.swift):
#   u = (mean - a)/(b - a), s = sd/(b - a), se = s/(sqrt(n) u(1 - u))            (delta method)
#   gamma = 2(1 - 2u) s/(u(1 - u) + s^2), kappa = s(2u - 1)/(u(1 - u))           (beta skewness, logit curvature)
#   Hall's g(T) = T + A/sqrt(n) T^2 + (A^2/n) T^3/3 + B/sqrt(n), A = gamma/3 + kappa/2, B = gamma/6
#   nu = 2 + (n - 3) * 2/max(v2, 2) (n - 1 for n <= 3), v2 from the sympy expansion (issue15_beta_expansion.py)
#   interval = a + (b - a) * expit(logit(u) - g^-1(+/- t.ppf((1+level)/2, nu)) * se),
#   each end no further from the mean than Hoeffding's (b - a) * sqrt(log(2/(1 - level))/(2n)).
# g^-1(y) = (cbrt(1 + 3 A/sqrt(n) (y - B/sqrt(n))) - 1)/(A/sqrt(n)), or y - B/sqrt(n) when A = 0.
# The delta-method interval the report used before (g the identity, nu = n - 1) is printed beside it.
import sympy
from issue15_beta_expansion import beta_plugins, derived, eps, u as U_SYMBOL, sd as SD_SYMBOL

_V2 = sympy.simplify(derived()[1].coeff(eps, 2).subs(beta_plugins()))


def v2_expansion(u, s):
    return float(_V2.subs({U_SYMBOL: sympy.Float(u, 30), SD_SYMBOL: sympy.Float(s, 30)}))


def logit_interval(x, level, a=0.0, b=1.0, corrected=True):
    x = np.asarray(x, dtype=float)
    n = len(x)
    mean = float(np.mean(x))
    sd = float(np.std(x, ddof=1))
    u = (mean - a) / (b - a)
    s = sd / (b - a)
    se = s / (np.sqrt(n) * u * (1 - u))
    if corrected:
        gamma = 2 * (1 - 2 * u) * s / (u * (1 - u) + s * s)
        kappa = s * (2 * u - 1) / (u * (1 - u))
        A = (gamma / 3 + kappa / 2) / np.sqrt(n)
        B = gamma / 6 / np.sqrt(n)
        nu = 2 + (n - 3) * 2 / max(v2_expansion(u, s), 2.0) if n > 3 else n - 1
    else:
        A, B, nu = 0.0, 0.0, n - 1

    def g_inverse(y):
        return y - B if A == 0 else (np.cbrt(1 + 3 * A * (y - B)) - 1) / A

    q = st.t.ppf(0.5 + 0.5 * level, nu)
    lo = a + (b - a) * sp.expit(sp.logit(u) - g_inverse(q) * se)
    hi = a + (b - a) * sp.expit(sp.logit(u) - g_inverse(-q) * se)
    if corrected:
        envelope = (b - a) * np.sqrt(np.log(2 / (1 - level)) / (2 * n))
        lo, hi = max(lo, mean - envelope), min(hi, mean + envelope)
    return mean, sd, lo, hi, nu

cases = {
    # accuracies near 1: the t interval leaves [0, 1]
    "near_one": [1.0, 0.99, 1.0, 0.97, 1.0],
    "demo_like": [0.9722, 0.9944, 1.0, 0.9833, 1.0, 0.9889, 0.9778, 1.0],
    # the worked example of statistics.md §6 (far from the bounds: close to the t interval)
    "worked_example": [0.912, 0.905, 0.917, 0.909, 0.921, 0.903, 0.915, 0.911],
    # near 0, on a [0, 100] percentage scale
    "percent_near_zero": [0.5, 2.0, 0.1, 1.2, 0.0, 3.5],
    # mean exactly 1/2: no skewness correction, v2 < 2, so the delta-method interval with n - 1 df
    "symmetric_half": [0.4, 0.55, 0.5, 0.45, 0.6],
    # one diverged seed among accuracies near 0.9 (sd/sqrt(u(1-u)) large: v2 held at 2)
    "diverged_seed": [0.91, 0.93, 0.5, 0.92, 0.9, 0.94],
    # four runs at 1 and one at 0.9: the corrected lower bounds run past Hoeffding's, which bounds them
    "one_off_the_bound": [1.0, 1.0, 1.0, 1.0, 0.9],
    # three runs (nu = n - 1 = 2), near 0
    "three_near_zero": [0.02, 0.05, 0.01],
}
for name, x in cases.items():
    a, b = (0.0, 100.0) if name.startswith("percent") else (0.0, 1.0)
    for level in (0.90, 0.95):
        mean, sd, lo, hi, nu = logit_interval(x, level, a, b)
        _, _, dlo, dhi, _ = logit_interval(x, level, a, b, corrected=False)
        tlo, thi = st.t.interval(level, len(x) - 1, loc=mean, scale=sd / np.sqrt(len(x)))
        print(f"logit {name} level={level} range=[{a},{b}]: ({lo!r}, {hi!r}) nu={nu!r}   "
              f"delta method: ({dlo!r}, {dhi!r})   t: ({tlo!r}, {thi!r})")
# Student t quantiles with a non-integer df, as the corrected interval uses them.
for p_, df_ in [(0.95, 6.44), (0.975, 3.27), (0.95, 1.4)]:
    print(f"t.ppf({p_}, {df_}) = {st.t.ppf(p_, df_)!r}")

# ----------------------------------------------------------------------------------------------
# Lan-DeMets alpha spending, O'Brien-Fleming type: alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t)),
# one-sided alpha, K equally spaced looks t_k = k/K. Boundary b_k solves
#   P(Z_1 < b_1, ..., Z_{k-1} < b_{k-1}, Z_k >= b_k) = alpha(t_k) - alpha(t_{k-1}),
# with Cov(Z_i, Z_j) = sqrt(t_i / t_j) (canonical joint distribution, Jennison & Turnbull 2000 §3.1),
# via scipy.stats.multivariate_normal.cdf (Genz) and scipy.optimize.brentq.
from scipy.optimize import brentq

def obf_spent(t, alpha):
    return 2 - 2 * st.norm.cdf(st.norm.ppf(1 - alpha / 2) / np.sqrt(t))

def ld_obf_bounds(fractions, alpha):
    bounds = []
    for k, t in enumerate(fractions):
        target = obf_spent(t, alpha) - (obf_spent(fractions[k - 1], alpha) if k else 0.0)
        if k == 0:
            bounds.append(float(st.norm.isf(target)))
            continue
        ts = fractions[: k + 1]
        cov = np.array([[np.sqrt(min(a, b) / max(a, b)) for b in ts] for a in ts])
        prev_cov = cov[:k, :k]
        no_cross_before = (st.multivariate_normal(np.zeros(k), prev_cov, maxpts=2_000_000, abseps=1e-8, releps=1e-8).cdf(np.array(bounds))
                           if k > 1 else st.norm.cdf(bounds[0]))
        mvn = st.multivariate_normal(np.zeros(k + 1), cov, maxpts=2_000_000, abseps=1e-8, releps=1e-8)
        def excess(b):
            return no_cross_before - mvn.cdf(np.array(bounds + [b])) - target
        bounds.append(float(brentq(excess, 0.5, 10, xtol=1e-10)))
    return bounds

for alpha in (0.025, 0.05):
    for K in (2, 3, 4, 5):
        fractions = [k / K for k in range(1, K + 1)]
        spent = [float(obf_spent(t, alpha)) for t in fractions]
        print(f"ldobf alpha={alpha} K={K}: bounds={ld_obf_bounds(fractions, alpha)} spent={spent}")

# ----------------------------------------------------------------------------------------------
# Holm across three `higher` claims (c = 0.95, delta = 0.01): the `reproduced` p-value of each is
# scipy.stats.t.sf((mean - (c - delta)) / se, n - 1); Holm step-down at family alpha 0.05
# (Holm 1979): sorted p_(k) <= 0.05 / (m - k + 1), stopping at the first failure.
holm_cases = [
    [0.958663, 0.967607, 0.972079, 0.976552, 0.985496],
    [0.938215, 0.947159, 0.951631, 0.956103, 0.965047],
    [0.936539, 0.945483, 0.949955, 0.954428, 0.963372],
]
ps = []
for x in holm_cases:
    x = np.asarray(x)
    se = np.std(x, ddof=1) / np.sqrt(len(x))
    ps.append(float(st.t.sf((np.mean(x) - 0.94) / se, len(x) - 1)))
order = sorted(range(3), key=lambda i: ps[i])
holm = ["inconclusive"] * 3
for rank, i in enumerate(order):
    if ps[i] <= 0.05 / (3 - rank):
        holm[i] = "reproduced"
    else:
        break
print(f"holm p={ps} per_claim={['reproduced' if p <= 0.05 else 'inconclusive' for p in ps]} holm={holm}")

# ----------------------------------------------------------------------------------------------
# Planning (repro plan): power of the fixed rule from scipy.stats.nct with ncp = delta sqrt(n) / sd:
#   reproduced (true mean = claim):     nct.sf(t.ppf(0.95, n-1), n-1, ncp)  (equal: 2*that - 1)
#   not_reproduced (true mean off 2δ):  nct.sf(t.ppf(0.975, n-1), n-1, ncp)
# runs needed = smallest n >= 2 with power >= target.
def power_rep(n, sd, delta, equal=False):
    p = st.nct.sf(st.t.ppf(0.95, n - 1), n - 1, delta * np.sqrt(n) / sd)
    return max(0.0, 2 * p - 1) if equal else p

def power_not(n, sd, delta):
    return st.nct.sf(st.t.ppf(0.975, n - 1), n - 1, delta * np.sqrt(n) / sd)

def runs(target, power):
    n = 2
    while power(n) < target:
        n += 1
    return n

for sd, delta, equal in [(0.01, 0.01, False), (0.006, 0.01, False), (0.02, 0.01, False), (0.01, 0.01, True), (0.05, 0.0185, False)]:
    out = {
        "rep80": runs(0.8, lambda n: power_rep(n, sd, delta, equal)),
        "rep90": runs(0.9, lambda n: power_rep(n, sd, delta, equal)),
        "not80": runs(0.8, lambda n: power_not(n, sd, delta)),
        "not90": runs(0.9, lambda n: power_not(n, sd, delta)),
        "power_rep_n10": float(power_rep(10, sd, delta, equal)),
        "power_not_n10": float(power_not(10, sd, delta)),
    }
    print(f"plan sd={sd} delta={delta} equal={equal}: {out}")

for t, df, nc in [(1.8, 1, 2.0), (2.1, 4, 3.0), (1.7, 9, 0.5), (-0.5, 2, -1.0), (2.0, 59, 4.2), (3.0, 30, 1.0)]:
    print(f"nct.sf({t}, {df}, {nc}) = {float(st.nct.sf(t, df, nc))!r}")
