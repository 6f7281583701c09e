"""Video: faces tracked over time, the voice in the same clip, and both fused (see docs/architecture.md)."""
