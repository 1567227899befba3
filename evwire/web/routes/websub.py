"""WebSub callback: the hub's verification GET and its content pushes, for one feed each."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from evwire.pipeline import utcnow
from evwire.poller import Poller
from evwire.web.deps import ServicesDep
from evwire.websub_client import receive_push, verify

router = APIRouter(include_in_schema=False)


def _poller(request: Request, services: ServicesDep) -> Poller:
    """The process's poller (set by `evwire serve`), so pushes share its story index."""
    poller = getattr(request.app.state, "poller", None)
    if poller is None:
        poller = request.app.state.poller = Poller(services)
    return poller


@router.get("/websub/{feed_id}")
def websub_verify(request: Request, services: ServicesDep, feed_id: int) -> Response:
    answer = verify(services, feed_id, dict(request.query_params), now=utcnow())
    return PlainTextResponse(answer.body, status_code=answer.status)


@router.post("/websub/{feed_id}")
async def websub_push(request: Request, services: ServicesDep, feed_id: int) -> Response:
    cap = services.settings.feed_max_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            return PlainTextResponse(
                "the pushed document is larger than the feed size limit", status_code=413
            )
    poller = _poller(request, services)
    taken = await run_in_threadpool(
        receive_push,
        poller,
        feed_id,
        bytes(body),
        request.headers.get("x-hub-signature"),
        request.headers.get("content-type"),
        now=utcnow(),
    )
    # the spec: acknowledge with 2xx even when the signature is wrong (and ignore the content)
    return PlainTextResponse("accepted" if taken else "ignored", status_code=202)
