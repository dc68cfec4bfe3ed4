"""Standard phrases (服务标准用语): seeded for the demo hall from DOMAIN.md's table, never
duplicated by seeding again nor undoing a manager's edits, editable per business type in the
admin, and looked up per step with the hall-wide phrases as the fallback."""

import pytest

from config.demo import seed_demo
from counters.selectors import standard_phrases
from hall.models import BusinessType, PhraseStep, StandardPhrase

pytestmark = pytest.mark.django_db


def test_demo_seed_gives_every_business_type_its_greet_confirm_and_close():
    hall = seed_demo()["hall"]
    for bt in BusinessType.objects.filter(hall=hall):
        for step in (PhraseStep.GREET, PhraseStep.CONFIRM, PhraseStep.CLOSE):
            assert bt.phrases.filter(step=step).exists(), (bt.code, step)
    service = hall.business_types.get(code="service")
    assert standard_phrases(hall=hall, step=PhraseStep.CONFIRM, business_type=service) == [
        "请出示您的证件。",
        "(证件不符时)对不起,因为……,请您更换证件。",
        "请您核实后签字。",
    ]
    payment = hall.business_types.get(code="payment")
    assert standard_phrases(hall=hall, step=PhraseStep.CLOSE, business_type=payment) == [
        "请您慢走,欢迎再来!"
    ]
    assert standard_phrases(hall=hall, step=PhraseStep.TRANSFER) == [
        "您办理的业务请到X号窗口,我已为您转接,您无需重新排队。"
    ]
    assert standard_phrases(hall=hall, step=PhraseStep.RESUME) == ["让您久等了。"]


def test_seeding_again_neither_duplicates_nor_undoes_a_managers_edit():
    hall = seed_demo()["hall"]
    count = StandardPhrase.objects.filter(hall=hall).count()
    payment = hall.business_types.get(code="payment")
    greet = payment.phrases.get(step=PhraseStep.GREET)
    greet.text = "您好!欢迎光临,请问您缴费吗?"
    greet.save()
    seed_demo()
    assert StandardPhrase.objects.filter(hall=hall).count() == count
    assert payment.phrases.get(step=PhraseStep.GREET).text == "您好!欢迎光临,请问您缴费吗?"


def test_a_step_without_phrases_of_its_own_falls_back_to_the_hall_wide_ones(hall):
    topup = hall.business_types.get(code="topup")
    StandardPhrase.objects.create(hall=hall, step=PhraseStep.GREET, text="您好!欢迎光临")
    assert standard_phrases(hall=hall, step=PhraseStep.GREET, business_type=topup) == [
        "您好!欢迎光临"
    ]
    StandardPhrase.objects.create(
        hall=hall, business_type=topup, step=PhraseStep.GREET, text="您好!请问您要预存话费吗?"
    )
    assert standard_phrases(hall=hall, step=PhraseStep.GREET, business_type=topup) == [
        "您好!请问您要预存话费吗?"
    ]


def test_phrases_keep_their_order(hall):
    payment = hall.business_types.get(code="payment")
    for order, text in ((2, "第三"), (0, "第一"), (1, "第二")):
        StandardPhrase.objects.create(
            hall=hall, business_type=payment, step=PhraseStep.CONFIRM, text=text, sort_order=order
        )
    assert standard_phrases(hall=hall, step=PhraseStep.CONFIRM, business_type=payment) == [
        "第一",
        "第二",
        "第三",
    ]


def test_manager_edits_a_business_types_phrases_in_the_admin(client, hall, django_user_model):
    admin_user = django_user_model.objects.create_superuser("boss", password="pw")
    client.force_login(admin_user)
    payment = hall.business_types.get(code="payment")
    url = f"/admin/hall/businesstype/{payment.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="phrases-0-text"' in page  # the inline, with an empty row to fill in
    form = {
        "hall": hall.pk,
        "code": "payment",
        "name_zh": "缴费",
        "name_en": "Bill payment",
        "prefix": "A",
        "expected_service_minutes": 3,
        "active": "on",
        "sort_order": 0,
        "phrases-TOTAL_FORMS": 1,
        "phrases-INITIAL_FORMS": 0,
        "phrases-MIN_NUM_FORMS": 0,
        "phrases-MAX_NUM_FORMS": 1000,
        "phrases-0-step": "greet",
        "phrases-0-text": "您好!请问您缴费吗?",
        "phrases-0-sort_order": 0,
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    phrase = payment.phrases.get()
    assert (phrase.hall, phrase.step, phrase.text) == (hall, "greet", "您好!请问您缴费吗?")


def test_hall_wide_phrases_are_edited_on_the_hall(client, hall, django_user_model):
    admin_user = django_user_model.objects.create_superuser("boss", password="pw")
    client.force_login(admin_user)
    payment = hall.business_types.get(code="payment")
    StandardPhrase.objects.create(hall=hall, step=PhraseStep.RESUME, text="让您久等了。")
    StandardPhrase.objects.create(
        hall=hall, business_type=payment, step=PhraseStep.GREET, text="您好!请问您缴费吗?"
    )
    page = client.get(f"/admin/hall/hall/{hall.pk}/change/").content.decode()
    assert "让您久等了。" in page
    assert "请问您缴费吗" not in page  # a business type's phrase is edited on its type
