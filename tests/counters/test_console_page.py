"""The clerk console pages: who may open them, signing in at a counter, and what a clerk sees
(the ticket with its lane, reason, masked phone and the elderly reminder, the standard phrase of
the step, today's count, the waiting tickets this counter can serve).

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only.
"""

import json
import re

import pytest
from django.urls import reverse

from counters.services import (
    counter_call_next,
    counter_finish,
    counter_open,
    counter_pause,
    counter_start,
)
from hall.models import PhraseStep, StandardPhrase
from tests.conftest import counter
from tests.factories import issue

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def phrases(hall):
    payment = hall.business_types.get(code="payment")
    for step, text in [
        (PhraseStep.GREET, "您好!请问您缴费吗?"),
        (PhraseStep.CONFIRM, "请问您的号码是多少?"),
        (PhraseStep.CLOSE, "请您慢走,欢迎再来!"),
    ]:
        StandardPhrase.objects.create(hall=hall, business_type=payment, step=step, text=text)
    StandardPhrase.objects.create(hall=hall, step=PhraseStep.GREET, text="您好!欢迎光临")
    StandardPhrase.objects.create(hall=hall, step=PhraseStep.RESUME, text="让您久等了。")
    StandardPhrase.objects.create(
        hall=hall, step=PhraseStep.TRANSFER, text="您办理的业务请到X号窗口,我已为您转接。"
    )


def console_url(c) -> str:
    return reverse("console-counter", args=[c.pk])


def panel(client, c, **extra) -> str:
    response = client.get(reverse("console-panel", args=[c.pk]), **extra)
    assert response.status_code == 200
    return response.content.decode()


def actions(html: str) -> dict:
    found = re.search(r'<script id="console-actions" type="application/json">(.*?)</script>', html)
    return json.loads(found.group(1))


# --- who may open it -------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client, hall):
    response = client.get("/console/h1/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/console/h1/")


@pytest.mark.parametrize("who", ["greeter", "outsider"])
def test_greeters_and_other_halls_get_a_clear_403(client, hall, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get("/console/h1/", **ENGLISH)
    assert response.status_code == 403
    assert "clerks and managers" in response.content.decode()
    response = client.get(console_url(counter(hall, 1)), **ENGLISH)
    assert response.status_code == 403


def test_unknown_hall_and_counter_get_a_404_page(client, clerk_a):
    client.force_login(clerk_a)
    assert client.get("/console/nowhere/").status_code == 404
    assert client.get("/console/counters/999999/").status_code == 404


def test_clerk_sees_every_counter_with_state_and_who_is_signed_in(client, hall, clerk_a, clerk_b):
    counter_open(counter_id=counter(hall, 2).pk, user=clerk_b)
    client.force_login(clerk_a)
    html = client.get("/console/h1/", **ENGLISH).content.decode()
    assert html.count('data-open-counter="') == 3  # 1, 3 and 4 are closed: sign in there
    row = re.search(r'<tr data-counter="2">.*?</tr>', html, re.S).group(0)
    assert "clerk_b" in row and "Taken" in row and "Bill payment" in row
    assert f'data-open-counter="{counter(hall, 1).pk}"' in html


def test_clerk_signed_in_at_a_counter_goes_straight_to_it(client, hall, clerk_a):
    c = counter(hall, 2)
    counter_open(counter_id=c.pk, user=clerk_a)
    client.force_login(clerk_a)
    response = client.get("/console/h1/")
    assert response.status_code == 302
    assert response["Location"] == console_url(c)


def test_clerk_cannot_work_another_clerks_counter(client, hall, clerk_a, clerk_b):
    c = counter(hall, 2)
    counter_open(counter_id=c.pk, user=clerk_b)
    client.force_login(clerk_a)
    assert client.get(console_url(c)).status_code == 403
    assert client.get(reverse("console-panel", args=[c.pk])).status_code == 403
    assert client.get(reverse("console-transfer", args=[c.pk])).status_code == 403


def test_a_closed_counters_console_sends_a_clerk_to_the_list(client, hall, clerk_a):
    client.force_login(clerk_a)
    response = client.get(console_url(counter(hall, 1)))
    assert response.status_code == 302 and response["Location"] == "/console/h1/"


def test_manager_may_open_any_counters_console(client, hall, clerk_a, manager):
    c = counter(hall, 2)
    counter_open(counter_id=c.pk, user=clerk_a)
    client.force_login(manager)
    assert client.get(console_url(c)).status_code == 200
    closed = client.get(console_url(counter(hall, 4)), **ENGLISH).content.decode()
    assert actions(closed)["open"] is True and actions(closed)["call-next"] is False


# --- what the clerk sees ---------------------------------------------------------------------


def test_console_shows_masked_phone_lane_reason_and_elderly_reminder(client, hall, clerk_a):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a)
    issue(hall, "payment", by=clerk_a, reason="elderly", phone="13812345678")
    counter_call_next(counter_id=c.pk, user=clerk_a)
    client.force_login(clerk_a)
    html = client.get(console_url(c), **ENGLISH).content.decode()
    assert "*******5678" in html
    assert "13812345678" not in html
    assert "Priority: elderly" in html
    assert "data-help-reminder" in html and "help them actively and explain patiently" in html
    assert "A001" in html and "Bill payment" in html
    assert "0 / 3" in html  # recall count and the hall's limit


