"""Weight-only int8 for the local engine's base model: per-channel int8 weights, float32 everywhere else.

Each nn.Linear of the decoder (and the tied embedding / LM head) keeps its weight as int8 with one
scale per output channel; a decode step then reads a quarter of the float32 bytes. The matmul is
torch's `_weight_int8pack_mm`, whose CPU kernel is vectorised (AVX-512) only for bfloat16 inputs, so
the activation enters it rounded to bfloat16 and accumulates in float32; norms, attention, softmax
and the residual stream stay float32. Not here: loading the model (skillstack.models) or LoRA.
"""

from __future__ import annotations

from typing import Any

from skillstack.errors import ConfigError


def int8_supported() -> bool:
    """Whether this CPU runs the vectorised int8 kernel; elsewhere it is scalar and slower than float32."""
    import torch

    return torch.backends.cpu.get_cpu_capability() in {"AVX512", "AVX512_BF16", "AVX512_VNNI"}


def _quantize_rows(weight: Any) -> tuple[Any, Any]:
    """Symmetric per-row int8 with bfloat16 scales rounded *up*, so the kernel's bfloat16 scale is exact
    and no quantised value leaves [-127, 127]."""
    import torch

    absmax = weight.detach().float().abs().amax(dim=1).clamp(min=1e-8)
    scale = (absmax / 127).to(torch.bfloat16)
    scale = torch.where(scale.float() * 127 < absmax, torch.nextafter(scale, torch.full_like(scale, 1e4)), scale)
    q = torch.round(weight.detach().float() / scale.float()[:, None]).clamp(-127, 127).to(torch.int8)
    return q.contiguous(), scale


def _int8_matmul(x: Any, q: Any, scale: Any) -> Any:
    """x @ (q * scale).T for x of any leading shape, returned in x's dtype."""
    import torch

    flat = x.reshape(-1, x.shape[-1]).to(torch.bfloat16)
    out = torch.ops.aten._weight_int8pack_mm(flat, q, scale)
    return out.to(x.dtype).reshape(*x.shape[:-1], q.shape[0])


def _int8_linear_class() -> type:
    import torch
    from torch import nn

    class Int8Linear(nn.Linear):
        """An nn.Linear holding an int8 weight: a subclass, so PEFT still wraps it with float32 LoRA layers
        (PEFT keeps an adapter's dtype when the base weight is not floating point)."""

        def __init__(self, linear: nn.Linear) -> None:
            nn.Module.__init__(self)  # not nn.Linear's: it would allocate a float32 weight we then drop
            self.in_features, self.out_features = linear.in_features, linear.out_features
            q, scale = _quantize_rows(linear.weight)
            self.weight = nn.Parameter(q, requires_grad=False)
            self.register_buffer("scale", scale)
            self.bias = None if linear.bias is None else nn.Parameter(linear.bias.detach().float(), requires_grad=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = _int8_matmul(x, self.weight, self.scale)
            return out if self.bias is None else out + self.bias

    class Int8TiedEmbedding(nn.Embedding):
        """The token embedding as int8 rows; the LM head (Int8TiedHead) reads the same rows and scales."""

        def __init__(self, embedding: nn.Embedding) -> None:
            nn.Module.__init__(self)
            self.num_embeddings, self.embedding_dim = embedding.num_embeddings, embedding.embedding_dim
            self.padding_idx, self.max_norm, self.sparse = embedding.padding_idx, None, False
            self.norm_type, self.scale_grad_by_freq = 2.0, False
            q, scale = _quantize_rows(embedding.weight)
            self.weight = nn.Parameter(q, requires_grad=False)
            self.register_buffer("scale", scale)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.weight[ids].float() * self.scale[ids].float().unsqueeze(-1)

    class Int8TiedHead(nn.Module):
        """logits = hidden @ embedding.T, from the embedding's int8 rows: one copy of the 49k x 576 table."""

        def __init__(self, embedding: Int8TiedEmbedding) -> None:
            super().__init__()
            self.embedding = [embedding]  # a list: not a submodule, so its weight is counted once

        @property
        def weight(self) -> torch.Tensor:
            return self.embedding[0].weight

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return _int8_matmul(x, self.embedding[0].weight, self.embedding[0].scale)

    return Int8Linear, Int8TiedEmbedding, Int8TiedHead


def quantize_int8(model: Any) -> Any:
    """Turn a loaded float causal LM's linear layers, embedding and LM head into int8 in place; returns it."""
    import torch
    from torch import nn

    if next(model.parameters()).device.type != "cpu":
        raise ConfigError("engine_dtype 'int8' is for CPU inference; on an accelerator use bfloat16")
    if not int8_supported():
        raise ConfigError(f"engine_dtype 'int8' needs a CPU with AVX-512 (this one reports "
                          f"{torch.backends.cpu.get_cpu_capability()}); set engine_dtype = \"float32\"")
    int8_linear, int8_embedding, int8_head = _int8_linear_class()
    embedding, head = model.get_input_embeddings(), model.get_output_embeddings()
    tied = head is not None and head.weight.data_ptr() == embedding.weight.data_ptr()
    body = model.get_decoder()
    for module in list(body.modules()):
        for child_name, child in list(module.named_children()):
            if type(child) is nn.Linear:
                setattr(module, child_name, int8_linear(child))
    if tied:
        new_embedding = int8_embedding(embedding)
        model.set_input_embeddings(new_embedding)
        model.set_output_embeddings(int8_head(new_embedding))
        # With this set, transformers' tie_weights() would assign the embedding's weight to the head,
        # which has no weight of its own to assign: it already reads the embedding's int8 rows.
        model.config.tie_word_embeddings = False
    elif head is not None:
        model.set_output_embeddings(int8_linear(head))
    return model.eval()
