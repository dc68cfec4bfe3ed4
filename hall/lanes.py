"""The three lanes and their default weights: plain Python, no Django.

They live on the ground floor because a hall's configuration (its lane settings) names them;
the router (queueing/router.py) re-exports them and stays free of Django.
"""

from enum import StrEnum


class Lane(StrEnum):
    VIP = "vip"
    PRIORITY = "priority"
    NORMAL = "normal"


LANE_RANK = {Lane.VIP: 0, Lane.PRIORITY: 1, Lane.NORMAL: 2}
DEFAULT_WEIGHTS = {Lane.VIP: 4.0, Lane.PRIORITY: 2.0, Lane.NORMAL: 1.0}
