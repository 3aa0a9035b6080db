"""Speech recognition front end (Qwen3-ASR): transcribe, then align."""
