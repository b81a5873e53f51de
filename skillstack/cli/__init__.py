"""The `skillstack` command line: one small module per command group, assembled in main.py."""
