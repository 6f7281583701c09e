"""Engines that run ``affekt predict`` beyond one process: :mod:`affekt.engine.ray_engine`
(``--engine ray``). The local engine is :func:`affekt.core.modality.run_items` itself."""
