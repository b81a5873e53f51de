"""The running batch's cache layout: rows join left-padded, leave by index, and all-padding columns go."""

from __future__ import annotations

import torch
from transformers import DynamicCache

from skillstack.skills.backends.batch_cache import BatchCache


def _prefilled(mask: list[list[int]], layers: int = 2, heads: int = 1,
               dim: int = 2) -> tuple[DynamicCache, torch.Tensor]:
    """A cache whose every real position holds its row's number + 1 (padding zeros), as a prefill would leave it."""
    mask_t = torch.tensor(mask)
    values = (torch.arange(len(mask)) + 1).float()[:, None, None, None] * mask_t[:, None, :, None].float()
    tensor = values.expand(len(mask), heads, len(mask[0]), dim).clone()
    return DynamicCache(ddp_cache_data=[(tensor.clone(), tensor.clone()) for _ in range(layers)]), mask_t


def test_rows_of_different_lengths_join_left_padded_with_their_own_positions() -> None:
    batch = BatchCache()
    batch.join(*_prefilled([[1, 1, 1]]))
    batch.join(*_prefilled([[0, 1, 1, 1, 1], [1, 1, 1, 1, 1]]))
    assert batch.rows == 3
    assert batch.mask.tolist() == [[0, 0, 1, 1, 1], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]]
    assert batch.positions.tolist() == [3, 4, 5]
    keys = batch.cache.layers[0].keys
    assert keys.shape == (3, 1, 5, 2)
    assert keys[0, 0, :, 0].tolist() == [0, 0, 1, 1, 1]  # the first row kept its own values, padded before them


def test_a_decode_step_adds_one_real_column_and_advances_every_position() -> None:
    batch = BatchCache()
    batch.join(*_prefilled([[0, 1], [1, 1]]))
    mask, positions = batch.step_inputs()
    assert mask.tolist() == [[0, 1, 1], [1, 1, 1]] and positions.tolist() == [[1], [2]]
    batch.stepped(mask)
    assert batch.positions.tolist() == [2, 3]


def test_rows_that_leave_take_their_columns_when_nobody_else_uses_them() -> None:
    batch = BatchCache()
    batch.join(*_prefilled([[0, 0, 0, 1], [1, 1, 1, 1], [0, 0, 1, 1]]))
    batch.keep([2, 0])
    assert batch.mask.tolist() == [[1, 1], [0, 1]]
    assert batch.positions.tolist() == [2, 1]
    assert batch.cache.layers[1].values.shape == (2, 1, 2, 2)
    assert batch.cache.layers[1].values[0, 0, :, 0].tolist() == [3, 3]
    batch.keep([])
    assert batch.rows == 0 and batch.cache is None
