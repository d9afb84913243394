#!/usr/bin/env python3
"""ROAD on a 4x4 image, from the definition (Rong et al. 2022), exact in rational numbers: the expected values of
RoadTests. Independent of the C# code: dense equations, Gauss-Jordan elimination, no noise.

Image (one channel): v(y, x) = y * 4 + x. Map: s(y, x) = (5 * (y * 4 + x)) % 16 (a permutation of 0..15).
Score: the mean of the top-left 2x2 block. Removal counts: round(f * 16) for f = 0.1 .. 0.9.
Run: python3 road_reference.py
"""
from fractions import Fraction as F

H = W = 4
NEIGHBOURS = [(-1, -1, F(1, 12)), (-1, 0, F(1, 6)), (-1, 1, F(1, 12)), (0, -1, F(1, 6)),
              (0, 1, F(1, 6)), (1, -1, F(1, 12)), (1, 0, F(1, 6)), (1, 1, F(1, 12))]
value = [F(p) for p in range(16)]
saliency = [(5 * p) % 16 for p in range(16)]


def impute(removed):
    unknown = [p for p in range(16) if removed[p]]
    index = {p: i for i, p in enumerate(unknown)}
    n = len(unknown)
    # each removed pixel = weighted mean of its in-image neighbours (removed ones as unknowns)
    rows = []
    for p in unknown:
        y, x = divmod(p, W)
        row = [F(0)] * (n + 1)
        for dy, dx, wt in NEIGHBOURS:
            ny, nx = y + dy, x + dx
            if 0 <= ny < H and 0 <= nx < W:
                q = ny * W + nx
                row[index[p]] += wt
                if q in index:
                    row[index[q]] -= wt
                else:
                    row[n] += wt * value[q]
        rows.append(row)
    for col in range(n):  # Gauss-Jordan
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col])]
    out = list(value)
    for i, p in enumerate(unknown):
        out[p] = rows[i][n] / rows[i][i]
    return out


def score(img):
    return (img[0] + img[1] + img[4] + img[5]) / 4


order = sorted(range(16), key=lambda p: -saliency[p])  # most relevant first (no ties here)
original = score(value)
morf, lerf = [], []
for f in range(1, 10):
    k = int(F(f * 16, 10) + F(1, 2))  # round half up
    morf.append(score(impute([p in order[:k] for p in range(16)])))
    lerf.append(score(impute([p in order[16 - k:] for p in range(16)])))
print("original", float(original))
print("morf", [round(float(v), 10) for v in morf])
print("lerf", [round(float(v), 10) for v in lerf])
m = sum(morf) / 9 - original
l = sum(lerf) / 9 - original
print("morf mean change", round(float(m), 10), "lerf mean change", round(float(l), 10), "combined", round(float((l - m) / 2), 10))
