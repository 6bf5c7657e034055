"""The WeCom callback crypto against known answers, round trips, and every kind of bad input."""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.wecom.crypto import (
    CallbackRejected,
    WeComCrypto,
    build_xml,
    parse_envelope,
    parse_event,
    signature,
)

# Known answers, each recomputed independently by the author.
VECTORS = [
    pytest.param(
        {
            "token": "QDG6eK",
            "aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
            "timestamp": "1409659589",
            "nonce": "263014780",
            "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE"
            "7OaBO+FZXvnaqQ==",
            "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
            "plaintext": "1616140317555161061",
            "receive_id": "wx5823bf96d3bd56c7",
        },
        id="A",
    ),
    pytest.param(
        {
            "token": "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
            "aes_key": "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
            "timestamp": "1476416373",
            "nonce": "47744683",
            "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVz"
            "EtpbhnFyq6SVHyA==",
            "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
            "plaintext": "1288432023552776189",
            "receive_id": "ww1436e0e65a779aee",
        },
        id="B",
    ),
]

KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP = "ww1436e0e65a779aee"


def _crypto(receive_id: str = CORP) -> WeComCrypto:
    return WeComCrypto("QDG6eK", KEY, receive_id)


def _aes(aes_key: str):
    key = base64.b64decode(aes_key + "=")
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def _raw_decrypt(aes_key: str, encrypted: str) -> bytes:
    d = _aes(aes_key).decryptor()
    return d.update(base64.b64decode(encrypted)) + d.finalize()


def _raw_encrypt(plain: bytes, aes_key: str = KEY) -> str:
    """Ciphertext for hand-made plaintext blocks, padding included: the bad cases below."""
    assert len(plain) % 16 == 0
    e = _aes(aes_key).encryptor()
    return base64.b64encode(e.update(plain) + e.finalize()).decode()


def _framed(message: bytes, receive_id: bytes = CORP.encode(), length: int | None = None):
    n = len(message) if length is None else length
    return b"R" * 16 + struct.pack(">I", n) + message + receive_id


@pytest.mark.parametrize("v", VECTORS)
def test_known_answers(v):
    c = WeComCrypto(v["token"], v["aes_key"], v["receive_id"])
    assert c.sign(v["timestamp"], v["nonce"], v["echostr"]) == v["msg_signature"]
    c.verify(v["msg_signature"], v["timestamp"], v["nonce"], v["echostr"])
    assert c.decrypt(v["echostr"]) == v["plaintext"]
    assert (
        c.open_echostr(v["msg_signature"], v["timestamp"], v["nonce"], v["echostr"])
        == v["plaintext"]
    )
    plain = _raw_decrypt(v["aes_key"], v["echostr"])
    assert plain[-7:] == bytes([7]) * 7 and plain[-8] != 7
    assert plain[-7 - len(v["receive_id"]) : -7] == v["receive_id"].encode()


@pytest.mark.parametrize("v", VECTORS)
def test_encrypt_with_the_vectors_random_gives_the_same_ciphertext(v):
    random16 = _raw_decrypt(v["aes_key"], v["echostr"])[:16]
    c = WeComCrypto(v["token"], v["aes_key"], v["receive_id"])
    assert c.encrypt(v["plaintext"], random16) == v["echostr"]


def test_signature_sorts_its_four_parts():
    assert signature("b", "d", "a", "c") == signature("a", "b", "c", "d")
    assert signature("a", "b", "c", "d") != signature("a", "b", "c", "e")


@pytest.mark.parametrize("unit", ["a", "水"])
def test_round_trip_every_length_up_to_100(unit):
    c = _crypto()
    for n in range(101):
        text = unit * n
        encrypted = c.encrypt(text)
        assert c.decrypt(encrypted) == text
        plain = _raw_decrypt(KEY, encrypted)
        pad = plain[-1]
        assert len(plain) % 32 == 0 and 1 <= pad <= 32 and plain[-pad:] == bytes([pad]) * pad


def test_two_encryptions_differ_but_open_alike():
    c = _crypto()
    a, b = c.encrypt("报修"), c.encrypt("报修")
    assert a != b and c.decrypt(a) == c.decrypt(b) == "报修"


def _rejected(fn, *args) -> str:
    with pytest.raises(CallbackRejected) as info:
        fn(*args)
    return info.value.reason


def test_bad_signature():
    c = _crypto()
    enc = c.encrypt("x")
    good = c.sign("1", "2", enc)
    assert _rejected(c.verify, good[:-1] + ("0" if good[-1] != "0" else "1"), "1", "2", enc) == (
        "bad_signature"
    )
    assert _rejected(c.verify, good, "1", "3", enc) == "bad_signature"
    assert _rejected(c.verify, "", "1", "2", enc) == "bad_signature"
    assert _rejected(c.verify, "签名" * 20, "1", "2", enc) == "bad_signature"
    other = WeComCrypto("another-token", KEY, CORP)
    assert _rejected(c.verify, other.sign("1", "2", enc), "1", "2", enc) == "bad_signature"


def test_wrong_receiveid():
    enc = _crypto("wwSOMEONEELSE").encrypt("<xml/>")
    assert _rejected(_crypto().decrypt, enc) == "bad_receiveid"
    # a receiveid that only starts like ours is not ours
    enc = _crypto(CORP + "x").encrypt("<xml/>")
    assert _rejected(_crypto().decrypt, enc) == "bad_receiveid"


