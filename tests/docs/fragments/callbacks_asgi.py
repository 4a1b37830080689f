"""docs/callbacks.md, "Mounting in an existing app": the receiver mounted in Starlette.

Served in-process by Starlette's test client (no ASGI server is needed for the check): the
mount answers on /hooks/luma-callback/..., refusing what it did not issue.
"""

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from luma_async import CallbackReceiver

receiver = CallbackReceiver(public_url="https://example.com/hooks")
app = Starlette(routes=[Mount("/hooks", app=receiver.asgi_app())])  # FastAPI: app.mount(...)

http = TestClient(app)
assert receiver.url == "https://example.com/hooks"
assert http.post("/hooks/luma-callback/not-issued", json={"id": "x"}).status_code == 404
assert http.get("/hooks/luma-callback/not-issued").status_code == 405
assert receiver.refused == 1
print("mounted at", receiver.url)
