#!/usr/bin/env python3
"""Narration kinds (issue 13 §1) through the real Mastodon.py against one
Outloud instance: a kind hashtag written in status_post sets the kind, the
status carries Outloud's `outloud.kind` extension (and Mastodon.py reads it
like any other status), status_update changes it, and home's `kind=`
parameter filters (422 for an unknown kind).

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


def kind_of(status):
    extension = status.get("outloud")
    return extension["kind"] if extension else None


def main():
    http = requests.Session()
    http.trust_env = False
    api = Mastodon(access_token=TOKEN, api_base_url=ALPHA, session=http, request_timeout=30)
    bob = Mastodon(access_token=BOB_TOKEN, api_base_url=ALPHA, session=http, request_timeout=30)

    step("status_post with a kind hashtag")
    learned = bob.status_post("Found why the build was slow #Learned")
    plain = bob.status_post("Lunch")
    check(kind_of(learned) == "learned", f"kind {learned.get('outloud')!r}")
    check(kind_of(plain) is None, f"plain has a kind: {plain.get('outloud')!r}")

    step("timeline_home reads the kinds")
    home = api.timeline_home()
    kinds = {s.id: kind_of(s) for s in home}
    check(kinds.get(learned.id) == "learned", f"home kinds {kinds!r}")
    check(plain.id in kinds and kinds[plain.id] is None, f"home kinds {kinds!r}")

    step("home with kind=learned")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    res = http.get(f"{ALPHA}/api/v1/timelines/home", params={"kind": "learned"}, headers=auth, timeout=30)
    check(res.status_code == 200, f"status {res.status_code}: {res.text}")
    check([s["id"] for s in res.json()] == [learned.id], f"filtered home {res.text}")
    res = http.get(f"{ALPHA}/api/v1/timelines/home", params={"kind": "nonsense"}, headers=auth, timeout=30)
    check(res.status_code == 422 and "error" in res.json(), f"unknown kind: {res.status_code} {res.text}")

    step("status_update changes the kind")
    edited = bob.status_update(plain.id, "Lunch, and #stuck on the linker")
    check(kind_of(edited) == "stuck", f"edited kind {edited.get('outloud')!r}")
    res = http.get(f"{ALPHA}/api/v1/timelines/home", params={"kind": "stuck"}, headers=auth, timeout=30)
    check([s["id"] for s in res.json()] == [plain.id], f"stuck home {res.text}")

    print("== all steps passed", flush=True)


if __name__ == "__main__":
    run(main)