def test_no_reminder_for_a_normal_customer(client, hall, clerk_a):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a)
    issue(hall, "payment", by=clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    client.force_login(clerk_a)
    assert "data-help-reminder" not in panel(client, c)


def test_business_type_names_follow_the_language(client, hall, clerk_a):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a)
    issue(hall, "topup", by=clerk_a)
    client.force_login(clerk_a)
    assert "Top-up" in panel(client, c, **ENGLISH)
    chinese = panel(client, c, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "预存" in chinese and "Top-up" not in chinese


def test_phrases_follow_the_step_greet_confirm_close(client, hall, clerk_a, phrases):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a)
    issue(hall, "payment", by=clerk_a)
    client.force_login(clerk_a)
    assert "data-step=" not in panel(client, c)  # nobody called: no phrase to say

    counter_call_next(counter_id=c.pk, user=clerk_a)
    html = panel(client, c)
    assert 'data-step="greet"' in html and "请问您缴费吗" in html
    assert "您好!欢迎光临" not in html  # the type's own phrase, not the hall-wide fallback

    counter_start(counter_id=c.pk, user=clerk_a)
    html = panel(client, c)
    assert 'data-step="confirm"' in html and "请问您的号码是多少" in html

    counter_finish(counter_id=c.pk, user=clerk_a)
    html = panel(client, c)
    assert 'data-step="close"' in html and "请您慢走" in html


def test_a_type_without_phrases_falls_back_to_the_hall_wide_ones(client, hall, clerk_a, phrases):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a)
    issue(hall, "topup", by=clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    client.force_login(clerk_a)
    assert "您好!欢迎光临" in panel(client, c)


def test_paused_console_shows_apology_and_resume_phrase(client, hall, clerk_a, phrases):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a)
    counter_pause(counter_id=c.pk, user=clerk_a, reason="phone_call", note="回电")
    client.force_login(clerk_a)
    html = panel(client, c)
    assert "工作人员正在接听业务电话" in html and "让您久等了" in html
    paused = actions(html)
    assert paused["resume"] and not paused["pause"] and not paused["call-next"]


def test_todays_count_by_the_clerk_and_by_the_counter(client, hall, clerk_a, clerk_b):
    c1, c2 = counter(hall, 1), counter(hall, 2)
    counter_open(counter_id=c1.pk, user=clerk_a)
    counter_open(counter_id=c2.pk, user=clerk_b)
    for c, clerk in ((c1, clerk_a), (c1, clerk_a), (c2, clerk_b)):
        issue(hall, "payment", by=clerk_a)
        counter_call_next(counter_id=c.pk, user=clerk)
        counter_start(counter_id=c.pk, user=clerk)
        counter_finish(counter_id=c.pk, user=clerk)
    client.force_login(clerk_a)
    assert "Served today: 2 by you · 2 at this counter" in panel(client, c1, **ENGLISH)


