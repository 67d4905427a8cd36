"""PGD adversarial training (Madry et al. 2018, "Towards Deep Learning Models
Resistant to Adversarial Attacks") for the zoo's robust models, and the
PGD-20 robust accuracy their sidecars report.

The threat model is L-infinity in [0, 1] pixel space, the space advlab's
attacks measure epsilon in: the attack perturbs byte / 255 and the model's
mean/std normalisation is applied after it, so a sign model's
(x - 0.5) / 0.25 does not scale epsilon.
"""

import time

import numpy as np
import torch
import torch.nn.functional as F

import train


def pgd(model, x, y, *, mean, std, eps, steps, step_size, gen):
    """Untargeted L-infinity PGD with a uniform random start in the eps-box:
    steps ascents of the cross-entropy along the gradient's sign, each
    projected back onto the box around x and onto [0, 1]. x holds [0, 1]
    pixels (NCHW); the model sees them normalised. The model is attacked in
    eval mode (batch norm on its running statistics) and left in the mode it
    was in."""
    was_training = model.training
    model.eval()
    lo, hi = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
    xa = (x + (torch.rand(x.shape, generator=gen) * 2 - 1) * eps).clamp(0, 1)
    for _ in range(steps):
        xa.requires_grad_(True)
        loss = F.cross_entropy(model(train.normalise(xa, mean, std)), y)
        (g,) = torch.autograd.grad(loss, xa)
        xa = torch.max(torch.min(xa.detach() + step_size * g.sign(), hi), lo)
    model.train(was_training)
    return xa.detach()


def fit(model, x, y, *, mean, std, epochs, batch, optimizer, max_lr, seed, attack, mix, warmup_epochs=0, log=print, name=""):
    """Trains model on PGD adversarial examples of the uint8 images x under a
    one-cycle learning-rate schedule, as train.fit does on clean ones.
    attack holds eps, steps and step_size; each batch is attacked afresh
    from a random start. mix "adversarial" minimises the cross-entropy on the
    adversarial examples alone (Madry et al.'s objective); "half" minimises
    the mean of the clean and the adversarial cross-entropy. With
    warmup_epochs, eps (and the step with it) grows linearly from 0 to its
    value over those first epochs. The batch order and the random starts come
    from torch.Generators seeded with seed."""
    if mix not in ("adversarial", "half"):
        raise ValueError(f"mix {mix!r}: use 'adversarial' or 'half'")
    per_epoch = (len(x) + batch - 1) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=epochs * per_epoch, pct_start=0.25)
    gen = torch.Generator().manual_seed(seed)
    noise = torch.Generator().manual_seed(seed + 1)
    yt = torch.from_numpy(y.astype(np.int64))
    step = 0
    for ep in range(epochs):
        t0 = time.time()
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total, correct = 0.0, 0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            ramp = min(1.0, (step + 1) / (warmup_epochs * per_epoch)) if warmup_epochs else 1.0
            eps, size = attack["eps"] * ramp, attack["step_size"] * ramp
            xb, yb = train.to_pixels(x[idx.numpy()]), yt[idx]
            xa = pgd(model, xb, yb, mean=mean, std=std, eps=eps, steps=attack["steps"], step_size=size, gen=noise)
            out = model(train.normalise(xa, mean, std))
            loss = F.cross_entropy(out, yb)
            if mix == "half":
                loss = (loss + F.cross_entropy(model(train.normalise(xb, mean, std)), yb)) / 2
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sched.step()
            step += 1
            total += loss.item() * len(idx)
            correct += int((out.argmax(1) == yb).sum())
        log(f"  {name} epoch {ep + 1}/{epochs}: loss {total / len(x):.4f}, running adversarial train accuracy "
            f"{correct / len(x):.4f} at eps {eps:.4f} ({time.time() - t0:.0f} s)")


def robust_accuracy(model, x, y, *, mean, std, eps, steps=20, step_size=None, seed=0, batch=500):
    """The fraction of the uint8 images x that model still classifies as y
    after untargeted L-infinity PGD (random start, steps steps of step_size,
    by default 2.5 eps / steps) at eps in [0, 1] pixels. An image the model
    gets wrong clean counts as broken whatever PGD does."""
    step_size = 2.5 * eps / steps if step_size is None else step_size
    gen = torch.Generator().manual_seed(seed)
    yt = torch.from_numpy(y.astype(np.int64))
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        xb, yb = train.to_pixels(x[i:i + batch]), yt[i:i + batch]
        xa = pgd(model, xb, yb, mean=mean, std=std, eps=eps, steps=steps, step_size=step_size, gen=gen)
        with torch.no_grad():
            clean = model(train.normalise(xb, mean, std)).argmax(1) == yb
            adv = model(train.normalise(xa, mean, std)).argmax(1) == yb
        correct += int((clean & adv).sum())
    return correct / len(x)
