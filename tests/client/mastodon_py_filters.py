#!/usr/bin/env python3
"""Filters v2 through the real Mastodon.py against one Outloud instance:
create_filter_v2, filters_v2, filter_keywords_v2, add_filter_keyword_v2,
a timeline_home whose status carries `filtered`, and delete_filter_v2.

Run by tests/integration/mastodon_py.rs, which starts the instance, creates
alice (following bob) and bob, and passes:

  OUTLOUD_ALPHA_URL    http://alpha.localhost:PORT
  OUTLOUD_TOKEN        an access token of alice's with `read write`
  OUTLOUD_BOB_TOKEN    an access token of bob's with `read write`

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


def main():
    http = requests.Session()
    http.trust_env = False
    api = Mastodon(access_token=TOKEN, api_base_url=ALPHA, session=http, request_timeout=30)
    bob = Mastodon(access_token=BOB_TOKEN, api_base_url=ALPHA, session=http, request_timeout=30)

    step("create_filter_v2 with a keyword")
    made = api.create_filter_v2(
        "Cats",
        ["home", "public"],
        filter_action="warn",
        keywords_attributes=[{"keyword": "cats", "whole_word": True}],
    )
    check(made.title == "Cats", f"title {made.title!r}")
    check(list(made.context) == ["home", "public"], f"context {made.context!r}")
    check(len(made.keywords) == 1 and made.keywords[0].keyword == "cats", f"keywords {made.keywords!r}")

    step("filters_v2")
    listed = api.filters_v2()
    check([f.id for f in listed] == [made.id], f"filters {listed!r}")

    step("add_filter_keyword_v2 and filter_keywords_v2")
    added = api.add_filter_keyword_v2(made.id, "kittens", whole_word=False)
    check(added.keyword == "kittens" and added.whole_word is False, f"added {added!r}")
    words = sorted(k.keyword for k in api.filter_keywords_v2(made.id))
    check(words == ["cats", "kittens"], f"keywords {words!r}")

    step("timeline_home shows `filtered`")
    post = bob.status_post("I love cats")
    plain = bob.status_post("nothing to see")
    home = api.timeline_home()
    mine = [s for s in home if s.id == post.id]
    check(mine, f"{post.id} not in home")
    filtered = mine[0].filtered
    check(len(filtered) == 1 and filtered[0].filter.id == made.id, f"filtered {filtered!r}")
    check(list(filtered[0].keyword_matches) == ["cats"], f"keyword_matches {filtered[0].keyword_matches!r}")
    other = [s for s in home if s.id == plain.id]
    check(other and not other[0].filtered, f"plain status filtered: {other!r}")

    step("delete_filter_v2")
    api.delete_filter_v2(made.id)
    check(list(api.filters_v2()) == [], "filter still listed")
    home = api.timeline_home()
    mine = [s for s in home if s.id == post.id]
    check(mine and not mine[0].filtered, "still filtered after the filter was deleted")

    print("== all steps passed", flush=True)


if __name__ == "__main__":
    run(main)
