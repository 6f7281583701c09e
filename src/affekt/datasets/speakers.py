"""Who speaks in each audio file, and what that means for cross-validation.

One rule for every place that needs speakers (``affekt predict --speaker-by``, the ``folder`` and
``csv`` speech datasets, ``affekt train --speaker-by``):

- ``"folder"``: the speaker is the name of the folder the file lies in;
- any other string is a regular expression searched in the file *name* (not the folder); its
  first group names the speaker, e.g. ``'^(\\w+?)_'`` for ``anna_01.wav`` or ``'-(\\d+)\\.wav$'``
  for RAVDESS-style names.

A cross-validation is speaker-independent only when no speaker has clips on both sides of a
fold: the clips must be grouped by a known speaker (``group-kfold``, ``logo``, or a corpus's
own speaker folds). :func:`speaker_independence` says whether a protocol on a dataset is, and
why not.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

from affekt.core.errors import InputError

#: said (results field ``cv.note`` and a warning) when a dataset's speakers are unknown
NO_SPEAKERS = ("this CV is not speaker-independent (no speakers known: give --speaker-by or a speaker column), "
               "so clips of one speaker can be in both training and test folds and the figures are optimistic")


def speakers_of(paths, speaker_by: str, *, error=InputError) -> list[str]:
    """Speaker of each file: its parent folder's name (``speaker_by="folder"``), or the first
    group of the regex ``speaker_by`` searched in the file's name. ``error``: the
    :class:`~affekt.core.errors.AffektError` subclass raised on a bad pattern or a name it does
    not match (``InputError`` for inputs to predict, ``DataError`` for a dataset)."""
    paths = [Path(p) for p in paths]
    if not isinstance(speaker_by, str) or not speaker_by.strip():
        raise error("--speaker-by: give 'folder' or a regex whose first group names the speaker")
    if speaker_by == "folder":
        return [p.parent.name for p in paths]
    try:
        rx = re.compile(speaker_by)
    except re.error as exc:
        raise error(f"--speaker-by: '{speaker_by}' is neither 'folder' nor a valid regex ({exc})") from None
    if rx.groups < 1:
        raise error(f"--speaker-by: the regex '{speaker_by}' needs a group naming the speaker, e.g. '-(\\d+)\\.wav$'")
    out = []
    for p in paths:
        hit = rx.search(p.name)
        if not hit or not hit.group(1):
            raise error(f"--speaker-by: '{speaker_by}' finds no speaker in the file name '{p.name}'")
        out.append(hit.group(1))
    return out


def speaker_independence(dataset, protocol: str, *, warn: bool = True) -> dict:
    """Whether cross-validating ``dataset`` with ``protocol`` keeps every speaker on one side of
    each fold: ``{"speaker_independent": bool, "note": str}`` (the note only when it does not),
    or ``{}`` for a dataset that has no notion of speakers (text tables). Warns (``UserWarning``)
    when it does not, so that the user sees it next to the figures."""
    known = dataset.info.get("speakers_known")
    if known is None:  # not a speech dataset
        return {}
    if protocol == "loco":  # corpora do not share speakers
        return {"speaker_independent": True}
    if not known:
        note = NO_SPEAKERS
    elif protocol in ("group-kfold", "logo") and dataset.group == "speaker":
        return {"speaker_independent": True}
    elif protocol == "folds" and dataset.folds is not None:  # every speech corpus's own folds are by speaker
        return {"speaker_independent": True}
    else:
        note = (f"this CV is not speaker-independent: protocol '{protocol}' does not group the clips by speaker, "
                "so one speaker's clips can be in both training and test folds (use group-kfold or logo)")
    if warn:
        warnings.warn(note, UserWarning, stacklevel=2)
    return {"speaker_independent": False, "note": note}
