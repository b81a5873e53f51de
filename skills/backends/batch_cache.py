"""The running batch's memory: one left-padded transformers DynamicCache plus its attention mask and positions.

Rows join (their prefilled cache is left-padded to the batch's length, or the batch to theirs), leave
(selected out along the batch axis) and grow by one token per decode step; columns that every row
pads are dropped, so a long request that left does not keep its length in the batch. Attention itself
stays transformers': this module only lays the cache's tensors out. Not here: which rows run (scheduler.py).
"""

from __future__ import annotations

from typing import Any


def _pad_left(tensor: Any, length: int, dim: int) -> Any:
    """tensor with zeros added at the start of dim up to length."""
    import torch

    missing = length - tensor.shape[dim]
    if missing <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([torch.zeros(shape, dtype=tensor.dtype, device=tensor.device), tensor], dim=dim)


class BatchCache:
    """The KV cache, mask and next positions of the rows now decoding, in row order."""

    def __init__(self) -> None:
        self.cache: Any = None  # a DynamicCache; None while no row runs
        self.mask: Any = None  # [rows, columns] long: 1 where a real token sits in the cache
        self.positions: Any = None  # [rows] long: the position of each row's next token

    @property
    def rows(self) -> int:
        return 0 if self.mask is None else int(self.mask.shape[0])

    def join(self, cache: Any, mask: Any) -> None:
        """Append rows prefilled together (cache and mask as the prefill forward left them) after the running ones."""
        import torch
        from transformers import DynamicCache

        positions = mask.sum(dim=1)
        if self.cache is None:
            self.cache, self.mask, self.positions = cache, mask, positions
            return
        length = max(self.mask.shape[1], mask.shape[1])
        layers = [(_pad_left(old.keys, length, 2), _pad_left(new.keys, length, 2),
                   _pad_left(old.values, length, 2), _pad_left(new.values, length, 2))
                  for old, new in zip(self.cache.layers, cache.layers, strict=True)]
        self.cache = DynamicCache(ddp_cache_data=[(torch.cat([ok, nk]), torch.cat([ov, nv]))
                                                  for ok, nk, ov, nv in layers])
        self.mask = torch.cat([_pad_left(self.mask, length, 1), _pad_left(mask, length, 1)])
        self.positions = torch.cat([self.positions, positions])

    def keep(self, rows: list[int]) -> None:
        """Keep only these rows (in this order), then drop the leading columns no remaining row uses."""
        import torch

        if not rows:
            self.cache = self.mask = self.positions = None
            return
        index = torch.tensor(rows, dtype=torch.long, device=self.mask.device)
        self.cache.batch_select_indices(index)
        self.mask, self.positions = self.mask[index], self.positions[index]
        used = self.mask.any(dim=0).nonzero()
        first = int(used[0]) if len(used) else 0
        if first:
            for layer in self.cache.layers:
                layer.keys, layer.values = layer.keys[:, :, first:], layer.values[:, :, first:]
            self.mask = self.mask[:, first:]

    def step_inputs(self) -> tuple[Any, Any]:
        """(attention mask, position ids) for one decode step: every row adds one token."""
        import torch

        ones = torch.ones((self.rows, 1), dtype=self.mask.dtype, device=self.mask.device)
        return torch.cat([self.mask, ones], dim=1), self.positions[:, None]

    def stepped(self, mask: Any) -> None:
        """Record the decode step that used mask (the cache grew by one column inside the forward)."""
        self.mask = mask
        self.positions = self.positions + 1
