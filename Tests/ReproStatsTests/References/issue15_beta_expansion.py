#!/usr/bin/env python3
"""Second-order expansion behind LogitSkewCorrection (docs/statistics.md §2a), derived with sympy.

Run:  python3 Tests/ReproStatsTests/References/issue15_beta_expansion.py [--simulate]
(sympy 1.14; --simulate also needs numpy). Prints the coefficients and the values of v2 that
LogitIntervalTests.swift embeds. Nothing random unless --simulate.

Setting. n values with mean mu, sd sigma (in units of the range [0, 1]), standardized skewness gamma;
xbar and s their sample mean and sd (ddof = 1). The statistic is T = (h(xbar) - h(mu)) / (h'(xbar) s / sqrt(n)),
h = logit, and the report compares g(T) = T + a T^2 + a^2 T^3 / 3 + b (Hall 1992) with Student's t, where
a = A / sqrt(n), b = B / sqrt(n), A = gamma_hat/3 + kappa_hat/2, B = gamma_hat/6, evaluated at (xbar, s):
gamma_hat = 2(1 - 2u) s / (u(1 - u) + s^2) (the beta distribution's skewness for mean u = xbar and sd s) and
kappa_hat = s h''(u)/h'(u) = s (2u - 1)/(u(1 - u)).

With eps = n^(-1/2), Z1 = sqrt(n)(xbar - mu)/sigma and Z2 = sqrt(n)(m2/sigma^2 - 1) (m2 the mean squared deviation
from mu), xbar = mu + sigma eps Z1 and s^2 = sigma^2 (1 + eps Z2 - eps^2 Z1^2)/(1 - eps^2). g(T) is expanded to
eps^2 and its moments taken with the cumulants of (y, y^2 - 1), y = (x - mu)/sigma: E Z_i Z_j = Sigma_ij,
E Z_i Z_j Z_k = eps kappa_ijk, and so on. Results:

  E g(T)   = eps (A0 + B0 - kappa/2 - gamma/2) + O(eps^3)   -> 0 for A0 = gamma/3 + kappa/2, B0 = gamma/6
  Var g(T) = 1 + eps^2 v2 + O(eps^4)

v2 involves only gamma (not the kurtosis), the logit's curvature and the derivatives of the plug-ins; with
gamma that of the beta, v2 is a function of w = u(1 - u) and rho = sigma^2 / w, printed below in closed form.
"""
import sys
from functools import lru_cache

import sympy as sp
from sympy.utilities.iterables import multiset_partitions

eps, Z1, Z2 = sp.symbols("epsilon Z1 Z2")
# kappa (= cs), the logit's third-derivative term es2 = sigma^2 h'''/h', the plug-ins' values and their
# derivatives scaled by sigma (Au = sigma dA/du, As = sigma dA/dsigma, ...).
cs, es2, A0, B0, Au, As, Bu, Bs = sp.symbols("kappa es2 A0 B0 Au As Bu Bs")
g, b4, m5, m6 = sp.symbols("gamma beta4 m5 m6")


def truncate(expr, order):
    expr = sp.expand(expr)
    return sum(expr.coeff(eps, k) * eps**k for k in range(order + 1))


def expansion():
    """g(T) up to eps^2 as a polynomial in Z1, Z2."""
    r = 1 + eps * Z2 / 2 + eps**2 * (sp.Rational(1, 2) - Z1**2 / 2 - Z2**2 / 8)  # s / sigma
    r_inverse = truncate(sp.series(1 / r, eps, 0, 3).removeO(), 2)
    # (h(xbar) - h(mu)) / (eps h'(xbar) sigma) = Z1 (1 - kappa eps Z1 / 2 + eps^2 Z1^2 (kappa^2/2 - es2/3))
    t = truncate(Z1 * r_inverse * (1 - cs * eps * Z1 / 2 + eps**2 * Z1**2 * (cs**2 / 2 - es2 / 3)), 2)
    a = A0 + eps * (Au * Z1 + As * Z2 / 2)  # s - sigma = sigma eps Z2 / 2 + ...
    b = B0 + eps * (Bu * Z1 + Bs * Z2 / 2)
    return truncate(t + eps * a * t**2 + eps**2 * A0**2 * t**3 / 3 + eps * b, 2)


def cumulant(indices):
    key = tuple(sorted(indices))
    second = {(1, 1): 1, (1, 2): g, (2, 2): b4 - 1}
    third = {(1, 1, 1): g, (1, 1, 2): b4 - 1, (1, 2, 2): m5 - 2 * g, (2, 2, 2): m6 - 3 * b4 + 2}
    return {2: second, 3: third}[len(key)][key]


