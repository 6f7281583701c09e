"""Annotation: collecting labels (the ``affekt annotate`` tool), agreement between annotators,
and consensus (many votes -> training targets). See docs/results/annotation.md."""
