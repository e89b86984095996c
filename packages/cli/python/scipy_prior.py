"""SciPy L-BFGS-B baseline for the GLA prior estimator (gla speed).

Solves  min_b  mean_i [ logsumexp(z_i / T - b) - (z_{i,y_i} / T - b_{y_i}) ]  (+ lambda/2 ||b - mean b||^2)
on the same .npy files as the TypeScript solver and prints one JSON line:
{"seconds", "objective", "gradient_norm", "iterations", "evaluations", "converged"}.
Usage: python3 scipy_prior.py Z.npy Y.npy T LAMBDA TOL
"""
import json
import sys
import time

import numpy as np
from scipy.optimize import minimize


def main():
    z_path, y_path, t, lam, tol = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    z = np.load(z_path).astype(np.float64) / t
    y = np.load(y_path).astype(np.int64)
    n, c = z.shape
    counts = np.bincount(y, minlength=c).astype(np.float64)
    pi_hat = counts / n
    label_logit_mean = z[np.arange(n), y].mean()
    zmax = z.max(axis=1, keepdims=True)
    ez = np.exp(z - zmax)  # cached once: exp(z - b) = ez * exp(-b)
    del z
    evaluations = [0]

    def fun(b):
        evaluations[0] += 1
        w = np.exp(-(b - b.max()))
        s = ez @ w  # row sums of exp(z - b - max)
        lse = np.log(s) + zmax[:, 0] - b.max()
        obj = lse.mean() - label_logit_mean + pi_hat @ b
        p_mean = w * (ez.T @ (1.0 / s)) / n
        grad = -p_mean + pi_hat
        if lam > 0:
            d = b - b.mean()
            obj += 0.5 * lam * d @ d
            grad = grad + lam * d
        return obj, grad

    start = time.perf_counter()
    res = minimize(fun, np.zeros(c), jac=True, method="L-BFGS-B", options={"gtol": tol, "ftol": 0.0, "maxiter": 10000, "maxcor": 10})
    seconds = time.perf_counter() - start
    obj, grad = fun(res.x)
    print(json.dumps({"seconds": seconds, "objective": float(obj), "gradient_norm": float(np.abs(grad).max()), "iterations": int(res.nit), "evaluations": evaluations[0] - 1, "converged": bool(res.success), "message": str(res.message)}))


if __name__ == "__main__":
    main()
