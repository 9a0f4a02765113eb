"""What the account mails say, and sending them once the request commits, a few an hour per account at most.

The words live here, the sending in `infomediary.mail`. Each link leads to a page of the privacy centre
(`api/pages/account_links.py`): following it shows a form, and only submitting the form uses the token, so
a mail scanner that fetches every link it sees confirms nothing and spends no reset link.
"""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import urlencode

from infomediary.database import WriteSession
from infomediary.mail.at_commit import send_at_commit
from infomediary.mail.message import Mail, compose
from infomediary.ratelimits import service as ratelimits
from infomediary.ratelimits.errors import RateLimited
from infomediary.runtime import Runtime
from infomediary.settings import Settings

VERIFY_PATH = "/verify-email"
RESET_PATH = "/reset-password"
CHANGE_EMAIL_PATH = "/change-email"
FORGOT_PATH = "/forgot-password"
LOGIN_PATH = "/login"

KIND_VERIFY = "verify-email"
KIND_ADDRESS_TAKEN = "address-taken"
KIND_RESET = "password-reset"
KIND_CHANGE_EMAIL = "change-email"
KIND_CHANGE_NOTICE = "email-change-notice"
KIND_ADDRESS_TAKEN_BY_CHANGE = "address-taken-change"


def send(session: WriteSession, runtime: Runtime, customer_id: str, mail: Mail) -> bool:
    """Send an account mail after the commit, unless the account had its share this hour; whether it will.

    However many client addresses ask (each is rate-limited on its own), one mailbox gets at most
    `account_mails_per_hour` of our mails: the service cannot be turned into a way of flooding someone.
    Counted under the internal subject id, under the throttle key, like the login throttle.
    """
    if not spend(session, runtime, customer_id):
        return False
    send_at_commit(session, runtime.mail, mail)
    return True


def deliver(session: WriteSession, runtime: Runtime, mail: Mail) -> None:
    """Send a mail whose share `spend` already counted."""
    send_at_commit(session, runtime.mail, mail)


def spend(session: WriteSession, runtime: Runtime, customer_id: str) -> bool:
    """Count one mail against the account's share of the hour; whether it was within it. Alone, for a mail
    that goes to another account's mailbox but must cost her the same as one to her own (`email_change`)."""
    limit = ratelimits.Limit("account-mail", runtime.settings.account_mails_per_hour, 3600)
    try:
        ratelimits.hit(session, runtime.keys.secret("throttle"), limit, customer_id, now=time.time())
    except RateLimited:
        return False
    return True


def _link(settings: Settings, path: str, token: str | None = None) -> str:
    base = settings.issuer.rstrip("/")
    return f"{base}{path}?{urlencode({'token': token})}" if token else f"{base}{path}"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _signature(settings: Settings) -> str:
    return f"-- \n{settings.controller_name}\nQuestions about your data: {settings.controller_email}\n"


def _mail(settings: Settings, kind: str, to: str, subject: str, body: str) -> Mail:
    """One account mail: the greeting, `body`, and the signature naming the controller."""
    return compose(
        kind=kind,
        sender=settings.mail_from,
        to=to,
        subject=subject,
        text="Hello,\n\n" + body + _signature(settings),
    )


def verify_email(settings: Settings, *, to: str, token: str, expires_at: datetime) -> Mail:
    body = (
        f"Someone, probably you, created an account at {settings.controller_name} with this address.\n"
        f"To confirm that the address is yours and start using the account, open this link and press "
        f'"Confirm my address":\n\n'
        f"{_link(settings, VERIFY_PATH, token)}\n\n"
        f"The link works once, until {_when(expires_at)}.\n\n"
        f"If you did not create this account, do not confirm it: without confirmation nobody can sign in "
        f"to it. If you want an account with this address later, ask for a new password at\n"
        f"{_link(settings, FORGOT_PATH)}\n"
        f"and the account becomes yours alone.\n\n"
    )
    return _mail(settings, KIND_VERIFY, to, f"Confirm your address for {settings.controller_name}", body)


