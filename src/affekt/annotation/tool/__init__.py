"""``affekt annotate``: a small web tool for labelling items (texts, audio, images).

:mod:`.items` reads the input, :mod:`.scheme` is the label scheme and the check of an answer,
:mod:`.store` the SQLite answers database and the project lock, :mod:`.project` hands out
items and takes answers, :mod:`.suggest` a model's suggestions and the uncertain-first order,
:mod:`.app` the FastAPI app and its page (``affekt/annotation/static``).
"""
from affekt.annotation.tool.project import (  # noqa: F401
    EXPORT_COLUMNS,
    Project,
    new_config,
    read_config,
)
from affekt.annotation.tool.scheme import AnswerError, Scheme  # noqa: F401
