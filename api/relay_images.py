"""`GET /relay/images/{token}`: the relay's image proxy, which the mail relayed to a customer who chose
proxying points its remote images at (`infomediary.flows.relay_images`). Open to anyone, like the image
it stands for: the token names an image, never a customer, and only the relay can make one."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Path, Response

from api.deps import RuntimeDep
from api.problems import problem_responses
from api.routing import api_router
from infomediary.flows import relay_images
from infomediary.relay import links

router = api_router(tags=["consumer"])
ImageToken = Annotated[str, Path(max_length=links.MAX_TOKEN, pattern=r"^[A-Za-z0-9_-]+$")]
# Cached by her mail program only, never by a shared cache (that she loaded it is hers to know), and it
# can do nothing but be shown: no script, no frame, no sniffing it into something else.
HEADERS: Final = {
    "Cache-Control": "private, max-age=86400",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


@router.get(
    "/relay/images/{token}",
    response_class=Response,
    responses={200: {"content": {"image/*": {}}}, **problem_responses(404, 422)},
    summary="A remote image of relayed mail, fetched by the broker",
)
def proxied_image(runtime: RuntimeDep, token: ImageToken) -> Response:
    image = relay_images.fetch(runtime, token)
    if image is None:
        raise relay_images.ImageUnavailable()
    return Response(image.body, media_type=image.content_type, headers=HEADERS)
