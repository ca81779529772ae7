#!/usr/bin/env python3
"""A Mastodon app's session against two Outloud instances, driven with the
real Mastodon.py (https://github.com/halcy/Mastodon.py).

Run by tests/integration/mastodon_py.rs, which starts the instances, creates
the people and the community, steps federation while this runs, and passes:

  OUTLOUD_ALPHA_URL, OUTLOUD_BETA_URL   http://alpha.localhost:PORT, ...
  OUTLOUD_PASSWORD                      every person's password
  OUTLOUD_COMMUNITY                     a community on beta (anyone may post)

People: alice on alpha; bob and carol on beta. Each step is printed; the
first failed check prints what failed, the last HTTP exchanges, and exits 1.
"""

import collections
import os
import re
import secrets
import socket
import sys
import time
import traceback
import urllib.parse
from html.parser import HTMLParser

import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNotFoundError,
    MastodonUnauthorizedError,
)

ALPHA = os.environ["OUTLOUD_ALPHA_URL"].rstrip("/")
BETA = os.environ["OUTLOUD_BETA_URL"].rstrip("/")
PASSWORD = os.environ["OUTLOUD_PASSWORD"]
COMMUNITY = os.environ["OUTLOUD_COMMUNITY"]
ALPHA_DOMAIN = urllib.parse.urlsplit(ALPHA).netloc
BETA_DOMAIN = urllib.parse.urlsplit(BETA).netloc

OOB = "urn:ietf:wg:oauth:2.0:oob"
# Never fetched: the test reads the code from the redirect's Location.
REDIRECT = "http://client.localhost/outloud-test/callback"
# How long federation (stepped by the Rust side) may take to show something.
FEDERATION_TIMEOUT = float(os.environ.get("OUTLOUD_FEDERATION_TIMEOUT", "20"))


# ---- network: *.localhost is 127.0.0.1, nothing else is reachable --------

_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host, port, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name in ("localhost", "127.0.0.1") or (name or "").endswith(".localhost"):
        return _getaddrinfo("127.0.0.1", port, *args, **kwargs)
    raise OSError(f"the client test only talks to *.localhost, not {name!r}")


# glibc may not resolve `alpha.localhost`; browsers and RFC 6761 do.
socket.getaddrinfo = _loopback_getaddrinfo


# ---- reporting -----------------------------------------------------------


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


STEP = ["start"]
EXCHANGES = collections.deque(maxlen=4)
# The first error answers of the current step: a retry loop in a library can
# push the one that started it out of EXCHANGES.
STEP_ERRORS = []


def step(name):
    STEP[0] = name
    STEP_ERRORS.clear()
    print(f"== {name}", flush=True)


def _shorten(text, limit=1500):
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _record(response, *args, **kwargs):
    request = response.request
    exchange = (
        f"{request.method} {request.url}\n"
        f"  request body: {_shorten(request.body, 500)}\n"
        f"  -> {response.status_code} {response.headers.get('Content-Type', '')}\n"
        f"  {_shorten(response.text)}"
    )
    EXCHANGES.append(exchange)
    if response.status_code >= 400 and len(STEP_ERRORS) < 2:
        STEP_ERRORS.append(exchange)


def session():
    """A requests session like Mastodon.py's own, recording each exchange
    and ignoring proxy settings from the environment."""
    s = requests.Session()
    s.trust_env = False
    s.hooks["response"].append(_record)
    return s


def wait_for(description, probe, timeout=FEDERATION_TIMEOUT):
    """Calls `probe` until it returns something truthy; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {description}")
        time.sleep(0.2)


def find(statuses, uri):
    """The status with ActivityPub id `uri`, or a reblog of it."""
    for s in statuses:
        if s.get("uri") == uri or (s.get("reblog") and s["reblog"].get("uri") == uri):
            return s
    return None


def notification(api, who, kind, uri):
    """Waits for `who`'s notification of `kind` about the status `uri`."""
    return wait_for(
        f"{who}'s {kind} notification about {uri}",
        lambda: next(
            (
                n for n in api.notifications(types=[kind])
                if n["type"] == kind and n.get("status") and n["status"]["uri"] == uri
            ),
            None,
        ),
    )


