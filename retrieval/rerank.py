"""Query-likelihood reranking (UPR): reorder the top hits by how likely the base model finds the question
given each chunk, log p(question | "Passage: chunk ... Question:"), no cross-encoder needed.

No cross-encoder ships in the offline wheels, so the base model (skillstack.models) is the reranker.
Opt-in (setting rerank_top_n, `skillstack search --rerank N`): it costs one forward pass of the base
model over each candidate. Batched with left padding, so every row ends with the same question tokens
and only their logits are computed (logits_to_keep): the vocabulary projection of the passage is skipped.
"""

from __future__ import annotations

from skillstack.settings import Settings
from .hits import Hit

PASSAGE_TOKENS = 320  # a chunk is at most ~1000 characters (+ breadcrumb): this keeps all of it
BATCH = 8
_PROMPT = "Passage: {passage}\nPlease write a question based on this passage.\nQuestion:"


def rerank(settings: Settings, query: str, hits: list[Hit]) -> list[Hit]:
    """The hits reordered by log p(query | hit), best first; each hit's score becomes that mean log-likelihood."""
    if len(hits) < 2:
        return list(hits)
    scores = question_likelihoods(settings, query, [hit.text for hit in hits])
    order = sorted(range(len(hits)), key=lambda i: -scores[i])
    return [Hit(text=hits[i].text, score=scores[i], source=hits[i].source, metadata=hits[i].metadata) for i in order]


def question_likelihoods(settings: Settings, question: str, passages: list[str]) -> list[float]:
    """Mean log-probability of the question's tokens after each passage's prompt (one value per passage)."""
    import torch

    from skillstack.models import load_base_model, load_tokenizer

    tokenizer = load_tokenizer(settings)
    model = load_base_model(settings)
    answer = tokenizer(" " + question.strip(), add_special_tokens=False)["input_ids"]
    scores: list[float] = []
    for start in range(0, len(passages), BATCH):
        rows = []
        for passage in passages[start:start + BATCH]:
            passage_ids = tokenizer(passage, add_special_tokens=False)["input_ids"][:PASSAGE_TOKENS]
            prompt = tokenizer(_PROMPT.format(passage=tokenizer.decode(passage_ids)), add_special_tokens=False)["input_ids"]
            rows.append(prompt + answer)
        width = max(len(row) for row in rows)
        pad = tokenizer.pad_token_id
        ids = torch.tensor([[pad] * (width - len(row)) + row for row in rows])
        mask = torch.tensor([[0] * (width - len(row)) + [1] * len(row) for row in rows])
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding: positions count real tokens only
        with torch.inference_mode():
            # The logits at the last len(answer)+1 positions predict the answer tokens (and one past them).
            logits = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
                           position_ids=positions.to(model.device), logits_to_keep=len(answer) + 1).logits
        logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
        target = torch.tensor(answer, device=logprobs.device).expand(len(rows), -1)
        scores.extend(logprobs.gather(-1, target.unsqueeze(-1)).squeeze(-1).mean(-1).tolist())
    return scores
