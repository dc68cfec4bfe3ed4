"""The apology shown to customers while a counter is paused, per reason (服务中断致歉)."""

from counters.models import PauseReason

GENERAL_ZH = "暂停服务,给您带来不便,敬请谅解"
GENERAL_EN = "Service paused. We apologise for the inconvenience."

_BY_REASON = {
    PauseReason.PHONE_CALL: ("工作人员正在接听业务电话", "The clerk is taking a service call"),
    PauseReason.FETCHING_MATERIALS: ("工作人员正在取资料", "The clerk is fetching materials"),
    PauseReason.SYSTEM_FAULT: (
        "系统暂时故障,我们已通知相关部门尽快处理",
        "The system is temporarily down; the responsible team has been notified",
    ),
    PauseReason.BREAK: ("工作人员短暂休息", "The clerk is on a short break"),
    PauseReason.HANDOVER: ("工作人员正在交接班", "Staff handover in progress"),
    PauseReason.OTHER: ("请您稍等片刻", "Please wait a moment"),
}


def apology_for(reason: str) -> tuple[str, str]:
    """(Chinese, English) apology for a pause reason, e.g. for the counter display."""
    zh, en = _BY_REASON[PauseReason(reason)]
    return f"{zh},{GENERAL_ZH}。", f"{en}. {GENERAL_EN}"
