"""Training: from a dataset to a drop-in skill folder (validation, SFT, DPO, RFT, graders, evaluation, OpenAI jobs)."""
