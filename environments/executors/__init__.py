"""Where the environments of a run step: in this process, in worker processes, or in Ray
actors (:class:`~memplay.environments.executors.workers.EnvWorkers`)."""
