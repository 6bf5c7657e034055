from dialogs.phone import normalize_phone

from .dialog_driver import Owner, identified_owner


async def test_start_greets_and_asks_for_contact_with_privacy_line():
    o = Owner()
    await o.send("/start")
    assert "您好" in o.text and "悦居物业客服" in o.text
    assert "只用于" in o.text  # why and how the number is used
    assert o.last.replies[-1].request_contact
    assert "你" not in o.text


async def test_contact_match_is_read_back_and_confirmed():
    o = Owner()
    await o.send("/start")
    await o.contact("+86 138-0000-0301")
    assert "您是3栋1单元3A室的王女士，对吗？" in o.text.replace("<b>", "").replace("</b>", "")
    await o.press("是")
    assert o.step == "menu.main"
    assert o.state["profile"]["salutation"] == "王女士"
    assert o.state["profile"]["unit"]["verified"] is True


def test_phone_normalisation_both_sides():
    for raw in ("+86 138 0000 0301", "86-138-0000-0301", "138 0000 0301", "008613800000301"):
        assert normalize_phone(raw) == "13800000301"


async def test_someone_elses_contact_is_refused_and_step_kept():
    o = Owner()
    await o.send("/start")
    await o.contact("13800000301", own=False)
    assert "本人" in o.text
    assert o.step == "id.contact"
    assert "salutation" not in o.state["profile"]


async def test_several_units_under_one_phone_are_offered_as_buttons():
    o = Owner()
    await o.send("/start")
    await o.contact("13800000501")
    assert o.step == "id.pick"
    assert any("1202" in lb for lb in o.labels)
    await o.press("1202")
    await o.press("是")
    assert o.state["profile"]["unit"]["room"] == "1202"


async def test_no_match_goes_step_by_step_and_typed_3F_offers_nearest_known():
    o = Owner()
    await o.send("/start")
    await o.contact("13999999999")
    assert o.step == "id.building"
    await o.press("3栋")
    await o.press("1单元")
    await o.send("3F")  # not in the registry: the 3A/3E lesson
    assert o.step == "id.suggest"
    # the nearest known rooms are offered: 3E (F→E, one letter away) and 3A (same floor)
    assert "3E室" in o.labels and "3A室" in o.labels
    await o.press("3E室")
    await o.press("是")
    await o.press("我是业主本人")
    await o.send("赵")
    await o.press("赵先生")
    assert o.state["profile"]["salutation"] == "赵先生"
    assert o.state["profile"]["unit"]["verified"] is True
    assert o.step == "menu.main"


async def test_unmatched_unit_is_kept_and_marked_unverified():
    o = Owner()
    await o.send("/start")
    await o.press("手动填写房号")
    await o.press("3栋")
    await o.press("1单元")
    await o.send("9Z")
    await o.press("就按")
    assert "没有在登记信息中核实到" in o.text  # the readback tells it is not verified
    await o.press("是")
    await o.press("租户")
    await o.send("李")
    await o.press("李先生")
    assert o.step == "id.phone"
    await o.send("139 1234 5678")
    p = o.state["profile"]
    assert p["unit"]["verified"] is False and p["unit"]["room"] == "9Z"
    assert p["phone"] == "13912345678" and p["role"] == "tenant"


async def test_not_me_goes_to_manual_entry():
    o = Owner()
    await o.send("/start")
    await o.contact("13800000301")
    await o.press("不是")
    assert o.step == "id.building"


async def test_returning_owner_is_greeted_by_salutation_and_sees_menu():
    o = await identified_owner()
    await o.send("/start")
    assert "王女士" in o.text and "欢迎回来" in o.text
    assert o.step == "menu.main"


async def test_compound_surname_in_manual_entry():
    o = Owner()
    await o.send("/start")
    await o.press("手动填写房号")
    await o.press("1栋")
    await o.press("2单元")
    await o.press("201室")
    await o.press("是")
    await o.press("业主的家人")
    await o.send("欧阳")
    await o.press("欧阳女士")
    await o.send("13912345678")
    assert o.state["profile"]["salutation"] == "欧阳女士"


async def test_typed_phone_at_contact_step_asks_for_button():
    o = Owner()
    await o.send("/start")
    await o.send("13800000301")
    assert o.step == "id.contact"
    assert "分享我的手机号" in o.text
