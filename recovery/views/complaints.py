"""The complaints page (首问负责制) for clerks and managers.

``/console/<hall>/complaints/``: register a complaint (optionally about the ticket being served:
``?ticket=<id>``, or the ticket at the clerk's own counter), the open complaints with the time
left to each promised callback, and a reply form on each. A clerk sees the complaints they own;
a manager sees all of the hall's. Plain HTML forms posted to the page itself, which calls the
services and redirects (post/redirect/get), so the page works without JavaScript.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from counters.selectors import clerk_counter
from hall.access import HANDLE_COMPLAINT, admit_to_hall
from hall.days import local_day
from hall.errors import DomainError
from hall.models import Hall, Role
from hall.views import refusal_page
from queueing.models import Ticket
from queueing.selectors import counter_window
from recovery.complaints import MAX_CALLBACK_MINUTES, complaint_register, complaint_reply
from recovery.models import ComplaintCategory, ComplaintStatus
from recovery.selectors import complaint_kpis, complaints_for

COMPLAINTS_SCREEN = gettext_lazy("Complaints")
REPLIED_SHOWN = 20


def time_left(seconds: float) -> str:
    """ "1 h 12 min left" / "overdue by 5 min", whole minutes."""
    minutes = int(abs(seconds) // 60)
    hours, rest = divmod(minutes, 60)
    if seconds >= 0:
        if hours:
            return _("%(hours)s h %(minutes)s min left") % {"hours": hours, "minutes": rest}
        return _("%(minutes)s min left") % {"minutes": rest}
    if hours:
        return _("overdue by %(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}
    return _("overdue by %(minutes)s min") % {"minutes": rest}


def _ticket_choices(request, hall: Hall) -> list:
    """Tickets the complaint may be about: the one named by ``?ticket=`` (of this hall), and the
    one called or being served at the clerk's own counter."""
    tickets = []
    wanted = request.GET.get("ticket") or request.POST.get("ticket")
    if wanted and wanted.isdigit():
        ticket = Ticket.objects.select_related("business_type").filter(pk=wanted, hall=hall)
        tickets.extend(ticket[:1])
    counter = clerk_counter(user=request.user, hall=hall)
    if counter is not None:
        active = counter_window(counter=counter)["active"]
        if active is not None and all(t.pk != active.pk for t in tickets):
            tickets.append(active)
    return tickets


def _register(request, hall: Hall) -> dict | None:
    """Register from the posted form; the field errors, or None when it worked."""

    post = request.POST
    ticket = None
    if post.get("ticket", "").isdigit():
        ticket = Ticket.objects.filter(pk=post["ticket"], hall=hall).first()
        if ticket is None:
            return {"ticket": _("Not a ticket of this hall.")}
    raw_minutes = post.get("callback_minutes", "").strip()
    try:
        minutes = int(raw_minutes) if raw_minutes else None
    except ValueError:
        return {"callback_minutes": _("Between 1 and %(n)s minutes.") % {"n": MAX_CALLBACK_MINUTES}}
    try:
        complaint = complaint_register(
            hall=hall,
            owner=request.user,
            category=post.get("category", ""),
            description=post.get("description", ""),
            ticket=ticket,
            customer_name=post.get("customer_name", ""),
            customer_phone=post.get("customer_phone", ""),
            callback_minutes=minutes,
        )
    except DomainError as error:
        return error.fields or {"form": error.message}
    due = timezone.localtime(complaint.callback_due_at, hall.tz)
    messages.success(
        request,
        _("Complaint #%(id)s registered: you own it. Call the customer back by %(time)s.")
        % {"id": complaint.pk, "time": f"{due:%H:%M}"},
    )
    return None


@login_required
@refusal_page(screen=COMPLAINTS_SCREEN)
def complaints_page(request, hall: str):
    hall_obj, role = admit_to_hall(
        who=request.user, code=hall, action=HANDLE_COMPLAINT, say_code=False
    )
    here = reverse("complaints-page", args=[hall_obj.code])
    errors, reply_errors, status = {}, {}, 200
    if request.method == "POST":
        if request.POST.get("action") == "reply":
            complaint_id = request.POST.get("complaint", "")
            try:
                complaint = complaint_reply(
                    complaint_id=int(complaint_id) if complaint_id.isdigit() else 0,
                    user=request.user,
                    reply=request.POST.get("reply", ""),
                )
            except DomainError as error:
                reply_errors[complaint_id] = (
                    next(iter(error.fields.values())) if error.fields else error.message
                )
                status = error.status_code
            else:
                messages.success(request, _("Complaint #%(id)s replied.") % {"id": complaint.pk})
                return redirect(here)
        else:
            errors = _register(request, hall_obj) or {}
            if not errors:
                return redirect(here)
            status = 400

    now = timezone.now()
    owner = None if role == Role.MANAGER else request.user
    open_complaints = list(complaints_for(hall=hall_obj, status=ComplaintStatus.OPEN, owner=owner))
    soon = datetime.timedelta(minutes=hall_obj.complaint_reminder_minutes)
    for complaint in open_complaints:
        left = (complaint.callback_due_at - now).total_seconds()
        complaint.time_left = time_left(left)
        complaint.urgency = (
            "overdue" if left < 0 else ("soon" if left <= soon.total_seconds() else "")
        )
        complaint.error = reply_errors.get(str(complaint.pk))
    start, end = local_day(hall=hall_obj, date=hall_obj.service_date(now))
    replied = list(
        complaints_for(hall=hall_obj, status=ComplaintStatus.REPLIED, owner=owner).filter(
            replied_at__gte=start
        )[:REPLIED_SHOWN]
    )
    tickets = _ticket_choices(request, hall_obj)
    context = {
        "hall": hall_obj,
        "is_manager": role == Role.MANAGER,
        "categories": ComplaintCategory.choices,
        "tickets": tickets,
        "selected_ticket": request.POST.get("ticket", "")
        if errors
        else (str(tickets[0].pk) if tickets else ""),
        "form": request.POST if errors else {},
        "errors": errors,
        "reply_form": request.POST if reply_errors else {},
        "open_complaints": open_complaints,
        "replied": replied,
        "kpis": complaint_kpis(hall=hall_obj, since=start, until=end, now=now),
        "now": now,
        "max_callback": MAX_CALLBACK_MINUTES,
    }
    return render(request, "hall/complaints.html", context, status=status)
