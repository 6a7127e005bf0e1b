"""Every JSON body the server sends validates against the official OpenAPI spec, and the official
``pieces-os-client`` SDK (code nobody here wrote) parses it and drives the server."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
import yaml
from pieces_os_client.api.model_api import ModelApi
from pieces_os_client.api.models_api import ModelsApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.models.model import Model as SdkModel
from pieces_os_client.models.model_delete_cache_output import ModelDeleteCacheOutput
from pieces_os_client.models.model_download_progress import ModelDownloadProgress
from pieces_os_client.models.models import Models as SdkModels
from serverproc import ServerProcess
from test_server_api import wait_downloaded
from wsframes import progress_url, read_frames

SPEC = Path(__file__).with_name("spec") / "openapi.yaml"  # copy of shared/spec/openapi.yaml


@functools.cache
def components() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(SPEC.read_text(), Loader=loader)["components"]


def validate(body: Any, schema_name: str) -> None:
    # Imported on first use: jsonschema builds its IRI grammar at import (~2.5 s of CPU), which
    # every xdist worker would pay while collecting, when the two cores are busiest.
    from openapi_schema_validator import OAS30Validator

    schema = {
        "components": components(),
        "allOf": [{"$ref": f"#/components/schemas/{schema_name}"}],
    }
    OAS30Validator(schema).validate(body)


def test_models_and_model_bodies_match_the_spec(server: ServerProcess) -> None:
    models = requests.get(server.url + "/models", timeout=5).json()
    validate(models, "Models")
    SdkModels.from_dict(models)
    for model in models["iterable"]:
        validate(model, "Model")
        parsed = SdkModel.from_dict(model)
        assert parsed.id == model["id"] and parsed.cloud == model["cloud"]


def test_validator_rejects_a_broken_model() -> None:
    with pytest.raises(Exception, match="required"):
        validate({"id": "x"}, "Model")


def test_every_endpoint_body_matches_the_spec(server: ServerProcess) -> None:
    url = server.url
    ws = websocket.create_connection(progress_url(url, "small"), timeout=5)
    started = requests.post(f"{url}/model/small/download", timeout=5).json()
    validate(started, "Model")
    frames, _ = read_frames(ws)
    for _, frame in frames:
        validate(frame, "ModelDownloadProgress")
        ModelDownloadProgress.from_dict(frame)
    wait_downloaded(url, "small")
    for path in ["/model/small/load", "/model/small/unload", "/model/small/download/cancel"]:
        body = requests.post(url + path, timeout=30).json()
        validate(body, "Model")
        SdkModel.from_dict(body)
    model = requests.get(f"{url}/model/small", timeout=5).json()
    updated = requests.post(f"{url}/model/update", json={**model, "name": "N"}, timeout=5).json()
    validate(updated, "Model")
    deleted = requests.post(f"{url}/models/small/delete/cache", json={}, timeout=5).json()
    validate(deleted, "ModelDeleteCacheOutput")
    ModelDeleteCacheOutput.from_dict(deleted)


def test_official_sdk_drives_the_server(server: ServerProcess) -> None:
    client = ApiClient(Configuration(host=server.url))
    model_api, models_api = ModelApi(client), ModelsApi(client)
    snapshot = models_api.models_snapshot()
    assert [m.id for m in snapshot.iterable] == ["small", "medium", "badsum", "cloudy"]
    started = model_api.model_specific_model_download("small")
    assert started.downloading is True
    wait_downloaded(server.url, "small")
    assert model_api.models_specific_model_snapshot("small").downloaded is True
    assert model_api.model_specific_model_load("small").loaded is True
    assert model_api.model_specific_model_unload("small").loaded is False
    current = model_api.models_specific_model_snapshot("small")
    current.name = "Edited by the SDK"
    assert model_api.model_update(model=current).name == "Edited by the SDK"
    models_api.unload_models()
    with pytest.raises(Exception) as info:
        model_api.models_specific_model_snapshot("missing")
    assert getattr(info.value, "status", None) == 410
