"""scikit-learn baseline for the linear probe (gla speed).

Fits LogisticRegression(solver='lbfgs') (multinomial) on the same features and prints one JSON
line {"seconds", "accuracy", "iterations", "objective"}. The regularisation C is passed in by the
caller so that sklearn's objective  1/2 ||W||^2 + C * sum_i CE_i  is proportional to core's.
Usage: python3 sklearn_probe.py Xtrain.npy ytrain.npy Xtest.npy ytest.npy C TOL MAX_ITER OUT_LOGITS.npy
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression


def main():
    xtr, ytr, xte, yte = (np.load(p) for p in sys.argv[1:5])
    c_value, tol, max_iter, out = float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
    xtr = xtr.astype(np.float64)
    xte = xte.astype(np.float64)
    clf = LogisticRegression(C=c_value, solver="lbfgs", tol=tol, max_iter=max_iter)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(xtr, ytr.astype(np.int64))
    seconds = time.perf_counter() - start
    logits = xte @ clf.coef_.T + clf.intercept_
    np.save(out, logits)
    acc = float((clf.classes_[logits.argmax(axis=1)] == yte).mean())
    # objective in core's units: mean CE + l2/2 ||W||^2 with l2 = 1 / (C N)
    ztr = xtr @ clf.coef_.T + clf.intercept_
    zmax = ztr.max(axis=1, keepdims=True)
    lse = np.log(np.exp(ztr - zmax).sum(axis=1)) + zmax[:, 0]
    ce = (lse - ztr[np.arange(len(ytr)), ytr.astype(np.int64)]).mean()
    l2 = 1.0 / (c_value * len(ytr))
    print(json.dumps({"seconds": seconds, "accuracy": acc, "iterations": int(np.max(clf.n_iter_)), "objective": float(ce + 0.5 * l2 * (clf.coef_ ** 2).sum())}))


if __name__ == "__main__":
    main()
