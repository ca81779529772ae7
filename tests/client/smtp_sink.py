"""An SMTP sink for tests/integration/digests.rs: aiosmtpd on 127.0.0.1,
port from SMTP_SINK_PORT, writing each message it receives to a file in
SMTP_SINK_DIR (written aside, then renamed, so readers never see half a
message). Prints READY once it listens; runs until killed."""

import email
import email.policy
import os
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.directory, f"{time.time_ns()}.eml")
        with open(name + ".part", "wb") as out:
            out.write(b"X-Sink-Rcpt: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            raw = envelope.original_content or envelope.content
            out.write(raw)
            # Then each text part decoded (quoted-printable or base64 in
            # the raw message), so the test can read what a person reads.
            message = email.message_from_bytes(raw, policy=email.policy.default)
            for part in message.walk():
                if part.get_content_maintype() == "text":
                    out.write(b"\r\n--- decoded " + part.get_content_type().encode() + b" ---\r\n")
                    out.write(part.get_content().encode())
        os.rename(name + ".part", name)
        return "250 Message accepted"


controller = Controller(
    Sink(os.environ["SMTP_SINK_DIR"]),
    hostname="127.0.0.1",
    port=int(os.environ["SMTP_SINK_PORT"]),
)
controller.start()
print("READY", flush=True)
while True:
    time.sleep(3600)
