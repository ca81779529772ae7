#!/usr/bin/env python3
"""The Partners timeline (issue 13 §5) through the real Mastodon.py, as a
list: `lists()` shows the reserved list `partners`, `list('partners')`
answers it, `timeline_list('partners')` returns the partner's public
narration only, and editing or deleting the list is refused with 422.

Run by tests/integration/mastodon_py.rs, which starts alpha and beta,
names beta a partner of alpha, has alice (on alpha) follow bob (on beta)
and bob post a public and an unlisted narration, and passes:

  OUTLOUD_ALPHA_URL     http://alpha.localhost:PORT
  OUTLOUD_TOKEN         an access token of alice's with `read write`
  OUTLOUD_PARTNER_URI   the `uri` of bob's public narration

Each step is printed; the first failed check prints what failed and exits 1.
"""

import os
import sys

import requests
from mastodon import Mastodon, MastodonAPIError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from outloud_client import check, run, step  # noqa: E402

ALPHA = os.environ["OUTLOUD_ALPHA_URL"].rstrip("/")
TOKEN = os.environ["OUTLOUD_TOKEN"]
PARTNER_URI = os.environ["OUTLOUD_PARTNER_URI"]


def refused(call):
    try:
        call()
    except MastodonAPIError as e:
        return "422" in str(e) or "cannot be edited" in str(e)
    return False


def main():
    http = requests.Session()
    http.trust_env = False
    api = Mastodon(access_token=TOKEN, api_base_url=ALPHA, session=http, request_timeout=30)

    step("lists shows the Partners list")
    lists = api.lists()
    check([(l.id, l.title) for l in lists] == [("partners", "Partners")], f"lists {lists!r}")
    check(api.list("partners").title == "Partners", "list('partners')")

    step("timeline_list('partners')")
    statuses = api.timeline_list("partners")
    check([s.uri for s in statuses] == [PARTNER_URI], f"timeline {[s.uri for s in statuses]!r}")

    step("the Partners list cannot be edited")
    check(refused(lambda: api.list_update("partners", "Mine")), "list_update accepted")
    check(refused(lambda: api.list_delete("partners")), "list_delete accepted")


if __name__ == "__main__":
    run(main)
