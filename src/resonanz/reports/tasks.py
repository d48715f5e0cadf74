"""Background jobs of this feature: handlers registered with resonanz.worker.tasks.register_task and
periodic schedules declared with resonanz.worker.periodic.register_periodic (filled in by its owner)."""
