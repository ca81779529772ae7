// masto.js's streaming client against an Outloud instance, for
// tests/integration/streaming_masto.rs.
//
//   STREAMING_URL=ws://alpha.localhost:PORT TOKEN=... TAG=rust node stream.mjs
//
// Subscribes to the user, public and hashtag streams through
// `createStreamingAPIClient` (one WebSocket, the token in
// Sec-WebSocket-Protocol as masto.js sends it) and prints every event it
// receives as one JSON line: {"subscription", "stream", "event",
// "payload"}. An error ends the script with a line {"error": ...} and
// exit code 1. It runs until it is killed.

import { createStreamingAPIClient } from "masto";

const { STREAMING_URL, TOKEN, TAG } = process.env;
if (!STREAMING_URL || !TOKEN || !TAG) {
  console.error("STREAMING_URL, TOKEN and TAG must be set");
  process.exit(2);
}

const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");

const client = createStreamingAPIClient({
  streamingApiUrl: STREAMING_URL,
  accessToken: TOKEN,
  // A refused connection is a failure here, not something to retry.
  retry: false,
});

async function follow(name, subscription) {
  for await (const event of subscription) {
    print({
      subscription: name,
      stream: event.stream,
      event: event.event,
      payload: event.payload ?? null,
    });
  }
}

const streams = [
  follow("user", client.user.subscribe()),
  follow("public", client.public.subscribe()),
  follow("hashtag", client.hashtag.subscribe({ tag: TAG })),
];
print({ started: true });
Promise.all(streams).catch((error) => {
  print({ error: String(error?.message ?? error) });
  process.exit(1);
});
