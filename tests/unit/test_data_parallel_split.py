"""training/distributed.py outside and inside a torchrun worker's environment (no process group needed)."""

from __future__ import annotations

import pytest

from skillstack.training.distributed import is_main, my_share, rank_settings, sum_across, world


def test_one_process_trains_the_whole_batch_and_is_rank_zero(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert world() == (0, 1) and is_main()
    assert my_share([5, 3, 8]) == [5, 3, 8] and sum_across([1.5, 2.0]) == [1.5, 2.0]
    assert rank_settings(settings) is settings


def test_each_worker_takes_every_nth_example_and_its_own_gpu(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    from skillstack.settings import with_overrides

    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert not is_main()
    assert my_share([10, 11, 12, 13, 14]) == [11, 13]
    assert my_share([10]) == []  # a batch smaller than the world: this rank adds zero gradients
    assert rank_settings(with_overrides(settings, device="cuda")).device == "cuda:1"
    assert rank_settings(settings).device == "cpu"
