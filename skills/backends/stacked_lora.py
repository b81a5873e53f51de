"""Mixed-adapter LoRA batches in a fixed number of matmuls per layer, whatever the mix (BGMV-style).

PEFT's `adapter_names=` forward loops over the adapters in a batch, slicing out and scattering back
each one's rows: about six small ops per adapter on each of 210 layers. Here every LoRA linear keeps
its resident adapters stacked (A as one [n*r, in] matrix, B as one [n*r, out] matrix, ranks padded
with zeros): shrink each row against all stacked A at once, keep only its own adapter's r columns
(a per-row 0/1 mask; "__base__" rows keep none), expand through the stacked B, scale each row by its
adapter's scaling (after the expand, in PEFT's order, so outputs match PEFT's). PEFT still owns the on-disk format, loading and `adapter_names=` routing; only the
mixed-batch forward of each lora.Linear is replaced. PEFT's own A and B parameters become views into
the stacks, so resident memory stays one copy of each adapter.
"""

from __future__ import annotations

from typing import Any

BASE_ADAPTER = "__base__"


class StackedLora:
    """The stacks of one PeftModel's resident adapters; call refresh() after adding or deleting one."""

    def __init__(self, peft_model: Any) -> None:
        self.peft = peft_model
        self.slots: dict[str, int] = {}  # adapter name -> its slot in every layer's stack
        self.rank = 0  # the widest resident rank; narrower adapters are zero-padded to it
        self._masks: tuple[tuple[str, ...], Any, Any] | None = None  # the last adapter mix, its masks

    def _layers(self) -> list[Any]:
        from peft.tuners.lora import Linear

        return [m for m in self.peft.modules() if isinstance(m, Linear)]

    def refresh(self) -> None:
        """Rebuild every layer's stacks from PEFT's adapter weights and route its mixed forward here."""
        import torch

        layers = self._layers()
        names = sorted({name for layer in layers for name in layer.lora_A})
        self.slots = {name: i for i, name in enumerate(names)}
        self.rank = max((layer.r[name] for layer in layers for name in layer.lora_A), default=0)
        self._masks = None
        # Outside inference mode: PEFT's parameters become views of these stacks, and a later add_adapter
        # touches requires_grad on every adapter, which inference tensors refuse.
        with torch.inference_mode(False), torch.no_grad():
            for layer in layers:
                self._stack(layer, names)

    def _stack(self, layer: Any, names: list[str]) -> None:
        import torch

        if (not layer.lora_A or layer.lora_variant
                or any(getattr(b, "bias", None) is not None for b in layer.lora_B.values())):
            # No adapter left here, or DoRA / LoRA biases: PEFT's own forward.
            layer.__dict__.pop("_mixed_batch_forward", None)
            layer.__dict__.pop("_stacked", None)
            return
        r = self.rank
        some = next(iter(layer.lora_A.values())).weight
        a = torch.zeros(len(names) * r, layer.in_features, dtype=some.dtype, device=some.device)
        b = torch.zeros(len(names) * r, layer.out_features, dtype=some.dtype, device=some.device)
        for name in layer.lora_A:
            start, rank = self.slots[name] * r, layer.r[name]
            a[start:start + rank] = layer.lora_A[name].weight
            b[start:start + rank] = layer.lora_B[name].weight.T
            # PEFT's parameters now read the stacks: one resident copy, and PEFT's paths still work.
            layer.lora_A[name].weight.data = a[start:start + rank]
            layer.lora_B[name].weight.data = b[start:start + rank].T
        # Each slot's scaling, and 0 at slot n for "__base__" rows.
        scaling = torch.tensor([layer.scaling.get(name, 0.0) for name in names] + [0.0], dtype=a.dtype)
        layer._stacked = (a, b, scaling)
        # An instance attribute shadows lora.Linear's method: PEFT's forward calls self._mixed_batch_forward.
        layer._mixed_batch_forward = _StackedForward(self, layer)

    def masks(self, adapter_names: list[str], like: Any) -> tuple[Any, Any]:
        """A [rows, n*r] mask (each row's own adapter columns 1, all else 0) and each row's slot (n for
        "__base__"), cached per adapter mix: every layer of one forward asks for the same."""
        import torch

        key = tuple(adapter_names)
        if self._masks is not None and self._masks[0] == key:
            return self._masks[1], self._masks[2]
        r = self.rank
        mask = torch.zeros(len(key), len(self.slots) * r, dtype=like.dtype, device=like.device)
        for row, name in enumerate(key):
            if name != BASE_ADAPTER:
                mask[row, self.slots[name] * r:(self.slots[name] + 1) * r] = 1
        slots = torch.tensor([self.slots.get(name, len(self.slots)) for name in key], device=like.device)
        self._masks = (key, mask, slots)
        return mask, slots


class _StackedForward:
    """One lora.Linear's mixed-batch forward: base output plus each row's own adapter, in four ops."""

    def __init__(self, stacks: StackedLora, layer: Any) -> None:
        self.stacks, self.layer = stacks, layer

    def __call__(self, x: Any, *args: Any, adapter_names: list[str], **kwargs: Any) -> Any:
        from peft.tuners.lora.layer import VARIANT_KWARG_KEYS

        for key in VARIANT_KWARG_KEYS:  # aLoRA offsets: not used by vanilla LoRA, never passed to the base layer
            kwargs.pop(key, None)
        result = self.layer.base_layer(x, *args, **kwargs)
        first = adapter_names[0]
        if first == BASE_ADAPTER and all(n == BASE_ADAPTER for n in adapter_names):
            return result
        a, b, scaling = self.layer._stacked
        lora_x = x.to(a.dtype)
        if all(n == first for n in adapter_names):  # one adapter: its own slice, no mask
            if first not in self.layer.lora_A:
                return result
            r = self.stacks.rank
            rows = slice(self.stacks.slots[first] * r, (self.stacks.slots[first] + 1) * r)
            delta = (lora_x @ a[rows].T) @ b[rows] * self.layer.scaling[first]
        else:
            mask, slots = self.stacks.masks(adapter_names, a)
            shape = (mask.shape[0], *([1] * (x.dim() - 2)), -1)  # broadcast over the token dimension(s)
            shrunk = lora_x @ a.T  # [rows, tokens, n*r]: every row against every resident adapter's A
            delta = (shrunk * mask.view(shape)) @ b * scaling[slots].view(shape)
        return result + delta.to(result.dtype)
