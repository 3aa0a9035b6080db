"""Token ids read from a native-layout config, with transformers' defaults for missing ones."""

from qalign.aligner.qwen3.model_config import TOKEN_ID_DEFAULTS, token_ids


def test_token_ids_keep_the_configs_own_and_default_the_rest():
    assert token_ids({}) == {"audio_token_id": 151676, "timestamp_token_id": 151705}
    assert token_ids({"timestamp_token_id": 7, "vocab_size": 10}) == {
        "audio_token_id": TOKEN_ID_DEFAULTS["audio_token_id"],
        "timestamp_token_id": 7,
    }
