"""PARTNER: sentence-level empathic rewriting learned with reinforcement learning."""
