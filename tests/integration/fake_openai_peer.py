#!/usr/bin/env python3
"""A tiny OpenAI-compatible peer for smoke-testing `troupe bench` against a
server that is not Troupe: /v1/completions and /v1/chat/completions with SSE,
one word per chunk, max_tokens words, usage when asked. Standard library only.
Prints its port on stdout once listening."""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Every SSE chunk leaves at once (as a streaming server's should): with
    # Nagle's algorithm, chunks on a reused connection go out in pairs.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        chat = self.path.endswith("/chat/completions")
        n = int(body.get("max_tokens", 16))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def send(obj):
            data = ("data: " + (obj if isinstance(obj, str) else json.dumps(obj)) + "\n\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        for i in range(n):
            time.sleep(0.002)
            piece = " word%d" % i
            choice = {"index": 0, "finish_reason": "length" if i == n - 1 else None}
            if chat:
                choice["delta"] = {"content": piece}
            else:
                choice["text"] = piece
            send({"id": "x", "object": "chat.completion.chunk" if chat else "text_completion",
                  "choices": [choice]})
        if body.get("stream_options", {}).get("include_usage"):
            prompt = body.get("prompt") or body["messages"][0]["content"]
            send({"id": "x", "choices": [], "usage": {"prompt_tokens": len(prompt.split()),
                                                      "completion_tokens": n}})
        send("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
