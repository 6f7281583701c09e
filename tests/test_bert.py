"""affekt's plain-torch MiniBert gives the same outputs as transformers' BertModel."""
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def test_minibert_matches_transformers():
    from affekt.text import features as F
    from affekt.text._bert import MiniBert

    ours = MiniBert.from_folder(F.minilm_path())
    ref = transformers.AutoModel.from_pretrained(str(F.minilm_path()), local_files_only=True).eval()
    ids, mask = F.minilm_batch(["I am thrilled about this!", "no", "a much longer sentence with padding " * 3])
    with torch.inference_mode():
        a = ours(ids, mask)
        b = ref(input_ids=ids, attention_mask=mask).last_hidden_state
    keep = mask.bool()
    assert (a[keep] - b[keep]).abs().max() < 1e-4
