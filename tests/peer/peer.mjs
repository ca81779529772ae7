// A foreign ActivityPub peer for Outloud's integration tests, built on
// Fedify (https://fedify.dev), an ActivityPub framework not written by this
// project. It serves one Person, `carol`, and lets a test drive her:
//
//   node peer.mjs [--port N]        (0 or none: an ephemeral port)
//
// On start it prints one line `PEER_READY port=N` on stdout; its logs go to
// stderr. Everything is served on 127.0.0.1 under the origin
// `http://peer.localhost:N`.
//
// Federation (Fedify's own handlers):
//   GET  /.well-known/webfinger      WebFinger for acct:carol@peer.localhost:N
//   GET  /users/carol                the Person (RSA key, draft-cavage signatures)
//   GET  /users/carol/followers      her followers (ids)
//   GET  /notes/{id}                 Notes she wrote
//   POST /users/carol/inbox, /inbox  inboxes; Fedify verifies the HTTP signature
//                                    (401 otherwise) before any listener runs
//
// Control (for the test; JSON in, JSON out):
//   GET  /received                   what the inboxes accepted, parsed by Fedify:
//                                    type, id, actor, to, cc, objectId, signedBy;
//                                    for Create and Update `object` (the Note or
//                                    Article described: content, tags, inReplyTo, …);
//                                    for Announce `object` too: the announced post
//                                    described (Fedify fetches an id), or, for an
//                                    announced activity (FEP-1b12), its type, id,
//                                    actor and `object` described; for Accept the
//                                    Follow; others only what every entry has
//   GET  /knocks                     every signed request the peer sent: method, url,
//                                    scheme ("rfc9421" or "draft-cavage") and status.
//                                    Fedify double-knocks: RFC 9421 first, then
//                                    draft-cavage if that got a 4xx
//   POST /control/resolve {handle}   WebFinger + actor fetch with Fedify
//   POST /control/follow {target}    carol follows an actor (URL or handle)
//   POST /control/post {...}         carol publishes a Note (see `post` below)
//   POST /control/like {object, recipient}
//   POST /control/undo {activity, recipient}
//   POST /control/fetch {url, signed} dereference an object, signed as carol or not
//   POST /control/alias {aliases}    sets carol's alsoKnownAs (actor URLs)
//   POST /control/move {target, recipients}
//                                    carol moves: her Person says movedTo `target`
//                                    and a Move (object carol, target) goes to each
//                                    recipient. A received Move is recorded with
//                                    `target` (its targetId)
//
// Dev settings, because the test hosts are plain-http `*.localhost` names on
// 127.0.0.1 (none of them weakens signature checks):
//   - `allowPrivateAddress: true` (Fedify refuses loopback addresses otherwise);
//   - `dns.lookup` answers 127.0.0.1 for `localhost` and `*.localhost`
//     (RFC 6761), which glibc does not do by itself;
//   - `fetch` of an `https://*.localhost` URL goes to `http://` instead:
//     Fedify looks `acct:` WebFinger resources up over https (RFC 7033 §4);
//   - `origin: http://peer.localhost:N`, so carol's ids are plain http.

import { AsyncLocalStorage } from "node:async_hooks";
import dns from "node:dns";
import http from "node:http";
import { randomUUID } from "node:crypto";
import { configure, getConsoleSink } from "@logtape/logtape";
import { Temporal } from "@js-temporal/polyfill";
import {
  Accept,
  Activity,
  Announce,
  Article,
  Create,
  Document,
  Endpoints,
  Follow,
  Hashtag,
  Like,
  MemoryKvStore,
  Object as ASObject,
  Mention,
  Move,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Undo,
  Update,
  createFederation,
  getDocumentLoader,
  isActor,
  lookupWebFinger,
  verifyRequest,
} from "@fedify/fedify";

// Fedify 1.6+ declares Node.js 22 but runs on 20 (what Debian ships) except
// for this one ES2024 method its byte-encodings dependency calls.
if (typeof ArrayBuffer.prototype.transfer !== "function") {
  ArrayBuffer.prototype.transfer = function transfer(length = this.byteLength) {
    const copy = new ArrayBuffer(length);
    new Uint8Array(copy).set(new Uint8Array(this, 0, Math.min(length, this.byteLength)));
    return copy;
  };
}

// ---- dev-mode networking (see the header) --------------------------------

const isLocalhost = (host) =>
  host === "localhost" || host.endsWith(".localhost");

