"""Executors are a recipe choice: the local executor today, Slurm and Ray later, never hard-wired."""

from __future__ import annotations

from eax_data.recipe import ExecutionConfig


def make_executor(execution: ExecutionConfig, pipeline: list, logging_dir: str, tasks: int, workers: int | None = None, skip_completed: bool = True):
    if execution.executor == "local":
        from datatrove.executor import LocalPipelineExecutor

        return LocalPipelineExecutor(
            pipeline=pipeline,
            tasks=tasks,
            workers=min(workers or execution.workers, tasks),
            logging_dir=logging_dir,
            skip_completed=skip_completed,
        )
    raise ValueError(f"execution.executor: {execution.executor!r} is not supported yet")
