"""The zoo's architectures, in plain PyTorch modules that export to standard
ONNX operators (Flatten, Gemm, Sigmoid, Relu, Conv, MaxPool, Clip for ReLU6,
Add, GlobalAveragePool). Every model ends in raw logits: no softmax.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Linear(nn.Linear):
    """nn.Linear that trains through a 1x1 convolution. Debian's torch uses
    the reference BLAS, whose matrix products run about eight times slower
    than oneDNN's convolutions on the same numbers; the ONNX export still
    sees a plain Linear and writes Gemm."""

    def forward(self, x):
        if torch.onnx.is_in_onnx_export():
            return F.linear(x, self.weight, self.bias)
        return F.conv2d(x[:, :, None, None], self.weight[:, :, None, None], self.bias).flatten(1)


# ---------------------------------------------------------------------------
# Digits: the MNIST networks of Szegedy et al. (2013), Table 1, plus a CNN.
# Inputs are [N, 1, 28, 28]; the fully connected nets flatten inside the graph.


def fc_net(hidden):
    """FC10 (hidden=()), FC100-100-10 and FC200-200-10: fully connected with
    sigmoid hidden units, as Szegedy et al.'s "sigmoid networks"."""
    layers, n = [nn.Flatten()], 28 * 28
    for h in hidden:
        layers += [Linear(n, h), nn.Sigmoid()]
        n = h
    layers.append(Linear(n, 10))
    return nn.Sequential(*layers)


class AutoEncoder400(nn.Module):
    """AE400-10's first stage: a (sparse) autoencoder of 400 sigmoid units
    that reconstructs the input through a sigmoid decoder. Only the encoder
    ships."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), Linear(28 * 28, 400), nn.Sigmoid())
        self.decoder = nn.Sequential(Linear(400, 28 * 28), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


def ae400_classifier(autoencoder):
    """AE400-10 as one classifier: the trained encoder, then a softmax layer on its code."""
    return nn.Sequential(*autoencoder.encoder, Linear(400, 10))


def digits_cnn():
    """A small LeNet-style CNN: two 5x5 conv layers with max pooling, then two
    fully connected layers."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), Linear(32 * 7 * 7, 100), nn.ReLU(), Linear(100, 10),
    )


# ---------------------------------------------------------------------------
# Signs: [N, 3, 64, 64] normalised input, 16 classes.


class BasicBlock(nn.Module):
    """A ResNet basic block (He et al. 2016): two 3x3 convs and an identity
    shortcut, or a strided 1x1 conv shortcut where the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + self.shortcut(x))


def resnet8(classes, width=16):
    """ResNet-8: a strided 3x3 stem, three basic blocks (width, 2w, 4w channels
    at 32, 16 and 8 pixels), global average pooling and a linear layer; 8
    weight layers on the main path."""
    w = width
    return nn.Sequential(
        nn.Conv2d(3, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
        BasicBlock(w, w, 1), BasicBlock(w, 2 * w, 2), BasicBlock(2 * w, 4 * w, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), Linear(4 * w, classes),
    )


def _separable(cin, cout, stride):
    """A MobileNet depthwise separable conv: 3x3 depthwise, then 1x1 pointwise,
    each with batch norm and ReLU6."""
    return [
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU6(),
        nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6(),
    ]


def mobilenet(classes):
    """A small MobileNet (v1, Howard et al. 2017): a strided 3x3 stem and five
    depthwise separable blocks (32 px to 8 px, 16 to 128 channels), global
    average pooling and a linear layer."""
    layers = [nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6()]
    layers += _separable(16, 32, 1) + _separable(32, 64, 2) + _separable(64, 64, 1)
    layers += _separable(64, 128, 2) + _separable(128, 128, 1)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), Linear(128, classes))


def _conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def vgg(classes):
    """A plain VGG-style net (Simonyan & Zisserman 2015, with batch norm): 3x3
    convs and 2x2 max pooling, 64 to 4 pixels, then two fully connected layers."""
    layers = _conv_bn_relu(3, 16) + [nn.MaxPool2d(2)]
    layers += _conv_bn_relu(16, 32) + [nn.MaxPool2d(2)]
    layers += _conv_bn_relu(32, 64) + [nn.MaxPool2d(2)]
    layers += _conv_bn_relu(64, 64) + [nn.MaxPool2d(2)]
    return nn.Sequential(*layers, nn.Flatten(), Linear(64 * 4 * 4, 128), nn.ReLU(), Linear(128, classes))


def count_parameters(model):
    """The number of trainable parameters (batch-norm running statistics excluded)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

