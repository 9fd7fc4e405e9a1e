"""WebSocket listeners for the live channels (/post/feed/posted, /dialog/live)."""
import json
import threading
import time

import websocket

from conftest import TIMEOUT

FEED = "/post/feed/posted"
DIALOGS = "/dialog/live"


def ws_url(base_url, path=FEED):
    return base_url.replace("http://", "ws://", 1) + path


class Listener:
    """Collects messages from a live channel's connection on a thread."""

    def __init__(self, base_url, headers=None, query_token=None, path=FEED):
        url = ws_url(base_url, path) + (f"?token={query_token}" if query_token else "")
        header = [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.ws = websocket.create_connection(url, header=header, timeout=TIMEOUT)
        self.messages = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while True:
                data = self.ws.recv()
                if not data:
                    return
                self.messages.append((time.monotonic(), json.loads(data)))
        except Exception:  # closed
            return

    def wait_until(self, matches, deadline=5.0, what="message"):
        """(arrival time, message) of the first message for which matches(message) holds."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            for at, msg in list(self.messages):
                if matches(msg):
                    return at, msg
            time.sleep(0.02)
        raise AssertionError(f"{what} never arrived; got {self.messages}")

    def wait_for(self, post_id, deadline=5.0):
        return self.wait_until(lambda m: m.get("postId") == post_id, deadline, f"post {post_id}")

    def close(self):
        self.ws.close()
