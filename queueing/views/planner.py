"""The staffing planner page: a hall manager's what-if (queueing.planning) in the browser.

``/planner/<hall>/`` shows the day's arrival profile and counters per hour as a form (both
editable per hour), the expected waits and service level per hour as a table and a chart
(uPlot, vendored), and on request the fewest counters per hour that meet the target, with one
button that applies them to the inputs. Everything runs on the server on submit: an ordinary
form POST, so the page works without its script (the script draws the chart and says that the
search is running). One evaluation of the demo hall takes well under a second; the search a few
seconds (deploy/bench/results/planner.md). Managers of the hall only; anyone else signed in
gets a 403 page that says why.
"""

import datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hall.models import Hall, Role
from hall.pages import Refused, refused_page, staff_hall
from queueing import planning

SCREEN = gettext_lazy("Staffing planner")

MAX_ARRIVALS = 1000  # customers in one hour, hall-wide: more is a typo, and would be slow

ACTIONS = ("evaluate", "suggest", "apply")


def _admit(request, code: str) -> Hall:
    hall, _role = staff_hall(
        user=request.user,
        code=code,
        roles=(Role.MANAGER,),
        refusal=gettext_lazy("The staffing planner is for this hall's managers."),
    )
    return hall


class PlannerForm(forms.Form):
    """Customers and counters per hour of the plan, the target, and the last suggestion."""

    target = forms.IntegerField(min_value=50, max_value=99)
    basis = forms.CharField(required=False)  # the customers and target the suggestion is for

    def __init__(self, *args, plan: planning.Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        for hour in plan.hours:
            self.fields[f"arrivals_{hour}"] = forms.FloatField(min_value=0, max_value=MAX_ARRIVALS)
            self.fields[f"counters_{hour}"] = forms.IntegerField(
                min_value=0, max_value=plan.max_counters
            )
            self.fields[f"suggested_{hour}"] = forms.IntegerField(
                min_value=0, max_value=plan.max_counters, required=False
            )

    def rows(self):
        return [
            (hour, self[f"arrivals_{hour}"], self[f"counters_{hour}"], self[f"suggested_{hour}"])
            for hour in self.plan.hours
        ]


def _day(request, hall: Hall) -> datetime.date:
    raw = request.POST.get("day") or request.GET.get("day")
    try:
        return datetime.date.fromisoformat(raw) if raw else hall.service_date()
    except ValueError:
        return hall.service_date()


def _initial(plan: planning.Plan, hall: Hall) -> dict:
    data = {"target": hall.service_level_target_percent, "basis": ""}
    for hour in plan.hours:
        data[f"arrivals_{hour}"] = round(plan.expected_arrivals(hour), 1)
        data[f"counters_{hour}"] = plan.max_counters
        data[f"suggested_{hour}"] = None
    return data


def _open_share(plan: planning.Plan, hour: int) -> float:
    sc = plan.scenario
    return max(0.0, min(hour + 1, sc.end_hour) - max(hour, sc.start_hour))


def _edited_plan(plan: planning.Plan, data: dict) -> planning.Plan:
    """The plan with the hours whose customers the manager changed (as whole-hour rates)."""
    changed = {}
    for hour in plan.hours:
        wanted = data[f"arrivals_{hour}"]
        if abs(wanted - round(plan.expected_arrivals(hour), 1)) > 0.05:
            changed[hour] = wanted / (_open_share(plan, hour) or 1.0)
    return planning.scale_profile(plan, changed) if changed else plan


@login_required
def planner(request, hall: str):
    """/planner/<hall>/: GET shows the day with every counter open; POST evaluates the inputs
    (``action=evaluate``), searches the fewest counters (``suggest``) or takes the suggestion
    into the inputs and evaluates it (``apply``)."""
    try:
        hall = _admit(request, hall)
    except Refused as refusal:
        return refused_page(request, screen=SCREEN, message=refusal.message, status=refusal.status)
    day = _day(request, hall)
    try:
        plan = planning.scenario_for_hall(hall=hall, day=day)
    except planning.PlanningError as exc:
        return refused_page(request, screen=SCREEN, message=str(exc), status=200)

    if request.method == "POST":
        action = request.POST.get("action")
        form = PlannerForm(request.POST, plan=plan)
    else:
        action = "evaluate"
        form = PlannerForm(_as_post(_initial(plan, hall), day), plan=plan)
    action = action if action in ACTIONS else "evaluate"

    evaluation = suggestion = rules = None
    problem = ""
    if form.is_valid():
        data = dict(form.cleaned_data)
        if data["basis"] != _basis(plan, data):  # customers or target changed: stale suggestion
            data |= {f"suggested_{h}": None for h in plan.hours}
            form.cleaned_data = data
        if action == "apply" and _suggested(form, plan):
            data |= {f"counters_{h}": n for h, n in _suggested(form, plan).items()}
        try:
            edited = _edited_plan(plan, data)
            staffing = {h: data[f"counters_{h}"] for h in plan.hours}
            target = data["target"] / 100
            evaluation = planning.evaluate(
                scenario=edited, counters_per_hour=staffing, target_share=target
            )
            # Issue 16: what the older greeting rule costs on this very day (or saves).
            rules = planning.greeting_rules(scenario=edited, evaluation=evaluation)
            if action == "suggest":
                suggestion = planning.suggest(scenario=edited, target_share=target)
                data |= {f"suggested_{h}": n for h, n in suggestion.counters_per_hour.items()}
                data["basis"] = _basis(plan, data)
        except planning.PlanningError as exc:
            problem = str(exc)
        form = PlannerForm(_as_post(data, day), plan=plan)  # what the page shows now
        form.is_valid()
    else:
        problem = _("Please correct the marked hours.")

    context = {
        "hall": hall,
        "day": day,
        "plan": plan,
        "form": form,
        "evaluation": evaluation,
        "suggestion": suggestion,
        "suggested": _suggested(form, plan),
        "problem": problem,
        "rows": _rows(form, plan, evaluation, suggestion),
        "summary": _summary(plan, evaluation, form),
        "rules": _rules(rules),
        "chart": _chart(plan, evaluation, form),
        "target_wait_minutes": round(plan.scenario.target_wait_s / 60),
        "replications": plan.scenario.replications,
    }
    return render(request, "queueing/planner.html", context)


def _basis(plan: planning.Plan, data: dict) -> str:
    return ",".join(f"{data[f'arrivals_{h}']:g}" for h in plan.hours) + f";{data['target']}"


def _as_post(data: dict, day: datetime.date) -> dict:
    return {key: "" if value is None else value for key, value in data.items()} | {
        "day": day.isoformat()
    }


def _suggested(form, plan) -> dict | None:
    """The suggestion carried in the form (hidden fields), if every hour has one."""
    data = getattr(form, "cleaned_data", None) or {}
    values = {h: data.get(f"suggested_{h}") for h in plan.hours}
    return values if all(v is not None for v in values.values()) else None


def _rows(form, plan, evaluation, suggestion) -> list[dict]:
    results = {h.hour: h for h in evaluation.hours} if evaluation else {}
    proposed = {h.hour: h for h in suggestion.evaluation.hours} if suggestion else {}
    data = getattr(form, "cleaned_data", None) or {}
    rows = []
    for hour, arrivals, counters, suggested_field in form.rows():
        result = results.get(hour)
        rows.append(
            {
                "hour": hour,
                "label": _clock(max(float(hour), plan.scenario.start_hour)),
                "arrivals": arrivals,
                "counters": counters,
                "suggested": suggested_field,
                "suggested_value": data.get(f"suggested_{hour}"),
                "result": result,
                "mean": _minutes(result.mean_wait_s) if result else None,
                "p90": _minutes(result.p90_wait_s) if result else None,
                "level": _percent(result.service_level) if result else None,
                "suggested_level": (
                    _percent(proposed[hour].service_level) if hour in proposed else None
                ),
            }
        )
    return rows


def _summary(plan, evaluation, form) -> dict | None:
    if evaluation is None:
        return None
    suggested = _suggested(form, plan)
    return {
        "mean": _minutes(evaluation.overall["mean_wait_s"]),
        "level": _percent(evaluation.overall["service_level"]),
        "meets": evaluation.meets_target,
        "counter_hours": sum(evaluation.counters_per_hour.values()),
        "suggested_counter_hours": sum(suggested.values()) if suggested else None,
    }


def _rules(rules: planning.GreetingRules | None) -> dict | None:
    """The greeting rules side by side, in minutes, with the older rule's extra in percent."""
    if rules is None or rules.binds_order_mean_wait_s is None:
        return None
    extra = rules.extra_share
    return {
        "order": _minutes(rules.binds_order_mean_wait_s),
        "counter": _minutes(rules.binds_counter_mean_wait_s),
        "extra": None if extra is None else round(extra * 100, 1),
        "hall_binds_counter": rules.hall_binds_counter,
    }


def _chart(plan, evaluation, form) -> dict | None:
    """What planner.js draws: per hour, minutes and percentages (null where nobody came)."""
    if evaluation is None:
        return None
    hours = evaluation.hours
    suggested = _suggested(form, plan)
    return {
        "hours": [h.hour for h in hours],
        "mean": [_minutes(h.mean_wait_s) for h in hours],
        "p90": [_minutes(h.p90_wait_s) for h in hours],
        "level": [_percent(h.service_level) for h in hours],
        "target_share": round(evaluation.target_share * 100),
        "target_wait": round(evaluation.target_wait_s / 60, 1),
        "counters": [h.counters for h in hours],
        "suggested": [suggested[h.hour] for h in hours] if suggested else None,
        "strings": {
            "mean": _("Mean wait (min)"),
            "p90": _("90% wait within (min)"),
            "level": _("Service level (%)"),
            "target_level": _("Target service level (%)"),
            "target_wait": _("Target wait (min)"),
            "minutes": _("minutes"),
            "percent": _("Served within the target wait (%)"),
            "hour": _("hour"),
        },
    }


def _clock(hour: float) -> str:
    minutes = round(hour * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(seconds):
    return None if seconds is None else round(seconds / 60, 1)


def _percent(share):
    return None if share is None else round(share * 100, 1)


urlpatterns = [path("planner/<slug:hall>/", planner, name="planner")]
