"""What a run logs while it plays, epoch by epoch: ``<run>/memory_stats.jsonl`` (success,
steps, retrieval hits, LLM and env time, a Q-value histogram) and, with
``AgentConfig.log=["tensorboard"]``, TensorBoard scalars. ``memplay report`` charts them.

    >>> from memplay.agents.run_log.epoch_stats import STATS_FILE
    >>> STATS_FILE
    'memory_stats.jsonl'
"""
