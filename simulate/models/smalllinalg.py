"""Small linear algebra that gives the same bits on every CPU and BLAS kernel.

The fits multiply a few-column design matrix by a vector, factor 2 x 2 to 10 x 10 Hessians and
covariances, and sum a few thousand squared innovations. Through ``@`` and ``numpy.linalg``
those calls go to OpenBLAS and LAPACK, which pick a kernel per CPU (``OPENBLAS_CORETYPE``:
Haswell, SkylakeX, Zen, ...); kernels accumulate in different orders and with or without fused
multiply-adds, so the same fit gave estimates that differed by 1e-5 relative, and standard
errors that were shown under one kernel and not under another. Nothing here calls BLAS:

* element-wise NumPy operations are correctly rounded and never fused, on any CPU;
* a sum is either :func:`math.fsum`, correctly rounded whatever the order of its terms
  (:func:`dot`, the factorisations), or, where speed matters (:func:`sum_of_squares` in the
  likelihood's inner loop, :func:`rmatvec` in the gradients), a NumPy reduction whose order is
  fixed by NumPy's code and not by the CPU: pairwise along a contiguous array, or row after
  row down the columns of a matrix. SIMD runs the independent partial sums side by side but
  never reorders one;
* products with a design matrix are built column by column, in a fixed order;
* factorisations of small matrices are plain Python loops over floats.

They are meant for matrices of at most a few dozen columns. ``benchmarks/cross_kernel.py``
measures the result: every fit bit-identical under the Haswell, SkylakeX and Zen kernels and
with NumPy's SIMD dispatch on or off.

>>> import numpy as np
>>> a = np.array([[4.0, 2.0], [2.0, 3.0]])
>>> L = cholesky(a)
>>> bool(np.allclose(L @ L.T, a)), bool(np.allclose(inverse_spd(a) @ a, np.eye(2)))
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "dot",
    "sum_of_squares",
    "matvec",
    "rmatvec",
    "weighted_gram",
    "matmul",
    "cholesky",
    "inverse_spd",
    "solve_spd",
    "psd_root",
]


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``sum(a * b)``, correctly rounded (the same whatever the order of the terms)."""
    return math.fsum(np.multiply(a, b).tolist())


def sum_of_squares(a: np.ndarray) -> float:
    """``sum(a ** 2)`` of a 1-d array, summed pairwise in NumPy's fixed order."""
    return float(np.add.reduce(np.multiply(a, a)))


def matvec(X: np.ndarray, v: np.ndarray | Sequence[float]) -> np.ndarray:
    """``X @ v`` for a tall matrix with few columns, accumulated column by column."""
    coef = [float(c) for c in v]
    out = X[:, 0] * coef[0]
    for j in range(1, len(coef)):
        out = out + X[:, j] * coef[j]
    return np.asarray(out, dtype=np.float64)


def rmatvec(X: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``X.T @ g`` for a tall matrix: each column's products summed row after row."""
    prod = np.multiply(np.ascontiguousarray(X), g[:, None])
    return np.asarray(np.add.reduce(prod, axis=0), dtype=np.float64)


def weighted_gram(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``X.T @ diag(w) @ X`` for a tall matrix with few columns (symmetric by construction)."""
    p = X.shape[1]
    xw = np.multiply(X.T, w[None, :])
    out = np.empty((p, p))
    for i in range(p):
        prod = np.multiply(xw[i : i + 1], X.T[i:]).tolist()
        for j, row in enumerate(prod, start=i):
            out[i, j] = out[j, i] = math.fsum(row)
    return out


def matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A @ B`` for small matrices, every entry a correctly rounded sum."""
    a = np.asarray(A, dtype=np.float64).tolist()
    bt = np.asarray(B, dtype=np.float64).T.tolist()
    return np.array(
        [[math.fsum(x * y for x, y in zip(row, col, strict=True)) for col in bt] for row in a],
        dtype=np.float64,
    ).reshape(len(a), len(bt))


def cholesky(A: np.ndarray) -> np.ndarray | None:
    """Lower Cholesky factor of a small symmetric matrix, or None if it is not positive definite
    (a pivot that is not positive, or not finite)."""
    a = np.asarray(A, dtype=np.float64).tolist()
    n = len(a)
    L = [[0.0] * n for _ in range(n)]
    for j in range(n):
        d = a[j][j] - math.fsum(L[j][k] * L[j][k] for k in range(j))
        if not d > 0.0 or not math.isfinite(d):
            return None
        ljj = math.sqrt(d)
        L[j][j] = ljj
        for i in range(j + 1, n):
            L[i][j] = (a[i][j] - math.fsum(L[i][k] * L[j][k] for k in range(j))) / ljj
    return np.array(L, dtype=np.float64).reshape(n, n)


def _forward(L: list[list[float]], b: list[float]) -> list[float]:
    y: list[float] = []
    for i, row in enumerate(L):
        y.append((b[i] - math.fsum(row[k] * y[k] for k in range(i))) / row[i])
    return y


def _backward(L: list[list[float]], y: list[float]) -> list[float]:
    n = len(L)
    x = [0.0] * n
    for i in range(n - 1, -1, -1):
        x[i] = (y[i] - math.fsum(L[k][i] * x[k] for k in range(i + 1, n))) / L[i][i]
    return x


def solve_spd(L: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``A x = b`` given the Cholesky factor `L` of ``A`` (from :func:`cholesky`)."""
    rows = np.asarray(L, dtype=np.float64).tolist()
    return np.array(_backward(rows, _forward(rows, np.asarray(b, dtype=np.float64).tolist())))


def inverse_spd(A: np.ndarray) -> np.ndarray | None:
    """Inverse of a small symmetric positive definite matrix (None if it is not one)."""
    L = cholesky(A)
    if L is None:
        return None
    n = L.shape[0]
    rows = L.tolist()
    cols = [_backward(rows, _forward(rows, [float(i == j) for i in range(n)])) for j in range(n)]
    inv = np.array(cols, dtype=np.float64).reshape(n, n).T
    return np.asarray(0.5 * (inv + inv.T), dtype=np.float64)


def psd_root(C: np.ndarray, *, rtol: float = 1e-12) -> np.ndarray:
    """A lower-triangular ``R`` with ``R @ R.T == C`` for a symmetric positive semi-definite `C`.

    A Cholesky factorisation that tolerates singular matrices: a pivot at or below `rtol`
    times the largest diagonal entry (a direction with no variance, e.g. a parameter held
    fixed, or a linear combination that is known exactly) gives a zero column. Used to draw
    parameter vectors from their normal distribution; the draws depend on `C` alone, not on
    a kernel's choice of eigenvector signs.
    """
    a = np.asarray(C, dtype=np.float64)
    a = 0.5 * (a + a.T)
    rows = a.tolist()
    n = len(rows)
    scale = max([rows[i][i] for i in range(n)] + [0.0])
    L = [[0.0] * n for _ in range(n)]
    for j in range(n):
        d = rows[j][j] - math.fsum(L[j][k] * L[j][k] for k in range(j))
        if not d > rtol * scale:
            continue  # no variance left in this direction: a zero column
        ljj = math.sqrt(d)
        L[j][j] = ljj
        for i in range(j + 1, n):
            L[i][j] = (rows[i][j] - math.fsum(L[i][k] * L[j][k] for k in range(j))) / ljj
    return np.array(L, dtype=np.float64).reshape(n, n)
