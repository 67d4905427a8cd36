"""Training, evaluation and export helpers shared by the digits and signs
models. Images stay uint8 until a batch is drawn, and are turned into model
input exactly as advlab does it: x = byte / 255, then (x - mean) / std per
channel (input_range is [0, 1] for every zoo model).
"""

import json
import os
import re
import time

import numpy as np
import torch
import torch.nn.functional as F


def to_pixels(x):
    """uint8 images, [N, H, W] (grey) or [N, H, W, C], to a float32 NCHW
    tensor of [0, 1] pixels."""
    t = torch.from_numpy(np.ascontiguousarray(x))
    t = t.unsqueeze(1) if t.dim() == 3 else t.permute(0, 3, 1, 2)
    return t.float().div_(255)


def normalise(t, mean, std):
    """(t - mean) / std per channel of an NCHW tensor of [0, 1] pixels."""
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (t - m) / s


def to_input(x, mean, std):
    """uint8 images, [N, H, W] (grey) or [N, H, W, C], to a normalised float32
    NCHW tensor."""
    return normalise(to_pixels(x), mean, std)


@torch.no_grad()
def predict(model, x, mean, std, batch=500):
    """Predicted class indices of uint8 images x."""
    model.eval()
    out = [model(to_input(x[i:i + batch], mean, std)).argmax(1) for i in range(0, len(x), batch)]
    return torch.cat(out).numpy()


def accuracy(model, x, y, mean, std):
    return float((predict(model, x, mean, std) == y).mean())


def l2_penalty(model, lambdas):
    """Szegedy et al.'s weight decay: sum over the weight matrices of
    lambda_k / 2 * ||W_k||^2 (biases are not decayed)."""
    weights = [p for n, p in model.named_parameters() if n.endswith("weight") and p.requires_grad]
    if len(weights) != len(lambdas):
        raise ValueError(f"{len(lambdas)} weight decays for {len(weights)} weight matrices")
    return sum(lam / 2 * (w ** 2).sum() for lam, w in zip(lambdas, weights) if lam)


def fit(model, x, y, *, mean, std, epochs, batch, optimizer, max_lr, seed, l2=None, log=print, name=""):
    """Trains model on uint8 images x with labels y by cross-entropy (plus an
    optional explicit L2 penalty) under a one-cycle learning-rate schedule.
    The batch order comes from a torch.Generator seeded with seed."""
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=steps, pct_start=0.25)
    gen = torch.Generator().manual_seed(seed)
    yt = torch.from_numpy(y.astype(np.int64))
    for ep in range(epochs):
        t0 = time.time()
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total, correct = 0.0, 0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            xb = to_input(x[idx.numpy()], mean, std)
            out = model(xb)
            loss = F.cross_entropy(out, yt[idx])
            if l2 is not None:
                loss = loss + l2_penalty(model, l2)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sched.step()
            total += loss.item() * len(idx)
            correct += int((out.argmax(1) == yt[idx]).sum())
        log(f"  {name} epoch {ep + 1}/{epochs}: loss {total / len(x):.4f}, running train accuracy {correct / len(x):.4f} ({time.time() - t0:.0f} s)")


def export_onnx(model, path, input_shape):
    """Exports model in eval mode as advlab expects: opset 17, float32 NCHW
    input "input" and logits "logits" with a dynamic batch dimension. Returns
    the sorted list of operator types in the graph."""
    import onnx

    model.eval()
    dummy = torch.zeros(1, *input_shape)
    torch.onnx.export(
        model, dummy, path,
        opset_version=17,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        do_constant_folding=True,
    )
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return sorted({n.op_type for n in m.graph.node})


def write_json(path, obj):
    """Writes obj as indented JSON, with lists of numbers kept on one line."""
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    text = re.sub(r"\[\s+([-+0-9.eE,\s]+?)\s+\]", lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def file_size(path):
    return os.path.getsize(path)
