#!/usr/bin/env python3
"""Media through the real Mastodon.py (https://github.com/halcy/Mastodon.py)
against one Outloud instance: upload with description and focal point,
update, post a status with the attachments, read it back, fetch the files,
and set an avatar and header.

Run by tests/integration/mastodon_py.rs, which starts the instance, creates
alice and passes:

  OUTLOUD_ALPHA_URL    http://alpha.localhost:PORT
  OUTLOUD_TOKEN        an access token of alice's with `read write`

Each step is printed; the first failed check prints what failed and exits 1.
"""

import os
import struct
import sys
import zlib

import requests
from mastodon import Mastodon, MastodonAPIError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from outloud_client import CheckFailed, check, run, step  # noqa: E402

ALPHA = os.environ["OUTLOUD_ALPHA_URL"].rstrip("/")
TOKEN = os.environ["OUTLOUD_TOKEN"]


def png(width, height):
    """An RGB gradient as a PNG, with the standard library only."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 8 % 256, y * 8 % 256, 128)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def png_size(data):
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    return struct.unpack(">II", data[16:24])


def fetch(http, url, content_type):
    r = http.get(url)
    check(r.status_code == 200, f"GET {url}: {r.status_code}")
    got = r.headers.get("Content-Type", "")
    check(got == content_type, f"GET {url}: Content-Type {got!r}, expected {content_type!r}")
    check(r.headers.get("X-Content-Type-Options") == "nosniff", f"GET {url}: no nosniff")
    return r.content


def main():
    http = requests.Session()
    http.trust_env = False
    # The default version check: Mastodon.py reads /api/v1/instance and
    # so uses /api/v2/media for uploads.
    api = Mastodon(access_token=TOKEN, api_base_url=ALPHA, session=http, request_timeout=30)

    step("media_post: a PNG with description and focus (v2)")
    first = api.media_post(png(48, 32), mime_type="image/png", description="A gradient", focus=(0.5, -0.25))
    check(first.type == "image", f"type {first.type!r}")
    check(first.url and first.url.startswith(ALPHA + "/media/"), f"url {first.url!r}")
    check(first.description == "A gradient", f"description {first.description!r}")
    check(first.meta.original.width == 48 and first.meta.original.height == 32, f"meta {first.meta}")
    check(first.meta.original.size == "48x32", f"size {first.meta.original.size!r}")
    check(abs(first.meta.focus.x - 0.5) < 1e-9 and abs(first.meta.focus.y + 0.25) < 1e-9, f"focus {first.meta.focus}")
    check(first.blurhash, "no blurhash")
    check(first.preview_url, "no preview_url")

    step("media_post: a second one, then media_update")
    second = api.media_post(png(20, 40), mime_type="image/png", file_name="tall.png")
    updated = api.media_update(second, description="Tall and thin", focus=(-1.0, 1.0))
    check(updated.description == "Tall and thin", f"description {updated.description!r}")
    check(updated.meta.focus.x == -1.0 and updated.meta.focus.y == 1.0, f"focus {updated.meta.focus}")
    check(api.media(second).description == "Tall and thin", "media() does not show the update")

    step("a bad focus is refused with 422")
    try:
        api.media_update(second, focus=(3, 3))
        raise CheckFailed("focus (3, 3) was accepted")
    except MastodonAPIError as e:
        check(422 in e.args, f"unexpected error {e}")

    step("status_post with media_ids, read back with status()")
    posted = api.status_post("Two pictures", media_ids=[first, second])
    check([m.id for m in posted.media_attachments] == [first.id, second.id], "attachments not in order")
    again = api.status(posted.id)
    media = again.media_attachments
    check(len(media) == 2, f"{len(media)} attachments")
    check(media[0].description == "A gradient", f"description {media[0].description!r}")
    check(media[1].description == "Tall and thin", f"description {media[1].description!r}")
    check(media[0].blurhash == first.blurhash, "blurhash changed")
    check(media[1].meta.original.width == 20 and media[1].meta.original.height == 40, f"meta {media[1].meta}")
    check(media[0].meta.focus.x == 0.5, f"focus {media[0].meta.focus}")

    step("the files load with their types")
    check(png_size(fetch(http, media[0].url, "image/png")) == (48, 32), "wrong picture size")
    fetch(http, media[0].preview_url, "image/jpeg")

    step("a status with media and no text")
    third = api.media_post(png(8, 8), mime_type="image/png")
    silent = api.status_post("", media_ids=[third])
    check(len(silent.media_attachments) == 1, "no attachment")

    step("account_update_credentials with an avatar and a header")
    me = api.account_update_credentials(
        display_name="Alice with a face",
        avatar=png(64, 64),
        avatar_mime_type="image/png",
        header=png(150, 50),
        header_mime_type="image/png",
    )
    check(me.display_name == "Alice with a face", f"display_name {me.display_name!r}")
    check(me.avatar.startswith(ALPHA + "/media/"), f"avatar {me.avatar!r}")
    check(me.header.startswith(ALPHA + "/media/"), f"header {me.header!r}")
    verified = api.account_verify_credentials()
    check(verified.avatar == me.avatar and verified.header == me.header, "verify_credentials differs")
    check(png_size(fetch(http, verified.avatar, "image/png")) == (64, 64), "wrong avatar size")
    check(png_size(fetch(http, verified.header, "image/png")) == (150, 50), "wrong header size")

    print("== all steps passed", flush=True)


if __name__ == "__main__":
    run(main)
