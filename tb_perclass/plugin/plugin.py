"""The Per-Class TensorBoard plugin: routes that parse a request, call the reader, serialise.

Routes (all GET, under /data/plugin/perclass/; see the README's reference):
  index.js            the frontend bundle TensorBoard loads into the tab's iframe
  tags                {run: {name: {kinds, task, class_names, num_classes, loss}}}
  curves?run&name     per-class loss / count / accuracy / non-finite counts over steps

Bad parameters raise TensorBoard's public errors, which TensorBoard answers with 400 or 404 and a
plain-text message; nothing from a request is used as a file path.
"""

from __future__ import annotations

import importlib.resources
from typing import Any, Callable

from tensorboard import errors, plugin_util
from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from tb_perclass import metadata
from tb_perclass.plugin import json_encoding
from tb_perclass.plugin.reader import PerClassReader

_JSON = "application/json"
_BUNDLE = "index.js"


class PerClassPlugin(base_plugin.TBPlugin):
    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context: base_plugin.TBContext):
        self._reader = PerClassReader(context.data_provider)

    def get_plugin_apps(self) -> dict[str, Callable]:
        return {
            "/index.js": self._serve_bundle,
            "/tags": self._serve_tags,
            "/curves": self._serve_curves,
        }

    def is_active(self) -> bool:
        # TensorBoard decides activity from the data provider via data_plugin_names().
        return False

    def frontend_metadata(self) -> base_plugin.FrontendMetadata:
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="Per-Class")

    @wrappers.Request.application
    def _serve_bundle(self, request: wrappers.Request) -> wrappers.Response:
        resource = importlib.resources.files("tb_perclass.plugin").joinpath("static", _BUNDLE)
        try:
            body = resource.read_bytes()
        except FileNotFoundError:
            raise errors.NotFoundError(
                "the frontend bundle is missing from this installation; build it with "
                "`npm ci --prefix frontend && npm run build --prefix frontend`"
            ) from None
        return http_util.Respond(request, body, "application/javascript")

    @wrappers.Request.application
    def _serve_tags(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        heads = self._reader.heads(ctx, experiment)
        body = {
            run: {name: head.as_dict() for name, head in by_name.items()}
            for run, by_name in heads.items()
        }
        return _respond_json(request, body)

    @wrappers.Request.application
    def _serve_curves(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run = _required(request, "run")
        name = _required(request, "name")
        return _respond_json(request, self._reader.curves(ctx, experiment, run, name))


def _request_scope(request: wrappers.Request) -> tuple[Any, str]:
    return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)


def _required(request: wrappers.Request, parameter: str) -> str:
    value = request.args.get(parameter)
    if value is None or value == "":
        raise errors.InvalidArgumentError(f"missing query parameter {parameter!r}")
    return value


def _respond_json(request: wrappers.Request, body: Any) -> wrappers.Response:
    return http_util.Respond(request, json_encoding.dumps(body), _JSON)
