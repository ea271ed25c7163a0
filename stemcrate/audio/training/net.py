"""Train the CNN + features network of the one-shot classifier with PyTorch (CPU is enough).

The architecture is described in :mod:`stemcrate.audio.classifier_net`, whose numpy forward
pass is what runs at inference; :func:`export` folds batch norm into the conv weights and
returns the arrays it reads. Training: AdamW with a one-cycle schedule, class-balanced
cross-entropy with label smoothing, an auxiliary "electronic" head (only where known),
Gaussian noise on the standardised features, and on the log-mel patches a random level
offset (±6 dB) and a random band mask (SpecAugment-style). Seeded; torch is imported here
only, so inference never needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import torch

F32 = npt.NDArray[np.float32]
WIDTH = 16
EMBED = 128
FEAT_HIDDEN = 192
_CH = (1, WIDTH, 2 * WIDTH, 4 * WIDTH, 6 * WIDTH)
_ROWS = 6  # 48 mel rows after three 2× poolings


def build(n_features: int, n_classes: int) -> Any:
    """A freshly initialised torch network (training, and tests of the numpy forward)."""
    import torch
    from torch import nn
    from torch.nn import functional as fn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.convs = nn.ModuleList(
                [nn.Conv2d(_CH[i], _CH[i + 1], 3, padding=1) for i in range(4)])
            self.bns = nn.ModuleList([nn.BatchNorm2d(_CH[i + 1]) for i in range(4)])
            self.cproj = nn.Linear(_CH[4] * _ROWS * 2, EMBED)
            self.f1 = nn.Linear(n_features, FEAT_HIDDEN)
            self.h = nn.Linear(EMBED + FEAT_HIDDEN, EMBED)
            self.out = nn.Linear(EMBED, n_classes)
            self.el = nn.Linear(EMBED, 1)
            self.drop = nn.Dropout(0.3)

        def forward(self, x: torch.Tensor, m: torch.Tensor) -> tuple[torch.Tensor,
                                                                      torch.Tensor]:
            h = m[:, None]
            for i in range(4):
                h = fn.relu(self.bns[i](self.convs[i](h)))
                if i < 3:
                    h = fn.max_pool2d(h, 2)
            h = torch.cat([h.mean(3), h.amax(3)], 1).flatten(1)
            c = fn.relu(self.cproj(self.drop(h)))
            f = fn.relu(self.f1(x))
            e = fn.relu(self.h(self.drop(torch.cat([c, f], 1))))
            return self.out(e), self.el(e)[:, 0]

    return Net()


def train(x: F32, patches: npt.NDArray[np.floating], y: npt.NDArray[np.int64],
          electronic: npt.NDArray[np.int64], n_classes: int, *, epochs: int = 16,
          batch: int = 128, lr: float = 3e-3, input_noise: float = 0.4, seed: int = 0,
          threads: int = 2, progress: Callable[[int], None] | None = None) -> dict[str, F32]:
    """Train on standardised features ``x`` float32 (N, F) and log-mel patches (N, 48, 64)
    with labels ``y`` (N,) and electronic ∈ {1, 0, -1}; returns :func:`export`'s arrays.

    Deterministic for a given seed and ``threads`` (CPU)."""
    import torch
    from torch.nn import functional as fn

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(seed)
    net = build(x.shape[1], n_classes)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    mt = torch.from_numpy(np.asarray(patches, dtype=np.float16))
    yt = torch.from_numpy(y.astype(np.int64))
    et = torch.from_numpy(electronic.astype(np.int64))
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    cw = torch.tensor(counts.sum() / np.maximum(counts, 1) / n_classes, dtype=torch.float32)
    opt = torch.optim.AdamW(net.parameters(), lr=lr / 1.5, weight_decay=1e-3)
    per_epoch = max(1, len(yt) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * per_epoch)
    rows = torch.arange(patches.shape[1])[None, :, None]
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(yt), generator=gen)
        for s in range(per_epoch):
            idx = order[s * batch:(s + 1) * batch]
            n = len(idx)
            xb = xt[idx] + torch.randn(n, xt.shape[1], generator=gen) * input_noise
            mb = mt[idx].float()
            level = (torch.rand(n, 1, 1, generator=gen) - 0.5) * (12.0 / 90.0)
            mb = (mb + level).clamp(0, 1) * (mb > 0)
            lo = torch.randint(0, patches.shape[1] - 4, (n, 1, 1), generator=gen)
            width = torch.randint(1, 5, (n, 1, 1), generator=gen)
            use = torch.rand(n, 1, 1, generator=gen) < 0.5
            mb = mb * ~(use & (rows >= lo) & (rows < lo + width))
            logits, el = net(xb, mb)
            loss = fn.cross_entropy(logits, yt[idx], weight=cw, label_smoothing=0.05)
            eb = et[idx]
            known = eb >= 0
            if bool(known.any()):
                loss = loss + 0.3 * fn.binary_cross_entropy_with_logits(el[known],
                                                                        eb[known].float())
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if progress is not None:
            progress(1)
    return export(net)


def export(net: Any) -> dict[str, F32]:
    """The numpy arrays of :mod:`stemcrate.audio.classifier_net` (batch norm folded in)."""
    import torch

    net.eval()
    out: dict[str, F32] = {}
    with torch.no_grad():
        for i, (conv, bn) in enumerate(zip(net.convs, net.bns, strict=True)):
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            out[f"c{i}_w"] = (conv.weight * scale[:, None, None, None]).numpy()
            out[f"c{i}_b"] = ((conv.bias - bn.running_mean) * scale + bn.bias).numpy()
        for name in ("cproj", "f1", "h", "out", "el"):
            layer = getattr(net, name)
            out[f"{name}_w"] = layer.weight.T.contiguous().numpy()
            out[f"{name}_b"] = layer.bias.numpy()
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def torch_forward(net: Any, x: F32, patches: F32) -> tuple[F32, F32]:
    """(label logits, electronic logits) of a torch ``net`` in eval mode (for tests)."""
    import torch

    net.eval()
    with torch.no_grad():
        lg, el = net(torch.from_numpy(x), torch.from_numpy(patches))
    return lg.numpy(), el.numpy()
