"""The hall's local day: one copy for every report, page and check that needs its bounds."""

import datetime


def local_day(*, hall, date: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of ``date`` in the hall's timezone, as aware datetimes (midnight to the next
    midnight; a day may be 23 or 25 hours long)."""
    start = datetime.datetime.combine(date, datetime.time.min, tzinfo=hall.tz)
    end = datetime.datetime.combine(date + datetime.timedelta(days=1), datetime.time.min, hall.tz)
    return start, end