const systemLookup = dns.lookup;
dns.lookup = function lookup(host, options, callback) {
  if (typeof options === "function") {
    callback = options;
    options = {};
  }
  if (typeof host === "string" && isLocalhost(host.toLowerCase())) {
    if (options && options.all) {
      return process.nextTick(callback, null, [{ address: "127.0.0.1", family: 4 }]);
    }
    return process.nextTick(callback, null, "127.0.0.1", 4);
  }
  return systemLookup.call(this, host, options, callback);
};

const systemFetch = globalThis.fetch;
globalThis.fetch = function fetchLocalhostOverHttp(input, init) {
  if (typeof input === "string" || input instanceof URL) {
    const url = new URL(input);
    if (url.protocol === "https:" && isLocalhost(url.hostname)) {
      url.protocol = "http:";
      input = url;
    }
  }
  if (process.env.PEER_LOG === "debug" && input instanceof Request) {
    const copy = input.clone();
    copy.text().then((body) => console.error(`peer: ${copy.method} ${copy.url}\n${[...copy.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${body}`));
  }
  const response = systemFetch(input, init);
  const signed = input instanceof Request ? input.headers : new Headers(init?.headers ?? {});
  const scheme = signed.has("signature-input")
    ? "rfc9421"
    : signed.has("signature") ? "draft-cavage" : null;
  if (scheme != null) {
    const method = input instanceof Request ? input.method : init?.method ?? "GET";
    response.then(
      (r) => knocks.push({ method, url: String(input.url ?? input), scheme, status: r.status }),
      () => knocks.push({ method, url: String(input.url ?? input), scheme, status: null }),
    );
  }
  return response;
};
/** Signed requests the peer sent (see GET /knocks). */
const knocks = [];

// ---- state ---------------------------------------------------------------

const args = process.argv.slice(2);
const portArg = args.indexOf("--port");
const requestedPort = portArg >= 0 ? Number(args[portArg + 1]) : 0;

await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: { console: getConsoleSink() },
  loggers: [
    { category: "fedify", lowestLevel: process.env.PEER_LOG ?? "info", sinks: ["console"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
  ],
});
// The console sink writes with console.*; keep stdout for the ready line.
for (const level of ["debug", "info", "log", "warn"]) console[level] = console.error;

const CAROL = "carol";
// RSA-2048, as Mastodon uses: Fedify's generateCryptoKeyPair() makes 4096-bit
// keys, which take seconds to generate on a loaded test machine.
const keyPair = await crypto.subtle.generateKey(
  {
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  },
  true,
  ["sign", "verify"],
);
/** Every activity the inboxes accepted, in order, as Fedify parsed it. */
const received = [];
/** Errors raised in inbox listeners. */
const inboxErrors = [];
/** Key ids that signed inbox requests, by activity id (checked again here with
 * Fedify's `verifyRequest`, beside the check its inbox handler makes). */
const signedBy = new Map();
/** Notes carol wrote, by id. */
const notes = new Map();
/** Activities carol sent, by id (to Undo them). */
const sent = new Map();
/** Actor ids following carol. */
const followers = new Map();
/** carol's `alsoKnownAs` and `movedTo` (account migration). */
const migration = { aliases: [], movedTo: null };

const server = http.createServer((req, res) => {
  serve(req, res).catch((error) => {
    console.error("peer: unhandled error", error);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end(String(error?.stack ?? error));
  });
});
await new Promise((resolve) => server.listen(requestedPort, "127.0.0.1", resolve));
const port = server.address().port;
const origin = `http://peer.localhost:${port}`;
const documentLoader = getDocumentLoader({ allowPrivateAddress: true });

const federation = createFederation({
  kv: new MemoryKvStore(),
  origin,
  allowPrivateAddress: true,
  userAgent: { software: "outloud-test-peer/0.1" },
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== CAROL) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Carol (Fedify peer)",
      summary: "A test peer built with Fedify.",
      url: new URL(`/@${identifier}`, origin),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
      manuallyApprovesFollowers: false,
      // Account migration (POST /control/alias, /control/move): unset
      // unless a test sets them.
      aliases: migration.aliases.map((u) => new URL(u)),
      successor: migration.movedTo ? new URL(migration.movedTo) : null,
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) =>
    identifier === CAROL ? [keyPair] : []
  );

federation.setFollowersDispatcher(
  "/users/{identifier}/followers",
  (_ctx, identifier) => {
    if (identifier !== CAROL) return null;
    const items = [...followers.values()].map((inbox) => ({
      id: new URL(inbox.id),
      inboxId: new URL(inbox.inbox),
      endpoints: inbox.sharedInbox ? { sharedInbox: new URL(inbox.sharedInbox) } : null,
    }));
    return { items };
  },
);

