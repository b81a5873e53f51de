"""Datasets in OpenAI's fine-tuning formats: format predicates, the line-by-line validator, conversion, generation."""
