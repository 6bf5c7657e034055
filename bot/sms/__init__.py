"""Text messages (SMS) that prove a phone number is the owner's: a one-time code sent by a
provider behind `SmsSender` (sender.py); Tencent Cloud SMS is the one kept (tencent.py)."""