federation.setObjectDispatcher(Note, "/notes/{id}", (_ctx, { id }) =>
  notes.get(id) ?? null
);

/** What Fedify made of a Note or Article. */
async function describeObject(object) {
  if (object == null) return null;
  const tags = [];
  for await (const tag of object.getTags()) {
    tags.push({
      type: tag instanceof Mention ? "Mention" : tag instanceof Hashtag ? "Hashtag" : typeName(tag),
      name: tag.name?.toString() ?? null,
      href: tag.href?.href ?? null,
    });
  }
  const attachments = [];
  for await (const a of object.getAttachments()) {
    const url = a.url instanceof URL ? a.url.href : a.url?.href?.href ?? null;
    attachments.push({
      type: typeName(a),
      mediaType: a.mediaType ?? null,
      url,
      name: a.name?.toString() ?? null,
    });
  }
  return {
    type: typeName(object),
    id: object.id?.href ?? null,
    attributedTo: object.attributionId?.href ?? null,
    content: object.content?.toString() ?? null,
    name: object.name?.toString() ?? null,
    summary: object.summary?.toString() ?? null,
    sensitive: object.sensitive ?? null,
    inReplyTo: object.replyTargetId?.href ?? null,
    published: object.published?.toString() ?? null,
    to: object.toIds.map((u) => u.href),
    cc: object.ccIds.map((u) => u.href),
    tags,
    attachments,
  };
}