def plain(html_text):
    return re.sub(r"<[^>]+>", "", html_text or "")


# ---- OAuth 2 as a browser and an app do it --------------------------------


class Page(HTMLParser):
    """The forms of an HTML page and the text of `<code id=...>` elements."""

    def __init__(self, text):
        super().__init__()
        self.forms = []
        self.codes = {}
        self._form = None
        self._code = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {
                "method": (attrs.get("method") or "get").lower(),
                "action": attrs.get("action") or "",
                "hidden": {},
                "inputs": {},
                # Named submit buttons: (name, value), e.g. approve / deny.
                "buttons": [],
            }
        elif tag in ("input", "button") and self._form is not None and attrs.get("name"):
            kind = (attrs.get("type") or ("submit" if tag == "button" else "text")).lower()
            self._form["inputs"][attrs["name"]] = kind
            if kind == "hidden":
                self._form["hidden"][attrs["name"]] = attrs.get("value") or ""
            elif kind == "submit":
                self._form["buttons"].append((attrs["name"], attrs.get("value") or ""))
        elif tag == "code" and attrs.get("id"):
            self._code = attrs["id"]
            self.codes[self._code] = ""

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "code":
            self._code = None

    def handle_data(self, data):
        if self._code:
            self.codes[self._code] += data


def login_form(response, what):
    check(
        "text/html" in response.headers.get("Content-Type", ""),
        f"{what}: expected an HTML page, got Content-Type "
        f"{response.headers.get('Content-Type')!r}",
    )
    forms = [f for f in Page(response.text).forms if f["method"] == "post"]
    check(len(forms) == 1, f"{what}: expected one POST form, found {len(forms)}")
    form = forms[0]
    for field in ("username", "password"):
        check(field in form["inputs"], f"{what}: the form has no `{field}` input: {form}")
    return form


def submission(form, username, password):
    """What a browser sends when the person fills in the form and presses
    its (first non-deny) submit button."""
    data = {**form["hidden"], "username": username, "password": password}
    for name, value in form["buttons"]:
        if value.lower() not in ("deny", "cancel", "reject"):
            data[name] = value
            break
    return data


def sign_in(base, username, redirect_uri):
    """Registers an app on `base`, signs `username` in through the
    authorization-code flow over HTTP, returns the logged-in Mastodon."""
    http = session()
    client_id, client_secret = Mastodon.create_app(
        "Outloud client test",
        redirect_uris=redirect_uri,
        website="http://client.localhost/",
        api_base_url=base,
        session=http,
    )
    check(client_id and client_secret, f"create_app gave {client_id!r}, {client_secret!r}")
    api = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=base,
        session=http,
        version_check_mode="none",
        ratelimit_method="throw",
        request_timeout=30,
    )
    state = secrets.token_urlsafe(12)
    url = api.auth_request_url(redirect_uris=redirect_uri, state=state, allow_http=True)
    check(url.startswith(base + "/"), f"authorization URL {url!r} is not on {base}")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))

    # The browser opens the page and finds the sign-in form.
    page = http.get(url, allow_redirects=False)
    check(page.status_code == 200, f"GET {url} answered {page.status_code}, not 200")
    form = login_form(page, "the authorization page")
    for name in ("client_id", "redirect_uri", "response_type", "scope", "state"):
        check(
            form["hidden"].get(name) == query[name],
            f"hidden input `{name}` is {form['hidden'].get(name)!r}, "
            f"the request said {query[name]!r}",
        )
    action = urllib.parse.urljoin(page.url, form["action"] or page.url)

    # A wrong password shows the form again.
    wrong = http.post(
        action,
        data=submission(form, username, "not the password"),
        allow_redirects=False,
    )
    check(wrong.status_code == 401, f"a wrong password answered {wrong.status_code}, not 401")
    login_form(wrong, "the page after a wrong password")
    STEP_ERRORS.clear()  # that 401 was wanted

    answer = http.post(
        action,
        data=submission(form, username, PASSWORD),
        allow_redirects=False,
    )
    if redirect_uri == OOB:
        check(answer.status_code == 200, f"sign-in (oob) answered {answer.status_code}, not 200")
        code = Page(answer.text).codes.get("authorization-code", "").strip()
        check(code, 'the oob page shows no <code id="authorization-code">')
    else:
        check(answer.status_code == 302, f"sign-in answered {answer.status_code}, not 302")
        location = answer.headers.get("Location", "")
        check(
            location.startswith(redirect_uri + "?"),
            f"redirected to {location!r}, not to {redirect_uri}?…",
        )
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        check(params.get("state") == state, f"state came back as {params.get('state')!r}")
        code = params.get("code")
        check(code, f"no code in {location!r}")

    token = api.log_in(code=code, redirect_uri=redirect_uri, allow_http=True)
    check(token, "log_in gave no access token")
    app = api.app_verify_credentials()
    check(app["name"] == "Outloud client test", f"app_verify_credentials names {app['name']!r}")
    return api


