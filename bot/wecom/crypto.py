"""The WeCom callback's signature and AES, and its XML read safely.

WeCom signs every callback with sha1(sorted(token, timestamp, nonce, encrypted)) and encrypts
the body with AES-256-CBC: key = base64(EncodingAESKey + "="), IV = the key's first 16 bytes,
PKCS#7 padded to a multiple of 32, plaintext = 16 random bytes | 4-byte big-endian length |
message | receiveid (the CorpID). Anything wrong raises CallbackRejected with one short reason,
so the HTTP layer answers 403/400 and logs once, never a 500.

The caller verifies the signature before decrypting: a padding error is then only reachable
with a valid signature, so the distinct reasons leak nothing an attacker could use."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from typing import NamedTuple
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

PAD_BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16
_LENGTH = struct.Struct(">I")


class CallbackRejected(Exception):
    """reason: bad_signature, bad_base64, bad_length, bad_padding, bad_receiveid, bad_utf8,
    bad_xml. Short and fixed, so it can be logged and counted as it is."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Envelope(NamedTuple):
    to_user: str
    encrypt: str
    agent_id: str


class Sealed(NamedTuple):
    """A callback as WeCom posts it: the envelope body and the msg_signature for its query."""

    body: bytes
    msg_signature: str


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    joined = "".join(sorted((token, timestamp, nonce, encrypted)))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def parse_event(xml_text: str | bytes) -> dict[str, str]:
    """A flat WeCom XML document as {tag: text}. A DTD (entity bombs, external entities) is
    refused outright: the XML comes from the internet."""
    try:
        root = fromstring(xml_text, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as e:
        raise CallbackRejected("bad_xml") from e
    if root.tag != "xml":
        raise CallbackRejected("bad_xml")
    return {child.tag: child.text or "" for child in root}


def parse_envelope(xml_bytes: bytes) -> Envelope:
    fields = parse_event(xml_bytes)
    if not fields.get("Encrypt"):
        raise CallbackRejected("bad_xml")
    return Envelope(fields.get("ToUserName", ""), fields["Encrypt"], fields.get("AgentID", ""))


def build_xml(fields: dict[str, str]) -> str:
    """The inverse of parse_event: <xml><Tag>text</Tag>...</xml>, escaped by ElementTree."""
    root = Element("xml")
    for tag, text in fields.items():
        SubElement(root, tag).text = text
    return tostring(root, encoding="unicode")


class WeComCrypto:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str):
        if len(encoding_aes_key) != 43:
            raise ValueError("EncodingAESKey must be 43 characters")
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as e:
            raise ValueError("EncodingAESKey is not base64") from e
        self.token = token
        self.receive_id = receive_id
        self._key = key
        self._iv = key[:16]

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._iv))

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = self.sign(timestamp, nonce, encrypted).encode("ascii")
        # bytes on both sides: compare_digest refuses non-ASCII str, and the signature is
        # whatever the internet sent
        if not hmac.compare_digest(expected, msg_signature.encode("utf-8", "replace")):
            raise CallbackRejected("bad_signature")

    def encrypt(self, plaintext: str, random16: bytes | None = None) -> str:
        random16 = os.urandom(16) if random16 is None else random16
        if len(random16) != 16:
            raise ValueError("random16 must be 16 bytes")
        message = plaintext.encode("utf-8")
        body = random16 + _LENGTH.pack(len(message)) + message + self.receive_id.encode("utf-8")
        pad = PAD_BLOCK - len(body) % PAD_BLOCK
        encryptor = self._cipher().encryptor()
        sealed = encryptor.update(body + bytes([pad]) * pad) + encryptor.finalize()
        return base64.b64encode(sealed).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as e:
            raise CallbackRejected("bad_base64") from e
        if not data or len(data) % 16:
            raise CallbackRejected("bad_length")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= PAD_BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CallbackRejected("bad_padding")
        content = plain[:-pad]
        if len(content) < 20:
            raise CallbackRejected("bad_length")
        (length,) = _LENGTH.unpack_from(content, 16)
        if 20 + length > len(content):
            raise CallbackRejected("bad_length")
        message, receive_id = content[20 : 20 + length], content[20 + length :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode("utf-8")):
            raise CallbackRejected("bad_receiveid")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CallbackRejected("bad_utf8") from e

    def open_echostr(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The GET handshake when the callback URL is saved: answer with what this returns."""
        self.verify(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def open_callback(
        self, msg_signature: str, timestamp: str, nonce: str, body: bytes
    ) -> dict[str, str]:
        """A POSTed callback, checked and opened: the event's fields ({tag: text})."""
        envelope = parse_envelope(body)
        self.verify(msg_signature, timestamp, nonce, envelope.encrypt)
        return parse_event(self.decrypt(envelope.encrypt))

    def seal(
        self,
        plaintext_xml: str,
        timestamp: str,
        nonce: str,
        *,
        agent_id: str = "",
        random16: bytes | None = None,
    ) -> Sealed:
        """What WeCom posts for plaintext_xml, and the signature it puts in the query."""
        encrypted = self.encrypt(plaintext_xml, random16)
        fields = {"ToUserName": self.receive_id, "Encrypt": encrypted, "AgentID": agent_id}
        body = build_xml(fields).encode("utf-8")
        return Sealed(body, self.sign(timestamp, nonce, encrypted))
