"""The code says activity, the public API still says event: paths, the `event_id` parameter
and the operation ids (what generated clients name their methods after) stay as v1 published
them while the handlers are named for what they handle."""

from __future__ import annotations

from fastapi import FastAPI

from services.registration.api import router
from services.registration.api_registrations import router as registrations_router
from services.registration.pages import router as pages_router

V1_OPERATIONS = {
    ("post", "/api/v1/events"): "create_event_api_v1_events_post",
    ("get", "/api/v1/events"): "list_events_api_v1_events_get",
    ("get", "/api/v1/events/{event_id}"): "get_event_api_v1_events__event_id__get",
    ("patch", "/api/v1/events/{event_id}"): "update_event_api_v1_events__event_id__patch",
    ("post", "/api/v1/events/{event_id}/close"): "close_event_api_v1_events__event_id__close_post",
    ("get", "/operator/kegiatan"): "events_page_operator_kegiatan_get",
}


def test_activity_routes_keep_their_v1_paths_parameters_and_operation_ids() -> None:
    app = FastAPI()
    for each in (router, registrations_router, pages_router):
        app.include_router(each)
    paths = app.openapi()["paths"]
    for (method, path), operation_id in V1_OPERATIONS.items():
        assert paths[path][method]["operationId"] == operation_id
    for path, operations in paths.items():
        if path.startswith("/api/v1/events/{event_id}"):
            for operation in operations.values():
                names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
                assert "event_id" in names, path
