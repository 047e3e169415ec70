"""Use-cases. Plain async functions taking a session and what else they need.

They validate, decide and write; they never commit (the update middleware or the
CLI command that called them owns the transaction) and never produce sentences:
errors carry a code and parameters that handlers turn into words.
"""
