#!/usr/bin/env python3
"""Lists and followed hashtags through the real Mastodon.py against one
Outloud instance: list_create, lists, list, list_update, list_accounts_add,
list_accounts, account_lists, timeline_list, list_accounts_delete,
list_delete; tag, tag_follow, followed_tags, a timeline_home with a status
of a followed tag (by carol, whom alice does not follow), tag_unfollow.
(Featured tags are not kept: featured_tags is an empty list.)

Run by tests/integration/mastodon_py.rs, which starts the instance, creates
alice (following bob), bob and carol, and passes:

  OUTLOUD_ALPHA_URL    http://alpha.localhost:PORT
  OUTLOUD_TOKEN        an access token of alice's with `read write`
  OUTLOUD_BOB_TOKEN    an access token of bob's with `read write`
  OUTLOUD_CAROL_TOKEN  an access token of carol's with `read write`

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
BOB_TOKEN = os.environ["OUTLOUD_BOB_TOKEN"]
CAROL_TOKEN = os.environ["OUTLOUD_CAROL_TOKEN"]


def main():
    http = requests.Session()
    http.trust_env = False
    api = Mastodon(access_token=TOKEN, api_base_url=ALPHA, session=http, request_timeout=30)
    bob = Mastodon(access_token=BOB_TOKEN, api_base_url=ALPHA, session=http, request_timeout=30)
    carol = Mastodon(access_token=CAROL_TOKEN, api_base_url=ALPHA, session=http, request_timeout=30)
    bob_account = bob.me()

    step("list_create and lists")
    made = api.list_create("Colleagues")
    check(made.title == "Colleagues", f"title {made.title!r}")
    check(made.replies_policy == "list" and made.exclusive is False, f"list {made!r}")
    check([l.id for l in api.lists()] == [made.id], f"lists {api.lists()!r}")
    check(api.list(made.id).title == "Colleagues", "list() by id")

    step("list_update")
    updated = api.list_update(made.id, "Team", replies_policy="followed", exclusive=False)
    check(updated.title == "Team" and updated.replies_policy == "followed", f"updated {updated!r}")

    step("list_accounts_add and list_accounts")
    api.list_accounts_add(made.id, [bob_account.id])
    members = api.list_accounts(made.id)
    check([a.id for a in members] == [bob_account.id], f"members {members!r}")
    on = api.account_lists(bob_account.id)
    check([l.id for l in on] == [made.id], f"account_lists {on!r}")

    step("timeline_list shows the member's posts only")
    post = bob.status_post("for the team")
    other = carol.status_post("not on the list")
    timeline = api.timeline_list(made.id)
    ids = [s.id for s in timeline]
    check(post.id in ids, f"{post.id} not in {ids}")
    check(other.id not in ids, f"{other.id} in {ids}")

    step("list_accounts_delete")
    api.list_accounts_delete(made.id, [bob_account.id])
    check(list(api.list_accounts(made.id)) == [], "member still listed")
    check(post.id not in [s.id for s in api.timeline_list(made.id)], "post still in the list")

    step("list_delete")
    api.list_delete(made.id)
    check(list(api.lists()) == [], "list still there")

    step("tag and tag_follow")
    shown = api.tag("Fieldwork")
    check(shown.name == "fieldwork" and shown.following is False, f"tag {shown!r}")
    followed = api.tag_follow("fieldwork")
    check(followed.following is True, f"tag_follow {followed!r}")
    check([t.name for t in api.followed_tags()] == ["fieldwork"], f"followed_tags {api.followed_tags()!r}")
    check(list(api.featured_tags()) == [], "featured_tags")

    step("timeline_home shows a followed tag's status")
    tagged = carol.status_post("notes from #fieldwork")
    home = [s.id for s in api.timeline_home()]
    check(tagged.id in home, f"{tagged.id} not in home {home}")

    step("tag_unfollow")
    gone = api.tag_unfollow("fieldwork")
    check(gone.following is False, f"tag_unfollow {gone!r}")
    check(list(api.followed_tags()) == [], "still followed")
    check(tagged.id not in [s.id for s in api.timeline_home()], "still in home")

    print("== all steps passed", flush=True)


if __name__ == "__main__":
    run(main)