def address_taken(settings: Settings, *, to: str) -> Mail:
    body = (
        f"Someone just tried to create an account at {settings.controller_name} with this address. "
        f"There already is one, so nothing was created and nothing about your account changed.\n\n"
        f"If it was you: you can sign in at\n{_link(settings, LOGIN_PATH)}\n"
        f"or, if you forgot your password, set a new one at\n{_link(settings, FORGOT_PATH)}\n\n"
        f"If it was not you, you need not do anything. The person who tried was told only what anyone "
        f"registering is told, so they did not learn that you have an account.\n\n"
    )
    return _mail(
        settings,
        KIND_ADDRESS_TAKEN,
        to,
        f"Someone tried to register with your address at {settings.controller_name}",
        body,
    )


def password_reset(settings: Settings, *, to: str, token: str, expires_at: datetime) -> Mail:
    body = (
        f"Someone, probably you, asked to set a new password for your account at "
        f"{settings.controller_name}. To choose one, open this link:\n\n"
        f"{_link(settings, RESET_PATH, token)}\n\n"
        f"The link works once, until {_when(expires_at)}. Setting a new password signs you out everywhere; "
        f"if you use two-step sign-in, you will still need your authenticator app.\n\n"
        f"If you did not ask, ignore this message: your password stays as it is.\n\n"
    )
    return _mail(settings, KIND_RESET, to, f"Set a new password for {settings.controller_name}", body)


def confirm_new_email(settings: Settings, *, to: str, token: str, expires_at: datetime) -> Mail:
    body = (
        f"Someone, probably you, asked to make this address the login of their account at "
        f"{settings.controller_name}. To confirm that the address is yours, open this link and press "
        f'"Use this address":\n\n'
        f"{_link(settings, CHANGE_EMAIL_PATH, token)}\n\n"
        f"The link works once, until {_when(expires_at)}. Until it is used, the account keeps its current "
        f"address, and signing in with this one does not work.\n\n"
        f"If you did not ask for this, do not confirm it: nothing changes without you.\n\n"
    )
    return _mail(
        settings, KIND_CHANGE_EMAIL, to, f"Confirm your new address for {settings.controller_name}", body
    )


def email_change_notice(settings: Settings, *, to: str, new_address: str) -> Mail:
    # Sent to the current address whatever becomes of the change: whether the new address has an account of
    # its own must not show in what she receives either.
    body = (
        f"Someone signed in to your account at {settings.controller_name} asked to change its login "
        f"address from this one to\n\n    {new_address}\n\n"
        f"Nothing changes until the link we mailed to that address is followed. Until then, and if it never "
        f"is, you keep signing in with this address.\n\n"
        f"If this wasn't you, someone else may be signed in to your account. Set a new password at\n"
        f"{_link(settings, FORGOT_PATH)}\n"
        f"That signs everyone out everywhere and cancels the change.\n\n"
    )
    return _mail(
        settings,
        KIND_CHANGE_NOTICE,
        to,
        f"Your login address at {settings.controller_name} is being changed",
        body,
    )


def address_taken_by_change(settings: Settings, *, to: str) -> Mail:
    body = (
        f"Someone just tried to make this address the login of another account at "
        f"{settings.controller_name}. It already belongs to your account, so nothing changed, and nothing "
        f"about your account changed either.\n\n"
        f"If it was you: you can sign in at\n{_link(settings, LOGIN_PATH)}\n"
        f"or, if you forgot your password, set a new one at\n{_link(settings, FORGOT_PATH)}\n\n"
        f"If it was not you, you need not do anything. The person who tried was told only what anyone "
        f"changing their address is told, so they did not learn that you have an account.\n\n"
    )
    return _mail(
        settings,
        KIND_ADDRESS_TAKEN_BY_CHANGE,
        to,
        f"Someone tried to use your address for an account at {settings.controller_name}",
        body,
    )
