"""Graders in OpenAI's grader JSON, run locally: one module per grader type, shared by evaluation and RFT rewards."""
