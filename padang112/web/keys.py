"""The typed keys under which the console finds the settings and the runtime's parts (set by ``app.create_app``).

Every web module reads them from here, so none imports ``app.py`` (which imports them all to mount routes).
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.callbacks.store import CallbackStore
from padang112.cameras.access import CameraAccess
from padang112.cameras.proxy import CameraProxy
from padang112.cameras.registry import CameraRegistry
from padang112.cameras.restream import Restreamer
from padang112.config import Settings
from padang112.controller import Controller
from padang112.desk import Desk
from padang112.incidents.messages import InfoDesk
from padang112.incidents.service import IncidentService
from padang112.metrics.registry import Metrics
from padang112.ops.keep import KeepStore
from padang112.runtime import Runtime
from padang112.storage.repository import Repository

SETTINGS = web.AppKey("settings", Settings)
RUNTIME = web.AppKey("runtime", Runtime)
CONTROLLER = web.AppKey("controller", Controller)
DESK = web.AppKey("desk", Desk)
ENGINE = web.AppKey("engine", AsyncEngine)
REPOSITORY = web.AppKey("repository", Repository)
INCIDENTS = web.AppKey("incidents", IncidentService)
INFO = web.AppKey("info_desk", InfoDesk)
CALLBACK_STORE = web.AppKey("callback_store", CallbackStore)
CAMERA_REGISTRY = web.AppKey("camera_registry", CameraRegistry)
CAMERA_PROXY = web.AppKey("camera_proxy", CameraProxy)
CAMERA_ACCESS = web.AppKey("camera_access", CameraAccess)
RESTREAMER = web.AppKey("camera_restreamer", Restreamer)
KEEP = web.AppKey("keep_marks", KeepStore)
METRICS = web.AppKey("metrics", Metrics)


def attach(app: web.Application, runtime: Runtime) -> None:
    """Give the console a started runtime's parts."""
    app[RUNTIME] = runtime
    app[CONTROLLER] = runtime.controller
    app[DESK] = runtime.desk
    app[ENGINE] = runtime.engine
    app[REPOSITORY] = runtime.repo
    app[INCIDENTS] = runtime.incidents
    app[INFO] = runtime.info
    app[CALLBACK_STORE] = runtime.callback_store
    app[CAMERA_REGISTRY] = runtime.cameras
    app[CAMERA_PROXY] = runtime.camera_proxy
    app[CAMERA_ACCESS] = runtime.camera_access
    app[RESTREAMER] = runtime.restreamer
    app[KEEP] = runtime.keep
    app[METRICS] = runtime.metrics
