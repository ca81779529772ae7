#!/usr/bin/env python3
"""Web Push through the real Mastodon.py against one Outloud instance:
push_subscription_generate_keys, push_subscription_set (Mastodon.py's
legacy `aesgcm` subscription), push_subscription, a mention by bob that
this script's own push service on 127.0.0.1 receives, decrypted with
push_subscription_decrypt_push, then push_subscription_update and
push_subscription_delete.

Run by tests/integration/mastodon_py.rs, which starts the instance (and
steps its push queue while this runs), creates alice and bob, and passes:

  OUTLOUD_ALPHA_URL    http://alpha.localhost:PORT
  OUTLOUD_TOKEN        an access token of alice's with `read write push`
  OUTLOUD_BOB_TOKEN    an access token of bob's with `read write`

Each step is printed; the first failed check prints what failed and exits 1.
"""

import http.server
import os
import queue
import sys
import threading

import requests
from mastodon import Mastodon

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from outloud_client import CheckFailed, check, run, step  # noqa: E402

ALPHA = os.environ["OUTLOUD_ALPHA_URL"].rstrip("/")
TOKEN = os.environ["OUTLOUD_TOKEN"]
BOB_TOKEN = os.environ["OUTLOUD_BOB_TOKEN"]

RECEIVED = queue.Queue()


class PushService(http.server.BaseHTTPRequestHandler):
    """Records each POST (path, headers, body) and answers 201."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        RECEIVED.put((self.path, dict(self.headers), body))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    service = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PushService)
    threading.Thread(target=service.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{service.server_address[1]}/push/alice"

    http_session = requests.Session()
    http_session.trust_env = False
    api = Mastodon(access_token=TOKEN, api_base_url=ALPHA, session=http_session, request_timeout=30)
    bob = Mastodon(access_token=BOB_TOKEN, api_base_url=ALPHA, session=http_session, request_timeout=30)

    step("push_subscription_generate_keys and push_subscription_set")
    private, public = api.push_subscription_generate_keys()
    sub = api.push_subscription_set(endpoint, public, follow_events=True, mention_events=True)
    check(sub.endpoint == endpoint, f"endpoint {sub.endpoint!r}")
    check(sub.alerts.mention is True and sub.alerts.follow is True, f"alerts {sub.alerts!r}")
    check(sub.alerts.favourite is False, f"alerts {sub.alerts!r}")
    check(sub.policy == "all", f"policy {sub.policy!r}")
    server_key = api.instance_v2().configuration.vapid.public_key
    check(server_key and sub.server_key == server_key, f"server_key {sub.server_key!r} vs {server_key!r}")

    step("push_subscription")
    again = api.push_subscription()
    check(again.id == sub.id, f"subscription {again!r}")

    step("a mention arrives as a push and decrypts")
    bob.status_post("@alice a push for you")
    try:
        path, headers, body = RECEIVED.get(timeout=60)
    except queue.Empty:
        raise CheckFailed("no push arrived in 60 s")
    check(path == "/push/alice", f"path {path!r}")
    lower = {k.lower(): v for k, v in headers.items()}
    check(lower.get("content-encoding") == "aesgcm", f"Content-Encoding {lower.get('content-encoding')!r}")
    push = api.push_subscription_decrypt_push(body, private, lower["encryption"], lower["crypto-key"])
    newest = api.notifications()[0]
    check(newest.type == "mention", f"newest notification {newest!r}")
    check(push.notification_type == "mention", f"push {push!r}")
    check(str(push.notification_id) == str(newest.id), f"push id {push.notification_id!r} vs {newest.id!r}")
    check("a push for you" in push.body, f"body {push.body!r}")

    step("push_subscription_update")
    updated = api.push_subscription_update(favourite_events=True, policy="followed")
    check(updated.alerts.favourite is True, f"alerts {updated.alerts!r}")
    check(updated.policy == "followed", f"policy {updated.policy!r}")

    step("push_subscription_delete")
    api.push_subscription_delete()
    try:
        api.push_subscription()
        raise CheckFailed("the subscription is still there")
    except CheckFailed:
        raise
    except Exception as e:  # noqa: BLE001 - Mastodon.py raises MastodonNotFoundError
        check("404" in str(e) or "not found" in str(e).lower(), f"unexpected error {e!r}")

    service.shutdown()
    print("== all steps passed", flush=True)


if __name__ == "__main__":
    run(main)
