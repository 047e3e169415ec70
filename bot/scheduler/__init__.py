"""Scheduled jobs (APScheduler 3) and the outbox sender: one per database.

`jobs` is the API other features use (`Jobs.periodic`, `remind`); `runner.Scheduler`
runs them; `lock` makes sure only one runs.
"""
