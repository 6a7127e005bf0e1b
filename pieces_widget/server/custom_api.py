"""The custom-model routes and their rules: ``POST /models/create`` (a ``SeededModel`` plus a
``source``, see ``custom.py``), ``POST /model/update`` (only custom models take edits) and
``POST /models/{id}/delete`` (only custom models are deleted). At most ``MAX_CUSTOM_MODELS``;
no two models share a name (case and outer spaces aside) or a ``unique``.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from .catalog import Source
from .custom import MAX_CUSTOM_MODELS, parse_seed
from .fields import FieldError, editable_fields
from .model_server import ModelGone, ModelServer
from .replies import BodyError, disk_reason, not_found, read_json, text_error
from .sources import SourceError


async def create(server: ModelServer, request: web.Request) -> web.Response:
    """``POST /models/create``: a custom model from a SeededModel (+ ``source``)."""
    try:
        seed = parse_seed(await read_json(request))
    except BodyError as exc:
        return exc.response
    except FieldError as exc:
        return text_error(400, str(exc))
    if (refused := _refusal(server, seed.model)) is not None:
        return refused
    size = seed.bytes
    if seed.url is not None and size is None:
        try:
            size = await server.transfers.probe_size(seed.url)
        except SourceError as exc:
            return text_error(500, f"cannot add the model: {exc}")
    if (refused := _refusal(server, seed.model)) is not None:  # others made while we asked
        return refused
    model_id = str(uuid.uuid4())
    source = None if seed.url is None or size is None else Source(seed.url, seed.sha256, size)
    try:
        await server.store.add_created(model_id, seed.model, source)
    except FieldError as exc:
        return text_error(500, f"cannot add the model: {exc}")
    except OSError as exc:
        return text_error(500, f"cannot save the model: {disk_reason(exc, server.store.data_dir)}")
    if model_id not in server.catalog:  # deleted as soon as it was listed
        return not_found(model_id)
    return server.reply(model_id)


async def update(server: ModelServer, request: web.Request) -> web.Response:
    """``POST /model/update``: the editable fields of a custom model."""
    try:
        body = await read_json(request)
    except BodyError as exc:
        return exc.response
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        return text_error(400, "the body must be a Model: a JSON object with a string 'id'")
    model_id = body["id"]
    if model_id not in server.catalog:
        return not_found(model_id)
    if server.store.metadata(model_id).get("custom") is not True:
        return text_error(
            500, f"{model_id!r} is not a custom model: only custom models can be updated"
        )
    try:
        fields = editable_fields(body)
    except FieldError as exc:
        return text_error(400, str(exc))
    try:
        async with server.model_lock(model_id):  # not deleted while the change is saved
            await server.store.save_edits(model_id, fields)
            return server.reply(model_id)
    except ModelGone:
        return not_found(model_id)
    except OSError as exc:
        return text_error(500, f"cannot save the change: {disk_reason(exc, server.store.data_dir)}")


async def delete(server: ModelServer, model_id: str) -> web.Response:
    """Forget a custom model: cancel, unload, delete its files and its record."""
    if server.store.metadata(model_id).get("custom") is not True:
        return text_error(
            500,
            f"{model_id!r} is not a custom model: only custom models can be deleted "
            f"(POST /models/{{id}}/delete/cache frees its disk space)",
        )
    async with server.model_lock(model_id):
        await server.transfers.cancel(model_id)
        server.drop_weights(model_id)
        try:
            await server.store.remove(model_id)
        except OSError as exc:
            reason = disk_reason(exc, server.store.data_dir)
            return text_error(500, f"cannot delete {model_id!r}: {reason}")
        server.errors.pop(model_id, None)
        server.transfers.forget(model_id)
    server.drop_lock(model_id)
    return web.Response(status=204)


def _refusal(server: ModelServer, model: dict[str, Any]) -> web.Response | None:
    """Why ``model`` cannot be added now (the cap, a duplicate), or None."""
    if sum(entry.created for entry in server.catalog.values()) >= MAX_CUSTOM_MODELS:
        return text_error(500, f"too many custom models: at most {MAX_CUSTOM_MODELS}")
    return _duplicate(server, model)


def _duplicate(server: ModelServer, model: dict[str, Any]) -> web.Response | None:
    """A model of the same name (or the same ``unique``) already exists: a clear 500."""
    name = model["name"].strip().casefold()
    unique = model.get("unique")
    for model_id in server.catalog:
        other = server.store.metadata(model_id)
        if str(other.get("name", "")).strip().casefold() == name or (
            unique is not None and other.get("unique") == unique
        ):
            return text_error(
                500,
                f"duplicate model: {other.get('name')!r} already exists (id {model_id!r})",
            )
    return None
