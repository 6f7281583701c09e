"""Fusion of modalities: late fusion of per-modality scores (confidence-weighted, or learned)."""
from affekt.fusion.late import LearnedFusion, confidence, late_fuse

__all__ = ["LearnedFusion", "confidence", "late_fuse"]