def _padded(body: bytes, pad_byte: int, count: int) -> bytes:
    return body + bytes([pad_byte]) * count


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(lambda body: _padded(body, 0, 32 - len(body) % 32), id="pad byte 0"),
        pytest.param(lambda body: _padded(body + b"\x00" * 32, 33, 32 - len(body) % 32), id="33"),
        pytest.param(
            lambda body: body + bytes([1]) * (31 - len(body) % 32) + bytes([5]), id="inconsistent"
        ),
    ],
)
def test_bad_padding(tail):
    plain = tail(_framed(b"hello"))
    assert len(plain) % 32 == 0
    assert _rejected(_crypto().decrypt, _raw_encrypt(plain)) == "bad_padding"


def test_a_well_padded_hand_made_plaintext_opens():
    """The hand-made framing above is right: without a fault it decrypts."""
    body = _framed(b"hello")
    pad = 32 - len(body) % 32
    assert _crypto().decrypt(_raw_encrypt(_padded(body, pad, pad))) == "hello"


@pytest.mark.parametrize("bad", ["not base64!!", "YWJj*GVm", "水水水水", "QUJD\n=Q=="])
def test_bad_base64(bad):
    assert _rejected(_crypto().decrypt, bad) == "bad_base64"


@pytest.mark.parametrize("size", [0, 15, 20, 33])
def test_ciphertext_not_a_multiple_of_16(size):
    assert _rejected(_crypto().decrypt, base64.b64encode(b"\x01" * size).decode()) == "bad_length"


def test_length_field_larger_than_the_data():
    body = _framed(b"hello", length=1000)
    pad = 32 - len(body) % 32
    assert _rejected(_crypto().decrypt, _raw_encrypt(_padded(body, pad, pad))) == "bad_length"


def test_plaintext_too_short_for_its_header():
    plain = b"R" * 10 + bytes([22]) * 22
    assert _rejected(_crypto().decrypt, _raw_encrypt(plain)) == "bad_length"


def test_message_not_utf8():
    body = _framed(b"\xff\xfe")
    pad = 32 - len(body) % 32
    assert _rejected(_crypto().decrypt, _raw_encrypt(_padded(body, pad, pad))) == "bad_utf8"


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<xml><ToUserName>&d;</ToUserName><Encrypt>abc</Encrypt></xml>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>&x;</ToUserName><Encrypt>abc</Encrypt></xml>"""

PLAIN_DTD = b"""<!DOCTYPE xml><xml><Encrypt>abc</Encrypt></xml>"""


@pytest.mark.parametrize("xml", [BOMB, XXE, PLAIN_DTD], ids=["bomb", "xxe", "dtd"])
def test_xml_with_a_dtd_is_refused(xml):
    assert _rejected(parse_envelope, xml) == "bad_xml"
    assert _rejected(parse_event, xml.decode()) == "bad_xml"


def test_an_encrypted_entity_bomb_is_refused_after_a_valid_signature():
    c = _crypto()
    body, sig = c.seal(BOMB.decode(), "1", "2")
    assert _rejected(c.open_callback, sig, "1", "2", body) == "bad_xml"


@pytest.mark.parametrize(
    "xml",
    [b"", b"not xml", b"<xml><Encrypt>abc</Encrypt>", b"<root><Encrypt>a</Encrypt></root>"]
    + [b"<xml><ToUserName>ww</ToUserName></xml>", b"<xml><Encrypt></Encrypt></xml>"],
)
def test_malformed_envelopes(xml):
    assert _rejected(parse_envelope, xml) == "bad_xml"


def test_envelope_fields_with_cdata():
    xml = (
        b"<xml><ToUserName><![CDATA[ww123]]></ToUserName><Encrypt><![CDATA[abc=]]></Encrypt>"
        b"<AgentID><![CDATA[]]></AgentID></xml>"
    )
    assert parse_envelope(xml) == ("ww123", "abc=", "")


def test_seal_and_open_a_callback():
    c = _crypto()
    event = {
        "ToUserName": CORP,
        "CreateTime": "1348831860",
        "MsgType": "event",
        "Event": "kf_msg_or_event",
        "Token": "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR",
        "OpenKfId": "wkAJ2GCAAASSm4",
    }
    body, sig = c.seal(build_xml(event), "1348831860", "nonce1")
    envelope = parse_envelope(body)
    assert envelope.to_user == CORP and envelope.agent_id == ""
    assert sig == signature("QDG6eK", "1348831860", "nonce1", envelope.encrypt)
    assert c.open_callback(sig, "1348831860", "nonce1", body) == event
    assert _rejected(c.open_callback, sig, "1348831861", "nonce1", body) == "bad_signature"


def test_build_xml_escapes_what_it_carries():
    fields = {"Content": "a < b & <![CDATA[x]]> 水"}
    assert parse_event(build_xml(fields)) == fields


@pytest.mark.parametrize("key", ["short", KEY + "A", KEY[:-1] + "*"])
def test_a_bad_encoding_aes_key_is_a_configuration_error(key):
    with pytest.raises(ValueError):
        WeComCrypto("t", key, CORP)