# ---- the session ----------------------------------------------------------


def resolve_account(api, handle):
    found = api.search(handle, resolve=True)
    accounts = [a for a in found["accounts"] if a["acct"] == handle]
    check(accounts, f"search({handle!r}, resolve=True) found {[a['acct'] for a in found['accounts']]}")
    return accounts[0]


def follow(api, account, what):
    relationship = api.account_follow(account)
    check(
        relationship["following"] or relationship.get("requested"),
        f"following {what}: relationship {relationship}",
    )
    wait_for(
        f"{what} to accept the follow",
        lambda: api.account_relationships(account)[0]["following"],
    )


def main():
    step("alice registers an app on alpha and signs in (authorization code, redirect)")
    alice = sign_in(ALPHA, "alice", REDIRECT)

    step("alice verifies her credentials")
    me = alice.account_verify_credentials()
    check(me["username"] == "alice", f"username is {me['username']!r}")
    check(me["acct"] == "alice", f"acct is {me['acct']!r}")
    check(not me.get("group"), "alice is not a group")
    check("source" in me, "verify_credentials has no `source` (a CredentialAccount has one)")

    step("bob and carol sign in on beta (authorization code, out of band)")
    bob = sign_in(BETA, "bob", OOB)
    carol = sign_in(BETA, "carol", OOB)
    for name, api in (("bob", bob), ("carol", carol)):
        username = api.account_verify_credentials()["username"]
        check(username == name, f"{name}'s token verifies as {username!r}")

    step("alice finds bob with search(resolve=True) and follows him")
    bob_at_alpha = resolve_account(alice, f"bob@{BETA_DOMAIN}")
    follow(alice, bob_at_alpha, "bob")

    step("bob follows alice back; each is notified of the other's follow")
    alice_at_beta = resolve_account(bob, f"alice@{ALPHA_DOMAIN}")
    follow(bob, alice_at_beta, "alice")
    for api, who, by in ((bob, "bob", f"alice@{ALPHA_DOMAIN}"), (alice, "alice", f"bob@{BETA_DOMAIN}")):
        wait_for(
            f"{who}'s follow notification from {by}",
            lambda: any(
                n["type"] == "follow" and n["account"]["acct"] == by
                for n in api.notifications(types=["follow"])
            ),
        )

    step(f"alice finds the community {COMMUNITY} and joins it")
    group = resolve_account(alice, f"{COMMUNITY}@{BETA_DOMAIN}")
    check(group.get("group") is True, f"{COMMUNITY} is not `group: true`: {group}")
    follow(alice, group, f"the community {COMMUNITY}")

    step("alice posts public, unlisted, local-only and private statuses")
    public = alice.status_post("A public hello from alice", visibility="public")
    check(public["visibility"] == "public", f"visibility {public['visibility']!r}")
    check("A public hello" in plain(public["content"]), f"content {public['content']!r}")
    unlisted = alice.status_post("An unlisted note from alice", visibility="unlisted")
    check(unlisted["visibility"] == "unlisted", f"visibility {unlisted['visibility']!r}")
    # Mastodon.py has no `local_only` parameter (a glitch-soc and Hometown
    # extension): send it as an app that knows it does.
    response = alice.session.post(
        f"{ALPHA}/api/v1/statuses",
        data={"status": "Only for alpha, from alice", "visibility": "public", "local_only": "true"},
        headers={"Authorization": f"Bearer {alice.access_token}"},
    )
    check(response.status_code == 200, f"posting local-only answered {response.status_code}: {response.text[:300]}")
    local_only = alice.status(response.json()["id"])
    check(local_only.get("local_only") is True, f"`local_only` is {local_only.get('local_only')!r}")
    private = alice.status_post("A private word for followers", visibility="private", idempotency_key="private-1")
    check(private["visibility"] == "private", f"visibility {private['visibility']!r}")
    again = alice.status_post("A private word for followers", visibility="private", idempotency_key="private-1")
    check(again["id"] == private["id"], "posting again with the same Idempotency-Key made a second status")

    step("alice's home timeline shows all four")
    home = alice.timeline_home(limit=40)
    for status in (public, unlisted, local_only, private):
        check(
            any(s["id"] == status["id"] for s in home),
            f"{status['visibility']} status {status['id']} missing from alice's home",
        )

    step("alice pages through her home timeline two at a time (Link headers)")
    pages = [alice.timeline_home(limit=2)]
    while len(pages) < 10:
        following = alice.fetch_next(pages[-1])
        if not following:
            break
        pages.append(following)
    paged = [s["id"] for page in pages for s in page]
    check(all(len(page) <= 2 for page in pages), f"page sizes {[len(p) for p in pages]} with limit=2")
    check(len(paged) == len(set(paged)), f"pages overlap: {paged}")
    check(paged == [s["id"] for s in home][: len(paged)], f"paging gave {paged}, one page gave {[s['id'] for s in home]}")
    check(len(paged) >= 4, f"paging reached {len(paged)} statuses, the home timeline has {len(home)}")
    newer = alice.fetch_previous(pages[-1])
    check(newer and all(s["id"] in paged for s in newer), "fetch_previous of the last page gave statuses never seen")

    step("alpha's local and public timelines: public and (signed in) local-only, not unlisted or private")
    for name, timeline in (
        ("local", alice.timeline_local(limit=40)),
        ("public", alice.timeline_public(limit=40)),
    ):
        ids = {s["id"] for s in timeline}
        check(public["id"] in ids, f"public status missing from alpha's {name} timeline")
        check(local_only["id"] in ids, f"local-only status missing from alpha's {name} timeline (signed in)")
        check(unlisted["id"] not in ids, f"unlisted status in alpha's {name} timeline")
        check(private["id"] not in ids, f"private status in alpha's {name} timeline")
    anonymous = Mastodon(api_base_url=ALPHA, session=session(), version_check_mode="none")
    ids = {s["id"] for s in anonymous.timeline_public(limit=40)}
    check(public["id"] in ids, "the public status is missing from alpha's public timeline (signed out)")
    check(local_only["id"] not in ids, "the local-only status is in alpha's public timeline (signed out)")
    check(private["id"] not in ids, "the private status is in alpha's public timeline (signed out)")

    step("bob, alice's follower, gets her public, unlisted and private statuses on beta, not the local-only one")
    bob_public = wait_for("alice's public status in bob's home", lambda: find(bob.timeline_home(limit=40), public["uri"]))
    check(bob_public["visibility"] == "public", f"on beta: visibility {bob_public['visibility']!r}")
    bob_unlisted = wait_for("alice's unlisted status in bob's home", lambda: find(bob.timeline_home(limit=40), unlisted["uri"]))
    check(bob_unlisted["visibility"] == "unlisted", f"on beta: visibility {bob_unlisted['visibility']!r}")
    bob_private = wait_for("alice's private status in bob's home", lambda: find(bob.timeline_home(limit=40), private["uri"]))
    check(bob_private["visibility"] == "private", f"on beta: visibility {bob_private['visibility']!r}")
    check(bob_private["account"]["acct"] == f"alice@{ALPHA_DOMAIN}", f"on beta: author {bob_private['account']['acct']!r}")
    check(find(bob.timeline_home(limit=40), local_only["uri"]) is None, "the local-only status reached beta")
    federated = bob.timeline_public(remote=True, limit=40)
    check(find(federated, public["uri"]), "alice's public status is missing from beta's public timeline (remote)")
    for status in (unlisted, private):
        check(find(federated, status["uri"]) is None, f"alice's {status['visibility']} status is in beta's public timeline")
    try:
        found = bob.search(local_only["uri"], resolve=True)["statuses"]
        check(not found, f"beta resolved the local-only status: {found}")
    except MastodonNotFoundError:
        pass

    step("bob mentions alice; alice is notified, sees it in home and replies")
    bob_says = bob.status_post(f"@alice@{ALPHA_DOMAIN} how is alpha today?", visibility="public")
    mention = notification(alice, "alice", "mention", bob_says["uri"])
    check(mention["account"]["acct"] == f"bob@{BETA_DOMAIN}", f"mention from {mention['account']['acct']!r}")
    question = wait_for("bob's status in alice's home", lambda: find(alice.timeline_home(limit=40), bob_says["uri"]))
    reply = alice.status_reply(question, "Sunny, thanks!")
    check(str(reply["in_reply_to_id"]) == str(question["id"]), f"in_reply_to_id {reply['in_reply_to_id']!r}")
    check(f"@bob@{BETA_DOMAIN}" in plain(reply["content"]) or "@bob" in plain(reply["content"]),
          f"the reply does not mention bob: {reply['content']!r}")

    step("context on alpha: the reply is a descendant, the question its ancestor")
    context = alice.status_context(question)
    check(any(s["id"] == reply["id"] for s in context["descendants"]), f"descendants: {[s['id'] for s in context['descendants']]}")
    context = alice.status_context(reply)
    check(any(s["id"] == question["id"] for s in context["ancestors"]), f"ancestors: {[s['id'] for s in context['ancestors']]}")

    step("context on beta: bob sees alice's reply under his status and is notified")
    wait_for(
        "alice's reply in the context of bob's status on beta",
        lambda: any(s["uri"] == reply["uri"] for s in bob.status_context(bob_says)["descendants"]),
    )
    notification(bob, "bob", "mention", reply["uri"])

    step("alice writes to bob directly; only bob sees it, in his notifications and conversations")
    direct = alice.status_post(f"@bob@{BETA_DOMAIN} just between us", visibility="direct")
    check(direct["visibility"] == "direct", f"visibility {direct['visibility']!r}")
    dm = notification(bob, "bob", "mention", direct["uri"])
    check(dm["status"]["visibility"] == "direct", f"on beta: visibility {dm['status']['visibility']!r}")
    conversations = bob.conversations()
    check(
        any(c.get("last_status") and c["last_status"]["uri"] == direct["uri"] for c in conversations),
        "the direct status is not the last status of one of bob's conversations",
    )
    try:
        seen = carol.status(dm["status"]["id"])
        raise CheckFailed(f"carol, not addressed, can read the direct status: {seen['content']!r}")
    except MastodonNotFoundError:
        pass
    check(find(carol.timeline_home(limit=40), direct["uri"]) is None, "the direct status is in carol's home")

    step("carol posts into the community; it appears in alice's home as the community's reblog")
    shared = carol.status_post(f"@{COMMUNITY}@{BETA_DOMAIN} Community news from carol", visibility="public")
    seen = wait_for("carol's community post in alice's home", lambda: find(alice.timeline_home(limit=40), shared["uri"]))
    check(bool(seen.get("reblog")), f"shown as {seen['account']['acct']!r}'s own status, not the community's reblog")
    check(seen["account"].get("group") is True, f"shared by {seen['account']['acct']!r}, not the group")
    check(seen["account"]["acct"] == f"{COMMUNITY}@{BETA_DOMAIN}", f"shared by {seen['account']['acct']!r}")
    check(seen["reblog"]["account"]["acct"] == f"carol@{BETA_DOMAIN}", f"author {seen['reblog']['account']['acct']!r}")

    step("alice favourites and reblogs bob's status")
    favourited = alice.status_favourite(question)
    check(favourited["favourited"] is True, f"favourited is {favourited['favourited']!r}")
    reblog = alice.status_reblog(question)
    check(reblog.get("reblog") and reblog["reblog"]["id"] == question["id"], f"status_reblog gave {reblog}")
    check(reblog["reblog"]["reblogged"] is True, "reblogged is not true")
    check(alice.status(question)["favourited"] is True, "favourited not kept")
    check(any(s["id"] == question["id"] for s in alice.favourites()), "bob's status is not in alice's favourites")
    check(any(s["id"] == reblog["id"] for s in alice.account_statuses(me)), "the reblog is not among alice's statuses")
    for listing, accounts in (
        ("favourited_by", alice.status_favourited_by(question)),
        ("reblogged_by", alice.status_reblogged_by(question)),
    ):
        check([a["acct"] for a in accounts] == ["alice"], f"{listing} lists {[a['acct'] for a in accounts]}")

    step("bob is notified of the favourite and the reblog on beta")
    for kind in ("favourite", "reblog"):
        note = notification(bob, "bob", kind, bob_says["uri"])
        check(note["account"]["acct"] == f"alice@{ALPHA_DOMAIN}", f"{kind} by {note['account']['acct']!r}")
    counted = bob.status(bob_says)
    check(counted["favourites_count"] >= 1, f"favourites_count {counted['favourites_count']}")
    check(counted["reblogs_count"] >= 1, f"reblogs_count {counted['reblogs_count']}")

    step("alice edits her public status")
    check(public.get("edited_at") is None, f"a new status has edited_at {public.get('edited_at')!r}")
    edited = alice.status_update(public, "A public hello from alice, edited")
    check("edited" in plain(edited["content"]), f"content after edit: {edited['content']!r}")
    check(edited.get("edited_at"), "edited_at is not set after an edit")
    again = alice.status(public)
    check("edited" in plain(again["content"]) and again.get("edited_at"), f"the edit did not stick: {again}")
    history = alice.status_history(public)
    check(len(history) >= 2, f"status_history has {len(history)} entries after one edit")
    check("edited" not in plain(history[0]["content"]), f"the first version reads {history[0]['content']!r}")
    wait_for(
        "the edit on beta",
        lambda: "edited" in plain(bob.status(bob_public)["content"]) and bob.status(bob_public).get("edited_at"),
    )

    step("alice deletes it; it is gone on alpha and on beta")
    alice.status_delete(public)
    try:
        alice.status(public)
        raise CheckFailed("status() of the deleted status answered")
    except MastodonNotFoundError:
        pass
    check(find(alice.timeline_home(limit=40), public["uri"]) is None, "the deleted status is still in alice's home")

    def gone_on_beta():
        try:
            bob.status(bob_public)
            return False
        except MastodonNotFoundError:
            return True

    wait_for("the deletion on beta", gone_on_beta)

    step("alice revokes her token; it stops working")
    token = alice.access_token
    alice.revoke_access_token(allow_http=True)
    stale = Mastodon(access_token=token, api_base_url=ALPHA, session=session(), version_check_mode="none")
    try:
        stale.account_verify_credentials()
        raise CheckFailed("a revoked token still verifies")
    except MastodonUnauthorizedError:
        pass

    print("== all steps passed", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # noqa: BLE001 - report whatever stopped the flow
        print(f"\nFAILED at step: {STEP[0]}", flush=True)
        if isinstance(error, CheckFailed):
            print(f"check failed: {error}")
        else:
            # The last exception only: Mastodon.py's messages name the cause.
            traceback.print_exception(error, limit=-6, chain=False, file=sys.stdout)
        if STEP_ERRORS:
            print("\nfirst error answers in this step:")
            for exchange in STEP_ERRORS:
                print(exchange)
        print("\nlast HTTP exchanges (oldest first):")
        for exchange in EXCHANGES:
            print(exchange)
        sys.exit(1)
