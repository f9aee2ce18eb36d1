"""Problem lifecycle: found → assigned → rectified → closed, sometimes reopened.

No geometry (no CRS). Times are integer minutes after ``START_TIME`` (China Standard
Time, UTC+08:00); a time at or after ``REF_MINUTES`` has not happened by the snapshot,
and ``NEVER`` marks an event that will not happen at all. Deadlines count natural or
working days (weekends and ``HOLIDAYS`` off) per category.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
from numpy.typing import NDArray

from .config import REF_MINUTES, START_TIME, WINDOW_DAYS, Array
from .tables import CATEGORIES, HOLIDAYS, SLOW, SLOW_DEFAULT

NEVER = np.iinfo(np.int64).max // 4
DAY = 1440  # minutes

Times = NDArray[np.int64]


def lifecycle(rng: np.random.Generator, category: NDArray[np.str_]) -> tuple[Times, ...]:
    """Simulate found → assigned → rectified → closed (→ reopened …) in minutes.

    Returns found, assigned, deadline, rectified, closed, reopened; a time at or after
    the snapshot (``REF_MINUTES``) has not happened yet. ``reopened`` counts how often a
    re-inspection (回头看) reopened the problem; the times are those of the last round.
    """
    n = len(category)
    slow_p = np.array([SLOW.get(c, SLOW_DEFAULT) for c in category])
    found = _found_times(rng, n)
    deadline = _deadlines(found, category)
    days = (deadline - found) // DAY  # calendar days allowed
    delay = np.clip(rng.lognormal(math.log(180), 0.9, n), 5, 3 * DAY).astype(np.int64)
    assigned = _shift_to_day(rng, found + delay)
    assigned[rng.random(n) < 0.004] = NEVER
    rectified, closed = _work(rng, assigned, days, slow_p)
    reopened = np.zeros(n, dtype=np.int64)
    chance = rng.random(n) < 0.07  # a re-inspection (回头看) reopens the closed problem
    for again_p in (0.12, 0.0):
        again = _shift_to_day(rng, closed + rng.integers(2 * DAY, 25 * DAY, n))
        hit = chance & (closed < REF_MINUTES) & (again < REF_MINUTES)
        rect2, close2 = _work(rng, again, days, slow_p)
        reopened[hit] += 1
        assigned[hit], rectified[hit], closed[hit] = again[hit], rect2[hit], close2[hit]
        chance = hit & (rng.random(n) < again_p)
    return found, assigned, deadline, rectified, closed, reopened


def _work(
    rng: np.random.Generator, start: Times, days: Times, slow_p: Array, median: float = 0.3
) -> tuple[Times, Times]:
    """Rectification and closing times for work starting at ``start`` (minutes).

    Work takes a lognormal share (median ``median``) of the ``days`` allowed; slow cases
    (probability ``slow_p``) drag on for weeks and a tenth of them never finish. Closing
    waits for the inspector's verification visit, which is sometimes late or lost.
    """
    n = len(start)
    factor = rng.lognormal(math.log(median), 0.75, n)
    work_min = np.maximum(30, days * DAY * factor)
    slow = rng.random(n) < slow_p
    work_min[slow] += rng.exponential(45 * DAY, int(slow.sum()))
    rect = _shift_to_day(rng, np.where(start < NEVER, start + work_min.astype(np.int64), NEVER))
    rect[slow & (rng.random(n) < 0.1)] = NEVER
    wait = np.clip(rng.lognormal(math.log(2.5 * DAY), 0.9, n), 60, 40 * DAY)
    backlog = rng.random(n) < 0.15  # the inspector's verification visit is late
    wait[backlog] += rng.exponential(25 * DAY, int(backlog.sum()))
    close = _shift_to_day(rng, np.where(rect < NEVER, rect + wait.astype(np.int64), NEVER))
    close[rng.random(n) < 0.01] = NEVER  # verification lost in the shuffle
    return rect, close


def _shift_to_day(rng: np.random.Generator, t: Times) -> Times:
    """Move times between 21:00 and 07:30 forward to the next morning (never backward)."""
    t = t.copy()
    tod = t % DAY
    live = t < NEVER
    jitter = rng.integers(0, 150, len(t))
    early = live & (tod < 450)
    late = live & (tod > 1260)
    t[early] += 450 - tod[early] + jitter[early]
    t[late] += DAY - tod[late] + 450 + jitter[late]
    return t


def _found_times(rng: np.random.Generator, n: int) -> Times:
    """Discovery times: more on weekdays and in the campaign's action/evaluation phases."""
    days = np.arange(WINDOW_DAYS)
    dates = [START_TIME + timedelta(days=int(d)) for d in days]
    weekday = np.array([d.weekday() for d in dates])
    w = np.where(weekday == 5, 0.35, np.where(weekday == 6, 0.25, 1.0))
    month = np.array([d.month for d in dates])
    w *= np.select([month <= 8, month == 9], [1.25, 1.35], 0.9)
    day = rng.choice(days, n, p=w / w.sum())
    office = rng.random(n) < 0.85
    morning = rng.random(n) < 0.55
    tod = np.where(morning, rng.normal(600, 70, n), rng.normal(900, 80, n))
    tod = np.where(office, np.clip(tod, 450, 1110), rng.uniform(360, 1320, n))
    return (day * DAY + tod.astype(np.int64)).astype(np.int64)


def _deadlines(found: Times, category: NDArray[np.str_]) -> Times:
    """found + the category deadline in natural or working days (same time of day)."""
    horizon = WINDOW_DAYS + 120
    dates = [START_TIME + timedelta(days=d) for d in range(horizon)]
    workday = np.array([d.weekday() < 5 and d.date().isoformat() not in HOLIDAYS for d in dates])
    count = np.cumsum(workday)  # working days up to and including each day
    days = np.array([CATEGORIES[c][1] for c in category])
    working = np.array([CATEGORIES[c][2] == "working" for c in category])
    day = found // DAY
    target_day = np.where(working, np.searchsorted(count, count[day] + days), day + days)
    return found + (target_day - day) * DAY
