#!/usr/bin/env python3
"""Suggestions, instance texts and activity, and the notification policy
through the real Mastodon.py against one Outloud instance: suggestions,
suggestions_v1, suggestion_delete, instance_extended_description,
instance_activity, notifications_policy, update_notifications_policy,
notification_requests, notification_request, accept_notification_request,
dismiss_multiple_notification_requests and notifications_merged.

Run by tests/integration/mastodon_py.rs, which starts the instance, creates
alice (following bob), bob (following carol), carol and dave, and passes:

  OUTLOUD_ALPHA_URL    http://alpha.localhost:PORT
  OUTLOUD_TOKEN        an access token of alice's with `read write follow`
  OUTLOUD_CAROL_TOKEN  an access token of carol's with `read write`
  OUTLOUD_DAVE_TOKEN   an access token of dave's with `read write`

Each step is printed; the first failed check prints what failed and exits 1.
"""

import os
import sys

import requests
from mastodon import Mastodon

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from outloud_client import check, run, step  # noqa: E402

ALPHA = os.environ["OUTLOUD_ALPHA_URL"].rstrip("/")
TOKEN = os.environ["OUTLOUD_TOKEN"]
CAROL_TOKEN = os.environ["OUTLOUD_CAROL_TOKEN"]
DAVE_TOKEN = os.environ["OUTLOUD_DAVE_TOKEN"]


def main():
    http = requests.Session()
    http.trust_env = False

    def client(token):
        return Mastodon(access_token=token, api_base_url=ALPHA, session=http, request_timeout=30)

    api, carol, dave = client(TOKEN), client(CAROL_TOKEN), client(DAVE_TOKEN)
    carol_id = carol.me().id
    dave_id = dave.me().id

    step("suggestions (v2, unpacked) and suggestions_v2")
    accounts = api.suggestions()
    check(accounts and accounts[0].id == carol_id, f"suggestions {accounts!r}")
    v2 = api.suggestions_v2()
    check("friends_of_friends" in v2[0].sources, f"sources {v2[0]!r}")

    step("suggestion_delete")
    api.suggestion_delete(carol_id)
    check(carol_id not in [a.id for a in api.suggestions_v1()], "carol still suggested")

    step("instance_extended_description")
    about = api.instance_extended_description()
    check(isinstance(about.content, str), f"content {about!r}")
    check(about.updated_at is not None, f"updated_at {about!r}")

    step("instance_activity")
    weeks = api.instance_activity()
    check(len(weeks) == 12, f"{len(weeks)} weeks")
    check(int(weeks[0].registrations) == 4, f"registrations {weeks[0]!r}")

    step("notifications_policy and update_notifications_policy")
    policy = api.notifications_policy()
    check(policy.for_not_following == "accept", f"policy {policy!r}")
    policy = api.update_notifications_policy(for_not_following="filter")
    check(policy.for_not_following == "filter", f"updated {policy!r}")
    check(policy.for_private_mentions == "accept", f"untouched {policy!r}")

    step("notification_requests and notification_request")
    carol.status_post("@alice hello from a stranger")
    check(all(n.account.id != carol_id for n in api.notifications()), "carol's mention not filtered")
    pending = api.notification_requests()
    check(len(pending) == 1 and pending[0].account.id == carol_id, f"requests {pending!r}")
    one = api.notification_request(pending[0].id)
    check(one.id == pending[0].id and str(one.notifications_count) == "1", f"request {one!r}")
    check(api.notifications_policy().summary.pending_requests_count == 1, "summary")

    step("accept_notification_request and notifications_merged")
    api.accept_notification_request(pending[0])
    check(api.notifications_merged() is True, "not merged")
    check(any(n.account.id == carol_id for n in api.notifications()), "carol's mention not merged")
    check(list(api.notification_requests()) == [], "request still pending")

    step("dismiss_multiple_notification_requests")
    dave.status_post("@alice buy my stuff")
    pending = api.notification_requests()
    check([r.account.id for r in pending] == [dave_id], f"requests {pending!r}")
    api.dismiss_multiple_notification_requests(pending)
    check(list(api.notification_requests()) == [], "dismissed request still pending")
    check(all(n.account.id != dave_id for n in api.notifications()), "dave's mention shown")

    print("== all steps passed", flush=True)


if __name__ == "__main__":
    run(main)
