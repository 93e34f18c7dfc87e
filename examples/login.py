"""Logins: a signed-cookie session, XSRF-protected forms, ``@authenticated`` and a safe ``next``.

Run: python examples/login.py [--port=8888]   then open http://127.0.0.1:8888/

- ``/`` is ``@authenticated``: without a session, GET redirects to ``/login?next=%2F``;
- ``/login`` shows a form carrying the XSRF token (``xsrf_form_html()``); posting the right
  name and password (``ann`` / ``wonderland``) sets a signed ``user`` cookie and sends the
  browser to ``next`` — only when ``next`` is a path of this site (``safe_next``): a login
  page that follows any ``next`` is an open redirect (``/login?next=https://evil.example``);
- ``/logout`` (POST, with the token) clears the cookie.

Protection on: ``xsrf_cookies`` (every POST needs the token) and ``cross_origin_protection``
(a cross-site POST is refused by the browser's ``Sec-Fetch-Site`` / ``Origin`` headers even
before the token is looked at). The ``cookie_secret`` comes from ``$LOGIN_COOKIE_SECRET``, or
is random per start (everyone is logged out on a restart) — never a constant in the code.
"""

from __future__ import annotations

import argparse
import hmac
import html
import os
import secrets
from urllib.parse import urlsplit

import squall.loop
import squall.web

# A demo user database; a real one stores password hashes (hashlib.scrypt), never passwords.
USERS = {"ann": "wonderland"}

SESSION_DAYS = 1


def safe_next(target: str | None) -> str:
    """Where to go after logging in: ``target`` when it is a path of this site, else ``/``.

    Refused: absolute URLs (``https://evil.example``), scheme-relative ones (``//evil``),
    and anything a browser would turn into one — backslashes (``/\\evil``) and control
    characters (``/\\t/evil``: browsers drop tabs and newlines before parsing).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


class BaseHandler(squall.web.RequestHandler):
    def get_current_user(self) -> str | None:
        # None when the cookie is missing, forged, expired or signed for another name.
        user = self.get_signed_cookie("user", max_age_days=SESSION_DAYS)
        return user.decode() if user else None


class HomeHandler(BaseHandler):
    @squall.web.authenticated
    def get(self) -> None:
        self.write(
            f"<p>Hello, {html.escape(self.current_user)}!</p>"
            f'<form method="post" action="/logout">{self.xsrf_form_html()}'
            "<button>Log out</button></form>"
        )


class LoginHandler(BaseHandler):
    def get(self) -> None:
        self.show_form()

    def post(self) -> None:
        name = self.get_argument("name", "")
        password = self.get_argument("password", "")
        expected = USERS.get(name)
        # compare_digest: the time taken does not tell how much of the password was right.
        if expected is None or not hmac.compare_digest(password.encode(), expected.encode()):
            self.set_status(403, "Wrong name or password")
            self.show_form("Wrong name or password.")
            return
        self.set_signed_cookie(
            "user", name, expires_days=SESSION_DAYS, httponly=True, samesite="Lax"
        )
        self.redirect(safe_next(self.get_argument("next", None)))

    def show_form(self, error: str = "") -> None:
        next_url = html.escape(safe_next(self.get_argument("next", None)))
        message = f"<p>{html.escape(error)}</p>" if error else ""
        self.write(
            f'{message}<form method="post" action="/login">{self.xsrf_form_html()}'
            f'<input type="hidden" name="next" value="{next_url}">'
            '<input name="name" placeholder="name"> '
            '<input name="password" type="password" placeholder="password"> '
            "<button>Log in</button></form>"
        )


class LogoutHandler(BaseHandler):
    def post(self) -> None:
        self.clear_cookie("user")
        self.redirect("/login")


app = squall.web.Application(
    [(r"/", HomeHandler), (r"/login", LoginHandler), (r"/logout", LogoutHandler)],
    cookie_secret=os.environ.get("LOGIN_COOKIE_SECRET") or secrets.token_hex(32),
    login_url="/login",
    xsrf_cookies=True,
    xsrf_cookie_kwargs={"httponly": True, "samesite": "Lax"},
    cross_origin_protection=True,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    args = parser.parse_args()
    app.listen(args.port, "127.0.0.1")
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
