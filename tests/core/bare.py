"""The loop the Trainer is held to: plain PyTorch with the Trainer's data, initial weights and batch order."""

from collections.abc import Callable

import torch

from core.data.dataset import make_dataset
from core.models import build_model
from core.spec import Spec


def bare_loop(spec: Spec, loss_fn: Callable) -> Callable[[], list[torch.Tensor]]:
    """A function that trains one epoch of plain SGD (nothing measured) and returns its batch losses, detached.

    Seeded as the Trainer is: weights under `manual_seed(seed)`, batch order from a generator seeded `seed + 1`.
    """
    torch.manual_seed(spec.seed)
    data = make_dataset(spec)
    model = build_model(spec)
    opt = torch.optim.SGD(model.parameters(), lr=spec.train.lr)
    gen = torch.Generator().manual_seed(spec.seed + 1)
    n, bs = len(data.x_train), spec.data.batch_size

    def epoch() -> list[torch.Tensor]:
        order = torch.randperm(n, generator=gen)
        losses = []
        for i in range(0, n, bs):
            idx = order[i : i + bs]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(data.x_train[idx]), data.y_train[idx])
            loss.backward()
            opt.step()
            losses.append(loss.detach())
        return losses

    return epoch
