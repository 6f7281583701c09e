"""--abstain-below: labels under the threshold become "uncertain", scores kept, in every modality's records."""
from __future__ import annotations

import json

import pytest

from cli_helpers import invoke  # noqa: E402

from affekt.core.abstain import UNCERTAIN, abstain
from affekt.core.errors import InputError
from affekt.core.types import EmotionPrediction


def test_abstain_on_a_record_and_its_parts():
    p = EmotionPrediction(input="x", label="joy", labels=["joy"], scores={"joy": 0.45, "anger": 0.35, "fear": 0.2},
                          segments=[{"start": 0, "end": 1, "label": "joy", "scores": {"joy": 0.9, "anger": 0.1}},
                                    {"start": 1, "end": 2, "label": "anger", "scores": {"joy": 0.4, "anger": 0.6}}],
                          faces=[{"box": [0, 0, 9, 9], "label": "fear", "scores": {"fear": 0.3, "joy": 0.3}}],
                          voice={"segments": [{"label": "joy", "scores": {"joy": 0.55, "anger": 0.45}}]})
    abstain(p, 0.5)
    assert p.label == UNCERTAIN and p.labels == [] and p.scores["joy"] == 0.45 and "abstain-below" in p.warnings[0]
    assert [s["label"] for s in p.segments] == ["joy", "anger"]
    assert p.faces[0]["label"] == UNCERTAIN and p.faces[0]["abstained"] is True
    assert p.voice["segments"][0]["label"] == "joy"
    abstain(p, 0.7)  # a second pass: the segments under 0.7 abstain, the record does not warn twice
    assert [s["label"] for s in p.segments] == ["joy", UNCERTAIN] and len(p.warnings) == 1
    err = EmotionPrediction(input="y", error="unreadable")
    assert abstain(err, 0.5).label is None
    for bad in (0, 1, 1.5, -0.1):
        with pytest.raises(InputError, match="between 0 and 1"):
            abstain(p, bad)


def test_predict_and_analyze_abstain(tmp_path):
    texts = tmp_path / "t.txt"
    texts.write_text("I am so happy today, this is wonderful!\nhmm\n")
    invoke(["predict", "--input", texts, "--output", tmp_path / "a.jsonl", "--abstain-below", "0.99"])
    recs = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert all(r["label"] == UNCERTAIN and r["scores"] for r in recs)
    invoke(["predict", "--input", texts, "--output", tmp_path / "b.jsonl", "--abstain-below", "0.01"])
    assert all(json.loads(line)["label"] != UNCERTAIN for line in (tmp_path / "b.jsonl").read_text().splitlines())
    r = invoke(["analyze", "hmm", "--abstain-below", "0.99"])
    assert UNCERTAIN in r.output
    r = invoke(["analyze", "hmm", "--abstain-below", "2"], code=1)
    assert "between 0 and 1" in r.output
