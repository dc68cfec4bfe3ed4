"""The complaints page (/console/<hall>/complaints/): a clerk registers a complaint, from the
ticket being served or on its own, sees their open complaints with the time to each deadline, and
records the reply; a manager sees the hall's; greeters and strangers are refused."""

import datetime
import re

import time_machine

from counters.services import counter_call_next, counter_open, counter_start
from recovery.complaints import complaint_register
from recovery.models import Complaint, ComplaintStatus
from tests.conftest import counter
from tests.factories import issue

URL = "/console/h1/complaints/"
NOON = datetime.datetime(2026, 3, 2, 4, 0, tzinfo=datetime.UTC)  # 12:00 in Shanghai


def serving(hall, greeter, clerk, phone="13912345678"):
    ticket = issue(hall, by=greeter, phone=phone)
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk)
    counter_call_next(counter_id=c.pk, user=clerk)
    counter_start(counter_id=c.pk, user=clerk)
    return ticket


def test_the_form_offers_the_ticket_being_served_with_its_phone(client, hall, greeter, clerk_a):
    ticket = serving(hall, greeter, clerk_a)
    client.force_login(clerk_a)

    page = client.get(URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert f'name="ticket" value="{ticket.pk}" checked' in html
    assert 'value="13912345678"' in html  # the callback phone, to confirm with the customer
    assert 'value="120"' in html  # the hall's default promise


def test_a_clerk_registers_a_complaint_and_sees_it_with_its_deadline(
    client, hall, greeter, clerk_a
):
    ticket = serving(hall, greeter, clerk_a)
    client.force_login(clerk_a)
    with time_machine.travel(NOON, tick=False):
        response = client.post(
            URL,
            {
                "action": "register",
                "ticket": str(ticket.pk),
                "category": "billing",
                "description": "话费多扣二十元",
                "customer_name": "王女士",
                "customer_phone": "13912345678",
                "callback_minutes": "90",
            },
        )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.owner, complaint.ticket, complaint.callback_due_at) == (
        clerk_a,
        ticket,
        NOON + datetime.timedelta(minutes=90),
    )

    with time_machine.travel(NOON + datetime.timedelta(minutes=65), tick=False):
        html = client.get(URL).content.decode()
    assert f'data-complaint="{complaint.pk}"' in html
    assert "话费多扣二十元" in html
    assert "13:30" in html  # call back by, local time
    # 25 minutes left: within the reminder lead, so marked as due soon.
    assert re.search(r"data-deadline>[^<]*(?<!\d)25(?!\d)", html)
    assert 'class="card complaint soon"' in html


def test_a_bad_registration_shows_the_errors_and_keeps_what_was_typed(client, hall, clerk_a):
    client.force_login(clerk_a)
    response = client.post(
        URL,
        {"action": "register", "category": "billing", "description": " ", "customer_phone": "x"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'value="x"' in html
    assert not Complaint.objects.exists()


def test_the_owner_records_the_reply_and_a_second_reply_is_refused(client, hall, clerk_a):
    complaint = complaint_register(
        hall=hall, owner=clerk_a, category="network", description="没信号"
    )
    client.force_login(clerk_a)

    done = client.post(URL, {"action": "reply", "complaint": complaint.pk, "reply": "已派人检修"})
    assert done.status_code == 302
    assert Complaint.objects.get().status == ComplaintStatus.REPLIED
    page = client.get(URL).content.decode()
    assert "已派人检修" in page  # under "replied today"
    assert f'data-complaint="{complaint.pk}"' not in page

    again = client.post(URL, {"action": "reply", "complaint": complaint.pk, "reply": "again"})
    assert again.status_code == 409
    assert Complaint.objects.get().reply == "已派人检修"


def test_a_clerk_sees_their_own_a_manager_the_whole_halls(client, hall, clerk_a, clerk_b, manager):
    mine = complaint_register(hall=hall, owner=clerk_a, category="other", description="一")
    theirs = complaint_register(hall=hall, owner=clerk_b, category="other", description="二")
    client.force_login(clerk_a)
    html = client.get(URL).content.decode()
    assert f'data-complaint="{mine.pk}"' in html and f'data-complaint="{theirs.pk}"' not in html
    client.force_login(manager)
    html = client.get(URL).content.decode()
    assert f'data-complaint="{mine.pk}"' in html and f'data-complaint="{theirs.pk}"' in html
    assert "/console/h1/interruptions/" in html


def test_greeters_and_outsiders_are_refused(client, hall, greeter, outsider):
    for person in (greeter, outsider):
        client.force_login(person)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"action": "register"}).status_code == 403
    client.force_login(greeter)
    assert client.get("/console/nowhere/complaints/").status_code == 404
    assert not Complaint.objects.exists()


def test_the_console_and_the_start_page_link_to_the_complaints_page(client, hall, clerk_a):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a)
    client.force_login(clerk_a)
    assert f'href="{URL}"' in client.get(f"/console/counters/{c.pk}/").content.decode()
    assert f'href="{URL}"' in client.get("/").content.decode()