@lru_cache(None)
def moment(i, j, order):
    """E[Z1^i Z2^j] to eps^order: a block of k indices of a set partition carries eps^(k - 2) kappa_k."""
    labels = [1] * i + [2] * j
    if not labels:
        return sp.Integer(1)
    total = 0
    for partition in multiset_partitions(list(range(len(labels)))):
        power = sum(len(block) - 2 for block in partition)
        if any(len(block) == 1 for block in partition) or power > order:
            continue
        term = eps**power
        for block in partition:
            term *= cumulant([labels[k] for k in block])
        total += term
    return sp.expand(total)


def expectation(expr, order):
    expr = sp.expand(expr)
    out = 0
    for k in range(order + 1):
        part = expr.coeff(eps, k)
        if part != 0:
            for (i, j), c in sp.Poly(part, Z1, Z2).terms():
                out += eps**k * c * moment(i, j, order - k)
    return truncate(out, order)


def derived():
    s = expansion()
    mean = expectation(s, 2)
    variance = truncate(expectation(truncate(s * s, 2), 2) - mean**2, 2)
    return mean, variance


u, sd = sp.symbols("u sigma", positive=True)
w_, rho_ = sp.symbols("w rho", positive=True)


def beta_plugins():
    w = u * (1 - u)
    d = 1 - 2 * u
    gamma_hat = 2 * d * sd / (w + sd**2)
    kappa_hat = -d * sd / w
    A = gamma_hat / 3 + kappa_hat / 2
    B = gamma_hat / 6
    h = sp.log(u / (1 - u))
    h1 = sp.diff(h, u)
    return {
        A0: A, B0: B, g: gamma_hat,
        Au: sd * sp.diff(A, u), As: sd * sp.diff(A, sd), Bu: sd * sp.diff(B, u), Bs: sd * sp.diff(B, sd),
        cs: sd * sp.diff(h, u, 2) / h1, es2: sd**2 * sp.diff(h, u, 3) / h1,
    }


def v2_closed_form(v2):
    """v2 - 2 in terms of w = u(1 - u) and rho = sigma^2 / w (the expression is symmetric in u <-> 1 - u)."""
    numerator, denominator = sp.fraction(sp.together(sp.simplify(v2 - 2)))

    def reduce(expr):
        poly = sp.Poly(sp.expand(expr.subs(sd, sp.sqrt(rho_ * w_))), u)
        return sp.expand(sp.rem(poly, sp.Poly(u**2 - u + w_, u)).as_expr())

    return sp.factor(sp.simplify(reduce(numerator) / reduce(denominator)))


if __name__ == "__main__":
    mean, variance = derived()
    print("E g(T), eps^1 coefficient:", sp.simplify(mean.coeff(eps, 1)))
    print("Var g(T), eps^0, eps^1:", sp.simplify(variance.coeff(eps, 0)), sp.simplify(variance.coeff(eps, 1)))
    v2_general = sp.collect(sp.expand(variance.coeff(eps, 2)), [A0, Au, As, Bu, Bs])
    print("v2 =", v2_general)
    plugins = beta_plugins()
    print("with the beta plug-ins, E g(T) eps^1 =", sp.simplify(mean.coeff(eps, 1).subs(plugins)))
    v2 = sp.simplify(v2_general.subs(plugins))
    print("v2 - 2 =", v2_closed_form(v2))
    # Points embedded in LogitIntervalTests.swift (exact rational arithmetic, printed to 17 digits).
    for uu, ss in [("0.94", "0.05"), ("0.95", "0.05"), ("0.5", "0.05"), ("0.06", "0.05"), ("0.99", "0.01"),
                   ("0.9", "0.1"), ("0.975", "0.02"), ("0.3", "0.2")]:
        value = v2.subs({u: sp.Rational(uu), sd: sp.Rational(ss)})
        print(f"v2(u={uu}, sigma={ss}) = {sp.N(value, 17)}")
    if "--simulate" in sys.argv:
        # Monte-Carlo check of the expansion: n Var g(T) - n for beta values with u = 0.94, sigma = 0.05,
        # against v2 - 2 + ... (Var of t with n - 1 df is 1 + 2/n + O(1/n^2)).
        import numpy as np
        from scipy import special
        f = sp.lambdify((u, sd), v2)
        mu, sigma = 0.94, 0.05
        total = mu * (1 - mu) / sigma**2 - 1
        rng = np.random.default_rng(15)
        for n in (10, 20, 50):
            x = rng.beta(mu * total, (1 - mu) * total, size=(400_000, n))
            m, s = x.mean(1), x.std(1, ddof=1)
            t = (special.logit(m) - special.logit(mu)) / (s / np.sqrt(n) / (m * (1 - m)))
            wm = m * (1 - m)
            gam = 2 * (1 - 2 * m) * s / (wm + s * s)
            a = (gam / 3 + (2 * m - 1) * s / wm / 2) / np.sqrt(n)
            b = gam / 6 / np.sqrt(n)
            gt = t + a * t**2 + a * a * t**3 / 3 + b
            print(f"n = {n}: simulated n (Var g(T) - 1) = {n * (gt.var() - 1):.3f}, expansion v2 = {f(mu, sigma):.3f}")
