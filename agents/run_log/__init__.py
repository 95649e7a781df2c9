"""What a run logs while it plays, epoch by epoch: ``<run>/memory_stats.jsonl`` (success,
steps, retrieval hits, LLM and env time, a Q-value histogram) and, with
``AgentConfig.log=["tensorboard"]``, TensorBoard scalars. ``memplay report`` charts them.

    >>> from memplay.run_dir import RunDir
    >>> RunDir("runs/fl").memory_stats.name
    'memory_stats.jsonl'
"""
