"""The Huey class the platform runs on Redis: any number of consumers, each periodic task queued once a minute.

Every Huey consumer runs the periodic scheduler. With two consumers on one Redis each would queue every periodic
task on every tick, doubling the work (the tasks are safe to run twice, but a nightly evaluation over a million
persons should not run twice). Instead of electing one scheduler — which would stop the schedule when that
consumer dies — every consumer offers each due task, and a Redis `SET NX` on (task, minute) lets exactly one
offer through. Consumers whose clocks disagree by less than the key's lifetime still agree on the minute.
"""

from __future__ import annotations

import datetime as dt

from huey import RedisHuey

# A claim outlives the minute it names by enough that a consumer lagging behind cannot claim it again.
CLAIM_SECONDS = 600


class ClusterRedisHuey(RedisHuey):
    def read_periodic(self, timestamp: dt.datetime | None = None):
        due = super().read_periodic(timestamp)
        if not due:
            return due
        minute = (timestamp or self._get_timestamp()).strftime("%Y%m%d%H%M")
        conn = self.storage.conn
        prefix = f"huey.{self.name}.periodic"
        return [
            task for task in due if conn.set(f"{prefix}.{task.name}.{minute}", "1", nx=True, ex=CLAIM_SECONDS)
        ]
