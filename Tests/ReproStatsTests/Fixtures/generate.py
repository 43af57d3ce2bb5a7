#!/usr/bin/env python3
"""Reference values for ReproStatsTests, computed with numpy and scipy.

Run from anywhere:  python3 Tests/ReproStatsTests/Fixtures/generate.py
Writes reference.json next to this file. Deterministic: every random draw comes from
numpy.random.default_rng(SEED). The numpy/scipy versions are recorded in the output.

Each section names the reference function that produced its expected values; where no single
scipy function exists (verdict rule, variance components, outlier rule) the formula of
shared/docs/statistics.md is written out below with numpy/scipy primitives.
"""
import json
import math
import pathlib
import platform

import numpy as np
import scipy
import scipy.special as sp
import scipy.stats as st

SEED = 20240611
rng = np.random.default_rng(SEED)
Z95 = float(sp.ndtri(0.975))


def f(x):
    """float or None (JSON null) for undefined values; never NaN/inf."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return x


def interval(lo, hi):
    return {"lower": f(lo), "upper": f(hi)}


# ---------------------------------------------------------------- samples
def draw(kind, n):
    """Metric-like scales so bootstrap Monte-Carlo error stays far below 2e-3 absolute."""
    if kind == "normal":
        return rng.normal(0.85, 0.01, n)
    if kind == "lognormal":  # right-skewed, e.g. a loss
        return 1.2 + 0.02 * rng.lognormal(0.0, 0.8, n)
    if kind == "t2":  # heavy-tailed, Student t with 2 df
        return 0.7 + 0.005 * rng.standard_t(2, n)
    raise ValueError(kind)


# ---------------------------------------------------------------- summaries
def modified_z_outliers(x):
    """Iglewicz & Hoaglin: |0.6745 (x - median) / MAD_raw| > 3.5; MAD_raw = 0 falls back to
    (x - median) / (1.253314 * mean absolute deviation) (IBM convention); none if that is 0 too."""
    med = np.median(x)
    mad_raw = st.median_abs_deviation(x)
    if mad_raw > 0:
        z = 0.6745 * (x - med) / mad_raw
    else:
        meanad = np.mean(np.abs(x - med))
        if meanad == 0:
            return []
        z = (x - med) / (1.253314 * meanad)
    return [int(i) for i in np.nonzero(np.abs(z) > 3.5)[0]]


def bca(x, seed):
    r = st.bootstrap((x,), np.mean, n_resamples=9999, method="BCa", rng=np.random.default_rng(seed))
    return r.confidence_interval.low, r.confidence_interval.high


def summary_expected(x):
    n = len(x)
    m = np.mean(x)
    out = {
        "n": n,
        "mean": f(m),
        "median": f(np.median(x)),
        "mad": f(st.median_abs_deviation(x, scale="normal")),
        "iqm": f(st.trim_mean(x, 0.25)),
        "min": f(np.min(x)),
        "max": f(np.max(x)),
        "range": f(np.ptp(x)),
        "outliers": modified_z_outliers(x),
    }
    if n >= 2:
        s = np.std(x, ddof=1)
        se = s / math.sqrt(n)
        tc = st.t.ppf(0.975, n - 1)
        c4 = math.sqrt(2 / (n - 1)) * math.exp(sp.gammaln(n / 2) - sp.gammaln((n - 1) / 2))
        out.update(
            sd=f(s),
            se=f(se),
            cv=f(100 * s / abs(m)),
            cv_star=f((1 + 1 / (4 * n)) * (s / c4) / abs(m) * 100),
            ci95_mean=interval(*st.t.interval(0.95, n - 1, loc=m, scale=se)),
            pi95_next_run=interval(m - tc * s * math.sqrt(1 + 1 / n), m + tc * s * math.sqrt(1 + 1 / n)),
        )
    if n >= 10:
        lo, hi = bca(x, 0)
        # Monte-Carlo spread of scipy's own BCa bounds over 20 rng seeds; the Swift generator is a
        # different stream, so the tolerance is 7 MC standard deviations (about 5 sd of a difference
        # of two independent estimates).
        reps = np.array([bca(x, s) for s in range(1, 21)])
        sd_lo, sd_hi = reps.std(axis=0, ddof=1)
        out["ci95_bootstrap"] = interval(lo, hi)
        out["bootstrap_tolerance"] = f(7 * max(sd_lo, sd_hi))
    return out


summaries = []
for kind in ["normal", "lognormal", "t2"]:
    for n in [2, 3, 5, 8, 10, 13, 20, 30, 50, 100, 150, 200]:
        x = draw(kind, n)
        summaries.append({"name": f"{kind}-n{n}", "values": [float(v) for v in x], "expected": summary_expected(x)})


# ---------------------------------------------------------------- claims
def verdict_rule(direction, c, d, m, s, n):
    """statistics.md §2 at alpha = 0.05 with scipy.stats.t.ppf quantiles."""
    se = s / math.sqrt(n)
    one = st.t.ppf(0.95, n - 1) * se
    two = st.t.ppf(0.975, n - 1) * se
    lo, hi = c - d, c + d
    if direction == "higher":
        if m - one >= lo:
            return "reproduced"
        if m + two < lo:
            return "not_reproduced"
    elif direction == "lower":
        if m + one <= hi:
            return "reproduced"
        if m - two > hi:
            return "not_reproduced"
    else:
        if m - one >= lo and m + one <= hi:
            return "reproduced"
        if m + two < lo or m - two > hi:
            return "not_reproduced"
    return "inconclusive"


def expected_max(v, k):
    """Tang et al. 2020, without replacement: sum_i v_(i) C(i-1, k-1) / C(n, k)."""
    v = np.sort(v)
    n = len(v)
    if k > n:
        return None
    return float(sum(v[i - 1] * math.comb(i - 1, k - 1) for i in range(k, n + 1)) / math.comb(n, k))


def claim_expected(x, claim, n_min):
    n = len(x)
    c = claim["value"]
    d = claim["tolerance"] if claim["tolerance"] is not None else 0.02 * abs(c)
    m = np.mean(x)
    s = np.std(x, ddof=1)
    se = s / math.sqrt(n)
    if claim["direction"] == "lower":
        pct = 100 - st.percentileofscore(x, c, kind="strict")  # share of runs >= c
    else:
        pct = st.percentileofscore(x, c, kind="weak")  # share of runs <= c
    tt = st.ttest_1samp(x, c)
    p_lower = st.ttest_1samp(x, c - d, alternative="greater").pvalue
    p_upper = st.ttest_1samp(x, c + d, alternative="less").pvalue
    e5 = expected_max(x, 5)
    emin5 = -expected_max(-x, 5) if n >= 5 else None
    if e5 is None:
        flag = False
    elif claim["direction"] == "higher":
        flag = c >= e5
    elif claim["direction"] == "lower":
        flag = c <= emin5
    else:
        flag = c >= e5 or c <= emin5
    if n < max(n_min, 2):
        verdict, needed = "insufficient_runs", None
    else:
        verdict = verdict_rule(claim["direction"], c, d, m, s, n)
        needed = None
        if verdict == "inconclusive":
            k = n + 1
            while verdict_rule(claim["direction"], c, d, m, s, k) == "inconclusive":
                k += 1
            needed = k
    return {
        "tolerance": f(d),
        "tolerance_is_default": claim["tolerance"] is None,
        "n": n,
        "mean": f(m),
        "sd": f(s),
        "gap": f(m - c),
        "standardized_gap": f((m - c) / s),
        "claim_percentile": f(pct),
        "t_test": {"t": f(tt.statistic), "df": n - 1, "p": f(tt.pvalue)},
        "tost_p": f(max(p_lower, p_upper)),
        "ci90_mean": interval(*st.t.interval(0.90, n - 1, loc=m, scale=se)),
        "ci95_mean": interval(*st.t.interval(0.95, n - 1, loc=m, scale=se)),
        "expected_max_1": f(expected_max(x, 1)),
        "expected_max_3": f(expected_max(x, 3)),
        "expected_max_5": f(e5),
        "expected_min_5": f(emin5),
        "possible_seed_selection": bool(flag),
        "verdict": verdict,
        "runs_needed": needed,
    }


claims = []
targets = ["reproduced", "not_reproduced", "inconclusive", "insufficient_runs"]
kinds = ["normal", "lognormal", "t2"]
for direction in ["higher", "lower", "equal"]:
    for target in targets:
        for rep in range(3):
            kind = kinds[rep]
            while True:
                n = int(rng.integers(2, 5)) if target == "insufficient_runs" else int(rng.integers(5, 61))
                x = draw(kind, n)
                m, s = np.mean(x), np.std(x, ddof=1)
                se = s / math.sqrt(n)
                default_tol = rng.random() < 0.3
                tol = None if default_tol else float(rng.uniform(0.2, 3.0) * s)
                offset = float(rng.uniform(-6, 6)) * se
                base = m + offset
                # centre the claim so that c -/+ delta lands near the mean for higher/lower
                if direction == "higher":
                    c = base + (tol if tol is not None else 0.02 * abs(base))
                elif direction == "lower":
                    c = base - (tol if tol is not None else 0.02 * abs(base))
                else:
                    c = base + float(rng.choice([-1.0, 1.0])) * (tol if tol is not None else 0.0)
                claim = {"metric": "score", "dataset": f"d{rep}", "value": float(c), "direction": direction,
                         "tolerance": tol}
                exp = claim_expected(x, claim, 5)
                if exp["verdict"] != target:
                    continue
                if target == "inconclusive" and exp["runs_needed"] > 5000:
                    continue
                break
            claims.append({"name": f"{direction}-{target}-{kind}", "values": [float(v) for v in x], "claim": claim,
                           "n_min": 5, "expected": exp})


# ---------------------------------------------------------------- variance decomposition
def one_way_expected(groups):
    """Seed groups (replicas as members). F, p: scipy.stats.f_oneway; components: method of moments
    with n0 = (N - sum n_i^2 / N) / (k - 1)."""
    k = len(groups)
    sizes = np.array([len(g) for g in groups])
    N = sizes.sum()
    allv = np.concatenate(groups)
    gm = allv.mean()
    ssb = sum(len(g) * (np.mean(g) - gm) ** 2 for g in groups)
    ssw = sum(((np.asarray(g) - np.mean(g)) ** 2).sum() for g in groups)
    msb = ssb / (k - 1)
    msw = ssw / (N - k) if N > k else None
    n0 = (N - (sizes ** 2).sum() / N) / (k - 1)
    out = {"seeds": k, "runs": int(N), "n0": f(n0), "msb": f(msb), "msw": f(msw)}
    if msw is not None:
        F, p = st.f_oneway(*groups)
        vs = max(0.0, (msb - msw) / n0)
        out.update(f=f(F), p=f(p), var_seed=f(vs), var_repeat=f(msw), icc=f(vs / (vs + msw)),
                   repeatability=f(2.8 * math.sqrt(msw)), reproducibility=f(2.8 * math.sqrt(vs + msw)))
    else:  # no replicas: seed and repeat noise confounded
        out.update(f=None, p=None, var_seed=None, var_repeat=None, icc=None, repeatability=None,
                   reproducibility=f(2.8 * math.sqrt(msb)))
    rep = [np.asarray(g) for g in groups if len(g) >= 2]
    if rep:
        ident = sum(1 for g in rep if np.all(g.view(np.uint64) == g[0:1].view(np.uint64)))
        out["deterministic_share"] = ident / len(rep)
        out["max_replica_difference"] = f(max(np.ptp(g) for g in rep))
    else:
        out["deterministic_share"] = None
        out["max_replica_difference"] = None
    return out


one_way = []
for case, (seeds, reps, unbalanced, deterministic, no_replicas) in enumerate([
    (3, 2, False, 0, False), (5, 3, False, 0, False), (8, 2, False, 3, False), (4, 4, False, 0, False),
    (6, 0, True, 0, False), (10, 0, True, 2, False), (7, 1, False, 0, True), (12, 1, False, 0, True),
    (5, 3, False, 5, False), (20, 2, False, 0, False),
]):
    seed_sd = float(rng.uniform(0.002, 0.02))
    repeat_sd = float(rng.uniform(0.0005, 0.01))
    groups = []
    for s in range(seeds):
        r = int(rng.integers(1, 5)) if unbalanced else reps
        centre = 0.9 + rng.normal(0, seed_sd)
        if s < deterministic:
            groups.append([float(centre)] * max(r, 2))
        else:
            groups.append([float(v) for v in centre + rng.normal(0, repeat_sd, r)])
    one_way.append({"name": f"one-way-{case}", "groups": groups,
                    "expected": one_way_expected([np.asarray(g) for g in groups])})


def anova_expected(groups):
    """Across datasets: scipy.stats.f_oneway; between_share = ICC(1) with n0; eta^2 = SSB/SST."""
    F, p = st.f_oneway(*groups)
    k = len(groups)
    sizes = np.array([len(g) for g in groups])
    N = sizes.sum()
    gm = np.concatenate(groups).mean()
    ssb = sum(len(g) * (np.mean(g) - gm) ** 2 for g in groups)
    ssw = sum(((g - np.mean(g)) ** 2).sum() for g in groups)
    msb, msw = ssb / (k - 1), ssw / (N - k)
    n0 = (N - (sizes ** 2).sum() / N) / (k - 1)
    vb = max(0.0, (msb - msw) / n0)
    return {"groups": k, "n": int(N), "df_between": k - 1, "df_within": int(N - k), "ss_between": f(ssb),
            "ss_within": f(ssw), "ms_between": f(msb), "ms_within": f(msw), "f": f(F), "p": f(p), "n0": f(n0),
            "var_between": f(vb), "var_within": f(msw), "between_share": f(vb / (vb + msw)),
            "eta_squared": f(ssb / (ssb + ssw))}


anova = []
for case in range(8):
    k = int(rng.integers(2, 7))
    spread = float(rng.choice([0.0, 0.002, 0.01, 0.05]))
    groups = [rng.normal(0.8 + rng.normal(0, spread), 0.01, int(rng.integers(2, 30))) for _ in range(k)]
    anova.append({"name": f"anova-{case}", "groups": [[float(v) for v in g] for g in groups],
                  "expected": anova_expected(groups)})


def two_way_expected(Y):
    """Balanced dataset x hardware x seeds, expected mean squares exactly as statistics-worked-example.py."""
    A, B, n = Y.shape
    gm = Y.mean()
    mA = Y.mean((1, 2)); mB = Y.mean((0, 2)); mAB = Y.mean(2)
    SSA = B * n * ((mA - gm) ** 2).sum(); SSB = A * n * ((mB - gm) ** 2).sum()
    SSAB = n * ((mAB - mA[:, None] - mB[None, :] + gm) ** 2).sum(); SSE = ((Y - mAB[:, :, None]) ** 2).sum()
    MSA = SSA / (A - 1); MSB = SSB / (B - 1); MSAB = SSAB / ((A - 1) * (B - 1)); MSE = SSE / (A * B * (n - 1))
    vA = max((MSA - MSAB) / (B * n), 0); vB = max((MSB - MSAB) / (A * n), 0); vAB = max((MSAB - MSE) / n, 0)
    within = vB + vAB + MSE
    return {"datasets": A, "hardware_classes": B, "seeds_per_cell": n, "ms_dataset": f(MSA), "ms_hardware": f(MSB),
            "ms_interaction": f(MSAB), "ms_error": f(MSE), "var_dataset": f(vA), "var_hardware": f(vB),
            "var_interaction": f(vAB), "var_seed": f(MSE), "sd_reproducibility": f(math.sqrt(within)),
            "sd_repeatability": f(math.sqrt(MSE)), "reproducibility": f(2.8 * math.sqrt(within)),
            "repeatability": f(2.8 * math.sqrt(MSE)), "share_hardware": f(vB / within),
            "share_interaction": f(vAB / within), "share_seed": f(MSE / within),
            "f_hardware": f(MSB / MSAB), "p_hardware": f(st.f.sf(MSB / MSAB, B - 1, (A - 1) * (B - 1))),
            "f_interaction": f(MSAB / MSE), "p_interaction": f(st.f.sf(MSAB / MSE, (A - 1) * (B - 1), A * B * (n - 1)))}


two_way = []
for case in range(6):
    A, B, n = int(rng.integers(2, 5)), int(rng.integers(2, 4)), int(rng.integers(2, 6))
    Y = (90 + rng.normal(0, 3, (A, 1, 1)) + rng.normal(0, rng.uniform(0, 0.5), (1, B, 1))
         + rng.normal(0, 0.1, (A, B, 1)) + rng.normal(0, 0.2, (A, B, n)))
    two_way.append({"name": f"two-way-{case}", "values": Y.tolist(), "expected": two_way_expected(Y)})
worked = np.array([[[91.2, 91.0, 91.5], [90.6, 90.9, 90.7], [91.4, 91.1, 91.3]],
                   [[85.0, 85.4, 85.1], [84.6, 84.5, 84.9], [85.3, 85.2, 85.6]]])
two_way.append({"name": "two-way-worked-example", "values": worked.tolist(), "expected": two_way_expected(worked)})


# ---------------------------------------------------------------- Wilson / score
wilson = []
for k_, n_ in [(0, 1), (0, 10), (1, 1), (3, 3), (7, 9), (9, 9), (27, 30), (8, 10), (80, 100), (1, 50), (499, 1000)]:
    ci = st.binomtest(k_, n_).proportion_ci(0.95, method="wilson")
    wilson.append({"successes": k_, "trials": n_, "z": Z95, "lower": f(ci.low), "upper": f(ci.high),
                   "reference": "scipy.stats.binomtest(k, n).proportion_ci(0.95, 'wilson')"})
for k_, n_, z in [(8, 10, 1.96), (8, 10, float(st.norm.ppf(0.95))), (2, 2, 1.96), (100, 101, 1.96), (13, 17, 2.5758)]:
    ph = k_ / n_
    low = (ph + z * z / (2 * n_) - z * math.sqrt((ph * (1 - ph) + z * z / (4 * n_)) / n_)) / (1 + z * z / n_)
    wilson.append({"successes": k_, "trials": n_, "z": z, "lower": f(low), "upper": None,
                   "reference": "closed form (statistics-worked-example.py wilson_lb)"})


# ---------------------------------------------------------------- special functions
special = {
    "log_gamma": [{"x": x, "value": float(sp.gammaln(x))}
                  for x in [1e-8, 0.01, 0.5, 1.5, 2.5, 3.7, 7.25, 9.99, 10.0, 12.5, 50.5, 171.3, 1e4 + 0.5, 5e4, 1e6]],
    "incomplete_beta": [{"x": x, "a": a, "b": b, "value": float(sp.betainc(a, b, x))}
                        for (x, a, b) in [(0.3, 2, 3), (0.9, 0.5, 0.5), (0.001, 3.5, 0.5), (0.999, 3.5, 0.5),
                                          (0.5, 100, 100), (0.2, 1, 1), (0.7, 50000, 0.5), (0.99996, 49999.5, 0.5),
                                          (0.6, 2.5, 40), (0.05, 0.5, 10)]],
    "student_t": [{"df": df, "t": t, "cdf": float(st.t.cdf(t, df)), "sf": float(st.t.sf(t, df))}
                  for df in [1, 2, 3, 4, 7, 10, 29, 99, 999, 99999] for t in [-40.0, -3.1, -0.4, 0.0, 0.7, 2.2, 12.0]],
    "student_t_quantile": [{"df": df, "p": p, "value": float(st.t.ppf(p, df))}
                           for df in [1, 2, 3, 4, 5, 7, 9, 14, 30, 100, 1000, 99999]
                           for p in [1e-12, 0.001, 0.025, 0.05, 0.3, 0.6, 0.9, 0.95, 0.975, 0.995, 0.999999]],
    "f_sf": [{"d1": d1, "d2": d2, "f": x, "value": float(st.f.sf(x, d1, d2))}
             for (d1, d2, x) in [(2, 9, 101.6), (1, 2, 46.36), (2, 2, 0.3472), (2, 12, 0.3472), (4, 95, 3.1),
                                 (9, 40, 1.2), (1, 1, 0.5), (29, 99970, 1.5), (3, 20, 1e-3), (5, 5, 250.0)]],
    "normal_quantile": [{"p": p, "value": float(sp.ndtri(p))}
                        for p in [1e-300, 1e-20, 1e-6, 0.001, 0.02425, 0.025, 0.05, 0.3, 0.5, 0.75, 0.975, 0.999999]],
}

out = {
    "generator": "Tests/ReproStatsTests/Fixtures/generate.py",
    "seed": SEED,
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "python": platform.python_version(),
    "tolerances": {
        "closed_form_relative": 1e-9,
        "closed_form_absolute": 1e-14,
        "bootstrap": "per case: bootstrap_tolerance = 7 x Monte-Carlo sd of scipy's BCa bound over 20 rng seeds",
    },
    "special": special,
    "summaries": summaries,
    "claims": claims,
    "one_way": one_way,
    "anova": anova,
    "two_way": two_way,
    "wilson": wilson,
}
path = pathlib.Path(__file__).with_name("reference.json")
path.write_text(json.dumps(out, indent=1, allow_nan=False) + "\n")
print(f"wrote {path}: {len(summaries)} summaries, {len(claims)} claims, {len(one_way)} one-way, "
      f"{len(anova)} anova, {len(two_way)} two-way, {len(wilson)} wilson")
