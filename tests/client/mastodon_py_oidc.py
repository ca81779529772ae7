#!/usr/bin/env python3
"""The Mastodon-app door of OpenID Connect sign-in, with the real
Mastodon.py: `auth_request_url` opens Outloud's authorization page, whose
"Sign in with …" button goes through the OpenID provider
(tests/oidc/provider.mjs) and back to the same page, signed in; the consent
form gives the code, `log_in` the token, `account_verify_credentials` the
account the provider made.

Run by tests/integration/oidc_apps.rs, which passes:

  OUTLOUD_ALPHA_URL    http://alpha.localhost:PORT (with [oidc] configured)
  OIDC_LOGIN           the provider account to sign in as
  OIDC_USERNAME        the local name that account must end up with

Each step is printed; the first failed check prints what failed and exits 1.
"""

import os
import sys
import urllib.parse
from html.parser import HTMLParser

import requests
from mastodon import Mastodon

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from outloud_client import check, run, step  # noqa: E402

BASE = os.environ["OUTLOUD_ALPHA_URL"].rstrip("/")
LOGIN = os.environ["OIDC_LOGIN"]
USERNAME = os.environ["OIDC_USERNAME"]
OOB = "urn:ietf:wg:oauth:2.0:oob"


class Page(HTMLParser):
    """The authorization or login form's action, inputs, links by id, and elements' text by id."""

    def __init__(self, text):
        super().__init__()
        self.action = None
        self.inputs = {}
        self.links = {}
        self.texts = {}
        self._text_of = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        # The page's own form, not the header's search or sign-out.
        action = a.get("action") or ""
        if tag == "form" and ("/oauth/authorize" in action or "/interaction/" in action):
            self.action = action
        if tag == "input" and a.get("name"):
            self.inputs[a["name"]] = a.get("value") or ""
        if tag == "a" and a.get("id"):
            self.links[a["id"]] = a.get("href")
        if a.get("id"):
            self._text_of = a["id"]

    def handle_data(self, data):
        if self._text_of:
            self.texts[self._text_of] = self.texts.get(self._text_of, "") + data

    def handle_endtag(self, tag):
        self._text_of = None


def main():
    http = requests.Session()
    step("register the app")
    client_id, client_secret = Mastodon.create_app(
        "Outloud OIDC test", redirect_uris=OOB, scopes=["read", "write"],
        api_base_url=BASE, session=http,
    )
    api = Mastodon(
        client_id=client_id, client_secret=client_secret, api_base_url=BASE,
        session=http, version_check_mode="none", request_timeout=30,
    )
    url = api.auth_request_url(redirect_uris=OOB, scopes=["read", "write"], allow_http=True)

    step("the authorization page offers the provider")
    page = http.get(url)
    check(page.status_code == 200, f"GET {url} answered {page.status_code}")
    href = Page(page.text).links.get("oidc-sign-in")
    check(href, "the authorization page has no `oidc-sign-in` button")

    step("the provider's login")
    login = http.get(urllib.parse.urljoin(BASE + "/", href))
    check(login.status_code == 200, f"the provider answered {login.status_code}")
    form = Page(login.text)
    check(form.action and "/interaction/" in form.action, f"not the provider's form: {login.text[:300]}")
    back = http.post(urllib.parse.urljoin(login.url, form.action), data={"login": LOGIN})

    step("back at the consent screen, signed in")
    check(back.status_code == 200, f"the way back ended at {back.url} with {back.status_code}: {back.text[:500]}")
    check(urllib.parse.urlsplit(back.url).path == "/oauth/authorize", f"came back to {back.url}")
    consent = Page(back.text)
    check("signed-in-as" in consent.texts, "the consent page does not say who is signed in")
    check(USERNAME in consent.texts["signed-in-as"], f"signed in as {consent.texts['signed-in-as']!r}")
    data = dict(consent.inputs)
    data["decision"] = "approve"
    answer = http.post(urllib.parse.urljoin(back.url, consent.action), data=data)
    check(answer.status_code == 200, f"approving answered {answer.status_code}")
    code = Page(answer.text).texts.get("authorization-code", "").strip()
    check(code, 'the oob page shows no <code id="authorization-code">')

    step("log_in and verify_credentials")
    token = api.log_in(code=code, redirect_uri=OOB, scopes=["read", "write"], allow_http=True)
    check(token, "log_in gave no access token")
    me = api.account_verify_credentials()
    check(me["username"] == USERNAME, f"verify_credentials says {me['username']!r}")
    print(f"signed in through the provider as {me['acct']}")


run(main)
