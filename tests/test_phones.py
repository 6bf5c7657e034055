"""Phone numbers are read one way everywhere (dialogs/phone.py, phonenumbers): the shared contact,
a typed phone, the registry CSV and the workers' roster."""

import pytest

from dialogs.phone import looks_like_phone, mask_phone, normalize_phone
from storage.owner_import import parse

from .dialog_driver import Owner


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("13800000301", "13800000301"),
        ("+86 138 0000 0301", "13800000301"),
        ("86-138-0000-0301", "13800000301"),
        ("8613800000301", "13800000301"),  # how Telegram sends a contact
        ("0086 138 0000 0301", "13800000301"),
        ("１３８ ００００ ０３０１", "13800000301"),  # full-width digits from an input method
        ("0755-12345678", "075512345678"),  # a mainland landline keeps its trunk 0
        ("+86 10 1234 5678", "01012345678"),
        ("+852 9123 4567", "85291234567"),
        ("852-9123-4567", "85291234567"),
        ("00852 2123 4567", "85221234567"),
    ],
)
def test_valid_mainland_and_hong_kong_numbers_become_canonical(raw, canonical):
    assert normalize_phone(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "",
        None,
        "12345",
        "1234567",  # seven digits used to pass as a phone
        "1380000030",  # one digit short
        "138000003011",  # one digit too many
        "91234567",  # 8 digits without +852: not taken as Hong Kong
        "+1 650 253 0000",  # valid, but not mainland China or Hong Kong
        "+852 1234 5678",  # not a Hong Kong number
        "13800000301 13800000302",
        "tel13800000301",
    ],
)
def test_anything_else_is_refused(raw):
    assert normalize_phone(raw) is None


def test_looks_like_phone_and_mask():
    assert looks_like_phone("138 0000 0301") and looks_like_phone("1380000030")
    assert not looks_like_phone("3栋1单元") and not looks_like_phone("12345")
    assert mask_phone("+86 138-0000-0301") == "138****0301"


async def test_typed_phone_in_identify_dialog_must_be_valid():
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
    assert o.step == "id.phone"
    await o.send("1234567")
    assert o.step == "id.phone" and "phone" not in o.state["profile"]
    await o.send("+852 9123 4567")
    assert o.state["profile"]["phone"] == "85291234567"
    assert o.step == "menu.main"


async def test_foreign_contact_is_not_looked_up_and_a_phone_is_asked_later():
    o = Owner()
    await o.send("/start")
    await o.contact("+1 650 253 0000")
    assert o.step == "id.building"
    await o.press("3栋")
    await o.press("1单元")
    await o.send("9Z")
    await o.press("就按")
    await o.press("是")
    await o.press("租户")
    await o.send("李")
    await o.press("李先生")
    # a number the registry cannot hold is not kept as the phone to reach them
    assert o.step == "id.phone"
    await o.send("139 1234 5678")
    assert o.state["profile"]["phone"] == "13912345678"


def test_csv_import_refuses_invalid_phone_with_its_line_and_keeps_canonical_form():
    raw = (
        "building,unit,room,name,salutation,phone\n"
        "3,1,3A,王芳,女士,+86 138-0000-0301\n"
        "3,1,3B,李娜,女士,1234567\n"
        "3,1,3C,陈静,女士,+852 9123 4567\n"
        "3,1,3D,赵磊,先生,+1 650 253 0000\n"
    ).encode()
    rows, report = parse(raw)
    assert not report.ok
    assert report.errors == [(3, "bad_phone", "1234567"), (5, "bad_phone", "+1 650 253 0000")]
    assert [r.phone for r in rows] == ["13800000301", "85291234567"]
