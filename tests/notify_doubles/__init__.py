"""Doubles of the digest's destinations over real sockets: the Telegram Bot API, a Slack
incoming webhook (real HTTP in a thread) and an SMTP server with STARTTLS and AUTH
(aiosmtpd)."""

from notify_doubles.slack import SlackWebhookDouble
from notify_doubles.smtp import SmtpDouble
from notify_doubles.telegram import TelegramDouble

__all__ = ["SlackWebhookDouble", "SmtpDouble", "TelegramDouble"]
