"""getUpdates and the webhook methods."""

from __future__ import annotations

import re
from typing import Any

from ..errors import bad_request
from ..params import Params
from ..updates import Webhook
from ..world import World
from .registry import method

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@method("getUpdates")
async def get_updates(world: World, p: Params) -> list[dict[str, Any]]:
    return await world.updates.get_updates(
        offset=p.opt_int("offset"),
        limit=p.int("limit", 100),
        wait=p.float("timeout", 0.0),
        allowed=p.json("allowed_updates", list),
    )


@method("setWebhook")
async def set_webhook(world: World, p: Params) -> bool:
    url = p.str("url", "")
    drop = p.bool("drop_pending_updates")
    if not url:
        world.webhook.delete(drop)
        return True
    secret = p.opt_str("secret_token")
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = p.int("max_connections", 40)
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    world.updates.set_allowed(p.json("allowed_updates", list))
    world.webhook.set(Webhook(url, secret, max_connections), drop)
    return True


@method("deleteWebhook")
async def delete_webhook(world: World, p: Params) -> bool:
    world.webhook.delete(p.bool("drop_pending_updates"))
    return True


@method("getWebhookInfo")
async def get_webhook_info(world: World, p: Params) -> dict[str, Any]:
    hook = world.updates.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates.pending),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    if world.updates.allowed:
        info["allowed_updates"] = sorted(world.updates.allowed)
    return info