def test_waiting_list_holds_what_this_counter_can_serve(client, hall, clerk_a):
    c = counter(hall, 1)  # payment and topup
    counter_open(counter_id=c.pk, user=clerk_a)
    payment = issue(hall, "payment", by=clerk_a, lane="vip", reason="vip")
    service = issue(hall, "service", by=clerk_a)
    client.force_login(clerk_a)
    html = panel(client, c, **ENGLISH)
    assert f'data-waiting="{payment.number}"' in html
    assert f'data-waiting="{service.number}"' not in html
    assert "1 waiting for this counter" in html


def test_waiting_list_holds_the_customer_greeted_at_a_busy_counter_it_would_take(
    client, hall, clerk_a, clerk_b
):
    """Issue 16: counter 1 calls one and greets the next; counter 2 (payment too) would take
    the greeted customer while counter 1 is busy, so its list shows them, first, unless the hall
    keeps the stricter binding (the greeted customer waits for counter 1)."""
    c1, c2 = counter(hall, 1), counter(hall, 2)
    counter_open(counter_id=c1.pk, user=clerk_a)
    counter_open(counter_id=c2.pk, user=clerk_b)
    _first, greeted, later = (issue(hall, "payment", by=clerk_a) for _ in range(3))
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    greeted.refresh_from_db()
    assert (greeted.window_slot, greeted.window_counter_id) == ("greeted", c1.pk)
    client.force_login(clerk_b)
    html = panel(client, c2, **ENGLISH)
    shown = re.findall(r'data-waiting="([^"]+)"', html)
    assert shown == [greeted.number, later.number]
    assert "2 waiting for this counter" in html

    hall.greeting_binds_counter = True
    hall.save(update_fields=["greeting_binds_counter"])
    html = panel(client, c2, **ENGLISH)
    assert re.findall(r'data-waiting="([^"]+)"', html) == [later.number]
    assert "1 waiting for this counter" in html


def test_buttons_that_cannot_apply_are_disabled(client, hall, clerk_a):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a)
    client.force_login(clerk_a)
    idle = actions(panel(client, c))
    assert idle["call-next"] and idle["pause"] and idle["close"]
    assert not (idle["recall"] or idle["start"] or idle["finish"] or idle["transfer"])
    issue(hall, "payment", by=clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    called = actions(panel(client, c))
    assert called["recall"] and called["start"] and called["no-show"] and called["transfer"]
    assert not (called["call-next"] or called["finish"] or called["close"])
    counter_start(counter_id=c.pk, user=clerk_a)
    serving = actions(panel(client, c))
    assert serving["finish"] and serving["transfer"]
    assert not (serving["start"] or serving["recall"] or serving["no-show"])


def test_console_page_documents_the_keys_and_connects_both_streams(client, hall, clerk_a):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a)
    client.force_login(clerk_a)
    html = client.get(console_url(c)).content.decode()
    for key in ("N", "R", "S", "F", "X", "T", "P", "Q"):
        assert f'<span class="key" aria-hidden="true">{key}</span>' in html
    assert f"/ws/counters/{c.pk}/display/" in html and "/ws/halls/h1/display/" in html


def test_pause_dialog_lists_every_reason_with_its_apology(client, hall, clerk_a):
    from counters.apologies import apology_for
    from counters.models import PauseReason

    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a)
    client.force_login(clerk_a)
    html = client.get(console_url(c)).content.decode()
    for reason in PauseReason.values:
        assert f'value="{reason}"' in html
        assert apology_for(reason)[0] in html


def test_transfer_dialog_fills_the_counter_number_into_the_phrase(
    client, hall, clerk_a, clerk_b, phrases
):
    c1, c2 = counter(hall, 1), counter(hall, 2)
    counter_open(counter_id=c1.pk, user=clerk_a)
    counter_open(counter_id=c2.pk, user=clerk_b)
    issue(hall, "payment", by=clerk_a)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    client.force_login(clerk_a)
    html = client.get(reverse("console-transfer", args=[c1.pk])).content.decode()
    assert f'value="counter:{c2.pk}"' in html
    assert "请到2号窗口" in html


def test_transfer_dialog_without_a_ticket_says_so(client, hall, clerk_a):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a)
    client.force_login(clerk_a)
    html = client.get(reverse("console-transfer", args=[c.pk]), **ENGLISH).content.decode()
    assert 'name="target"' not in html and "no called or serving ticket" in html
