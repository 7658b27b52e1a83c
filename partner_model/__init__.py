"""The ML library: empathy classifier and PARTNER rewriter. No Discord, no SQL."""