function typeName(object) {
  return object.constructor.typeId?.href.replace(/^.*[#/]/, "") ?? "Unknown";
}

async function record(ctx, activity, extra = {}) {
  const id = activity.id?.href ?? null;
  received.push({
    type: typeName(activity),
    id,
    actor: activity.actorId?.href ?? null,
    to: activity.toIds.map((u) => u.href),
    cc: activity.ccIds.map((u) => u.href),
    objectId: activity.objectId?.href ?? null,
    signedBy: signedBy.get(id) ?? null,
    ...extra,
  });
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Accept, async (ctx, accept) => {
    let follow = null;
    try {
      // The Follow is carol's own, embedded by another origin: Fedify 1.9+
      // would fetch it again from its id, and this peer serves no activities.
      const object = await accept.getObject({ crossOrigin: "trust" });
      if (object instanceof Follow) {
        follow = { id: object.id?.href ?? null, actor: object.actorId?.href ?? null, object: object.objectId?.href ?? null };
      }
    } catch (error) {
      follow = { error: String(error) };
    }
    await record(ctx, accept, { follow });
  })
  .on(Follow, async (ctx, follow) => {
    const follower = await follow.getActor(ctx);
    await record(ctx, follow);
    if (follower == null || follow.objectId?.href !== ctx.getActorUri(CAROL).href) return;
    followers.set(follower.id.href, {
      id: follower.id.href,
      inbox: follower.inboxId?.href,
      sharedInbox: follower.endpoints?.sharedInbox?.href ?? null,
    });
    await ctx.sendActivity(
      { identifier: CAROL },
      follower,
      new Accept({
        id: new URL(`/activities/${randomUUID()}`, origin),
        actor: ctx.getActorUri(CAROL),
        object: follow,
      }),
    );
  })
  .on(Create, async (ctx, create) => {
    const object = await create.getObject();
    await record(ctx, create, { object: await describeObject(object) });
  })
  .on(Update, async (ctx, update) => {
    const object = await update.getObject();
    await record(ctx, update, { object: await describeObject(object) });
  })
  .on(Announce, async (ctx, announce) => {
    // A community (FEP-1b12) announces either a post's id, which Fedify
    // fetches, or the activity it received (Create, Update, …) embedded:
    // that activity's id is on its author's origin, not the Group's, and
    // this peer would otherwise fetch it again from there.
    const announced = await announce.getObject({ crossOrigin: "trust" });
    let object;
    if (announced instanceof Activity) {
      // What it acts on (a post; a Delete's may be gone: null then).
      const inner = await announced.getObject({ crossOrigin: "trust", suppressError: true });
      object = {
        type: typeName(announced),
        id: announced.id?.href ?? null,
        actor: announced.actorId?.href ?? null,
        object: inner instanceof Activity
          ? { type: typeName(inner), id: inner.id?.href ?? null }
          : await describeObject(inner),
      };
    } else {
      object = await describeObject(announced);
    }
    await record(ctx, announce, { object });
  })
  .on(Move, async (ctx, move) => {
    await record(ctx, move, { target: move.targetId?.href ?? null });
  })
  .on(Activity, async (ctx, activity) => {
    await record(ctx, activity);
  })
  .onError((_ctx, error) => {
    console.error("peer: inbox listener failed", error);
    inboxErrors.push(String(error?.stack ?? error));
  });

// ---- control endpoints ---------------------------------------------------

function context() {
  return federation.createContext(new URL(origin), undefined);
}

async function resolveActor(ctx, target) {
  const actor = await ctx.lookupObject(target, { documentLoader });
  if (!isActor(actor)) throw new Error(`${target} did not resolve to an actor`);
  return actor;
}

async function send(ctx, recipient, activity) {
  sent.set(activity.id.href, activity);
  await ctx.sendActivity({ identifier: CAROL }, recipient, activity, { preferSharedInbox: true });
}

const control = {
  async resolve({ handle }) {
    const ctx = context();
    const jrd = await lookupWebFinger(`acct:${handle.replace(/^@/, "")}`, { allowPrivateAddress: true });
    const actor = await resolveActor(ctx, handle);
    const key = await actor.getPublicKey();
    return {
      webfinger: jrd,
      actor: {
        type: typeName(actor),
        id: actor.id?.href,
        preferredUsername: actor.preferredUsername?.toString() ?? null,
        name: actor.name?.toString() ?? null,
        inbox: actor.inboxId?.href ?? null,
        sharedInbox: actor.endpoints?.sharedInbox?.href ?? null,
        followers: actor.followersId?.href ?? null,
        publicKeyId: key?.id?.href ?? null,
        publicKeyOwner: key?.ownerId?.href ?? null,
        // Account migration, as Fedify reads alsoKnownAs and movedTo.
        aliases: actor.aliasIds.map((u) => u.href),
        successor: actor.successorId?.href ?? null,
      },
    };
  },

  async follow({ target }) {
    const ctx = context();
    const actor = await resolveActor(ctx, target);
    const follow = new Follow({
      id: new URL(`/activities/${randomUUID()}`, origin),
      actor: ctx.getActorUri(CAROL),
      object: actor.id,
    });
    await send(ctx, actor, follow);
    return { id: follow.id.href };
  },

  // {content, recipients: [actor urls], to?, cc?, public?, inReplyTo?,
  //  mentions?: [{href, name}], hashtags?: [{href, name}], type?: "Note"|"Article", name?,
  //  attachments?: [{url, mediaType, name}]}  (sent as Documents)
  async post(body) {
    const ctx = context();
    const carol = ctx.getActorUri(CAROL);
    const id = randomUUID();
    const to = (body.to ?? []).map((u) => new URL(u));
    if (body.public !== false) to.unshift(PUBLIC_COLLECTION);
    const cc = (body.cc ?? []).map((u) => new URL(u));
    const tags = [
      ...(body.mentions ?? []).map((m) => new Mention({ href: new URL(m.href), name: m.name })),
      ...(body.hashtags ?? []).map((h) => new Hashtag({ href: new URL(h.href), name: h.name })),
    ];
    const Kind = body.type === "Article" ? Article : Note;
    const note = new Kind({
      id: ctx.getObjectUri(Note, { id }),
      attribution: carol,
      content: body.content,
      name: body.name ?? null,
      tos: to,
      ccs: cc,
      replyTarget: body.inReplyTo ? new URL(body.inReplyTo) : null,
      tags,
      attachments: (body.attachments ?? []).map((a) => new Document({
        url: new URL(a.url),
        mediaType: a.mediaType ?? null,
        name: a.name ?? null,
      })),
      published: Temporal.Now.instant(),
    });
    notes.set(id, note);
    const create = new Create({
      id: new URL(`/activities/${randomUUID()}`, origin),
      actor: carol,
      object: note,
      tos: to,
      ccs: cc,
      published: note.published,
    });
    for (const target of body.recipients ?? []) {
      await send(ctx, await resolveActor(ctx, target), create);
    }
    return { id: note.id.href, activity: create.id.href };
  },

  async like({ object, recipient }) {
    const ctx = context();
    const like = new Like({
      id: new URL(`/activities/${randomUUID()}`, origin),
      actor: ctx.getActorUri(CAROL),
      object: new URL(object),
    });
    await send(ctx, await resolveActor(ctx, recipient), like);
    return { id: like.id.href };
  },

  async undo({ activity, recipient }) {
    const ctx = context();
    const original = sent.get(activity);
    if (original == null) throw new Error(`carol sent no activity ${activity}`);
    const undo = new Undo({
      id: new URL(`/activities/${randomUUID()}`, origin),
      actor: ctx.getActorUri(CAROL),
      object: original,
    });
    await send(ctx, await resolveActor(ctx, recipient), undo);
    return { id: undo.id.href };
  },

  // Dereferences `url` with Fedify's document loader, signed as carol
  // (draft-cavage, as Mastodon's secure mode expects) or not, and parses it.
  async fetch({ url, signed }) {
    const ctx = context();
    const loader = signed
      ? await ctx.getDocumentLoader({ identifier: CAROL })
      : documentLoader;
    let document;
    try {
      ({ document } = await loader(url));
    } catch (error) {
      // Fedify's FetchError names the HTTP status.
      return { ok: false, error: String(error) };
    }
    const object = await ASObject.fromJsonLd(document, {
      documentLoader,
      contextLoader: documentLoader,
    });
    return { ok: true, object: await describeObject(object) };
  },
};

// ---- reports and blocks (Outloud's tests/integration/foreign_peer.rs) ----
//   POST /control/flag {object: [urls], recipient, content}  carol reports
//   POST /control/block {target}                             carol blocks an actor
// (Undo a Block with /control/undo.) Received Flags and Blocks are recorded
// by the catch-all `Activity` listener above.
{
  const { Block, Flag } = await import("@fedify/fedify");
  Object.assign(control, {
    async flag({ object, recipient, content }) {
      const ctx = context();
      const flag = new Flag({
        id: new URL(`/activities/${randomUUID()}`, origin),
        actor: ctx.getActorUri(CAROL),
        objects: object.map((u) => new URL(u)),
        content: content ?? null,
      });
      await send(ctx, await resolveActor(ctx, recipient), flag);
      return { id: flag.id.href };
    },

    async block({ target }) {
      const ctx = context();
      const actor = await resolveActor(ctx, target);
      const block = new Block({
        id: new URL(`/activities/${randomUUID()}`, origin),
        actor: ctx.getActorUri(CAROL),
        object: actor.id,
      });
      await send(ctx, actor, block);
      return { id: block.id.href };
    },
  });
}

// ---- account migration (Outloud's tests/integration/moves.rs) ------------
{
  Object.assign(control, {
    async alias({ aliases }) {
      migration.aliases = aliases ?? [];
      return { aliases: migration.aliases };
    },

    async move({ target, recipients }) {
      const ctx = context();
      migration.movedTo = target;
      const move = new Move({
        id: new URL(`/activities/${randomUUID()}`, origin),
        actor: ctx.getActorUri(CAROL),
        object: ctx.getActorUri(CAROL),
        target: new URL(target),
      });
      for (const recipient of recipients ?? []) {
        await send(ctx, await resolveActor(ctx, recipient), move);
      }
      return { id: move.id.href };
    },
  });
}

// ---- the HTTP adapter between node:http and Fedify -----------------------

async function serve(req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url, origin);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const request = new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? body : undefined,
  });

  let response;
  if (url.pathname === "/received" && req.method === "GET") {
    response = Response.json({ received, errors: inboxErrors });
  } else if (url.pathname === "/knocks" && req.method === "GET") {
    response = Response.json(knocks);
  } else if (url.pathname.startsWith("/control/") && req.method === "POST") {
    const action = control[url.pathname.slice("/control/".length)];
    if (action == null) {
      response = Response.json({ error: "no such control" }, { status: 404 });
    } else {
      try {
        response = Response.json(await action(JSON.parse(body.toString() || "{}")));
      } catch (error) {
        console.error(`peer: ${url.pathname} failed`, error);
        response = Response.json({ error: String(error?.stack ?? error) }, { status: 502 });
      }
    }
  } else {
    if (req.method === "POST" && (url.pathname === "/inbox" || url.pathname.endsWith("/inbox"))) {
      await noteSigner(request.clone(), body);
    }
    response = await federation.fetch(request, {
      contextData: undefined,
      onNotFound: () => new Response("Not found", { status: 404 }),
      onNotAcceptable: () => new Response("Not acceptable", { status: 406 }),
    });
  }
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

/** Which key signed an inbox request, as Fedify's `verifyRequest` sees it. */
async function noteSigner(request, body) {
  let id;
  try {
    id = JSON.parse(body.toString()).id;
  } catch {
    return;
  }
  const key = await verifyRequest(request, { documentLoader, contextLoader: documentLoader })
    .catch((error) => {
      console.error("peer: verifyRequest failed", error);
      return null;
    });
  if (typeof id === "string" && key != null) signedBy.set(id, key.id?.href ?? null);
}

process.stdout.write(`PEER_READY port=${port}\n`);
