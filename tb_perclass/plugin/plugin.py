"""The Per-Class TensorBoard plugin: routes that parse a request, call an answer, serialise.

Routes (all GET, under /data/plugin/perclass/; see the README's reference):
  index.js                       the frontend bundle TensorBoard loads into the tab's iframe
  tags                           {run: {name: {kinds, task, class_names, num_classes, loss,
                                 version}}}
  steps?run&name&kind            the steps that have data of one kind
  curves?run&name[&format=binary] per-class loss / count / accuracy / non-finite (and TP/FP/FN)
  confusion?run&name[&step][&nearest=earlier]   one step's confusion counts (latest step by
                                 default; with nearest=earlier, the latest step with a matrix
                                 at or before `step` when `step` has none: confusion_every)
  pairs?run&name[&step][&limit]  most-confused pairs and their counts over the steps
  diff?run&name[&step]&base_run[&base_name][&base_step][&limit]   difference of two series or steps
  report?run&name[&step][&format=csv]             precision, recall, F1, support, loss (and AP,
                                                  AUROC, ECE, top-k accuracy with scores)
  scores?run&name[&step][&classes=i,j,...]        every class's AP, AUROC, calibration at a
                                                  step; the listed classes' curves
  order?run&name[&step]&by=cluster                classes ordered by confusion clusters
  samples?run&name[&step][&true][&pred][&label][&order=score|loss]   kept mistakes
  blob?run&name&step&index       one kept sample's bytes (PNG or text)
  sample_history?run&name&id     where one sample was kept, step by step
  dynamics?run&name[&format=binary]              tracked samples' per-class counts per step
  data_map?run&name[&step]       one snapshot's data map (binary columns)
  dynamics_samples?run&name[&step]&list=errors|forgotten[&class][&limit][&offset][&format=csv]
                                 ranked likely label errors or most forgotten samples
  dynamics_media?run&name&step&index             one listed sample's thumbnail or text

Each route's answer comes from the module of its view (`curves`, `confusion`, `report`,
`samples`, `dynamics`) over the series `reader` decodes; `tags` and `steps` from the reader itself.
What the reader keeps is bounded by `--perclass_cache_mb` (the loader defines the flag), and
after each answer the plugin gives the memory its request freed back to the system
(`byte_cache`).
Bad parameters raise TensorBoard's public errors, which TensorBoard answers with 400 or 404 and a
plain-text message; nothing from a request is used as a file path.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable
from typing import Any

from tensorboard import errors, plugin_util
from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin
from werkzeug import wrappers, wsgi

from tb_perclass.format import metadata
from tb_perclass.plugin import (
    binary_encoding,
    confusion,
    curves,
    dynamics,
    json_encoding,
    report,
    samples,
    scores,
)
from tb_perclass.plugin.byte_cache import ByteBudgetCache, release_free_memory
from tb_perclass.plugin.reader import DEFAULT_CACHE_BYTES, PerClassReader

_JSON = "application/json"
_BUNDLE = "index.js"
DEFAULT_LIMIT = 20  # most-confused pairs and biggest changes listed
MAX_LIMIT = 1000
DEFAULT_LISTED = 50  # ranked samples per page
BLOB_CACHE_SECONDS = 24 * 3600


class PerClassPlugin(base_plugin.TBPlugin):
    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context: base_plugin.TBContext):
        megabytes = getattr(context.flags, "perclass_cache_mb", None)
        budget = DEFAULT_CACHE_BYTES if megabytes is None else int(megabytes * 2**20)
        self._reader = PerClassReader(context.data_provider, ByteBudgetCache(budget))

    def get_plugin_apps(self) -> dict[str, Callable]:
        apps = {
            "/index.js": self._serve_bundle,
            "/tags": self._serve_tags,
            "/steps": self._serve_steps,
            "/curves": self._serve_curves,
            "/confusion": self._serve_confusion,
            "/pairs": self._serve_pairs,
            "/diff": self._serve_diff,
            "/report": self._serve_report,
            "/scores": self._serve_scores,
            "/order": self._serve_order,
            "/samples": self._serve_samples,
            "/blob": self._serve_blob,
            "/sample_history": self._serve_sample_history,
            "/dynamics": self._serve_dynamics,
            "/data_map": self._serve_data_map,
            "/dynamics_samples": self._serve_dynamics_samples,
            "/dynamics_media": self._serve_dynamics_media,
        }
        return {route: _releasing(app) for route, app in apps.items()}

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
    def _serve_steps(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name, kind = (_required(request, p) for p in ("run", "name", "kind"))
        return _respond_json(request, self._reader.steps(ctx, experiment, run, name, kind))

    @wrappers.Request.application
    def _serve_curves(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run = _required(request, "run")
        name = _required(request, "name")
        output = request.args.get("format", "json")
        if output not in ("json", "binary"):
            raise errors.InvalidArgumentError(f"format={output!r}; use json or binary")
        found = curves.answer(self._reader, ctx, experiment, run, name)
        if output == "binary":  # what the tab fetches: milliseconds instead of ~1 s at C=1000
            body = binary_encoding.encode(curves.as_binary(found))
            return http_util.Respond(request, body, binary_encoding.MEDIA_TYPE)
        return _respond_json(request, curves.as_json(found))

    @wrappers.Request.application
    def _serve_confusion(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name, step = _required(request, "run"), _required(request, "name"), _step(request)
        nearest = request.args.get("nearest")
        if nearest not in (None, "", "earlier"):
            raise errors.InvalidArgumentError(
                f"nearest={nearest[:40]!r}; use nearest=earlier (the latest step with a matrix "
                "at or before step), or leave it out (that step only)"
            )
        body = confusion.matrix(
            self._reader, ctx, experiment, run, name, step, earlier=nearest == "earlier"
        )
        return _respond_json(request, body)

    @wrappers.Request.application
    def _serve_pairs(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name, step = _required(request, "run"), _required(request, "name"), _step(request)
        body = confusion.pairs(self._reader, ctx, experiment, run, name, step, _limit(request))
        return _respond_json(request, body)

    @wrappers.Request.application
    def _serve_diff(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        body = confusion.diff(
            self._reader,
            ctx,
            experiment,
            name=_required(request, "name"),
            run=_required(request, "run"),
            step=_step(request),
            base_run=_required(request, "base_run"),
            base_step=_step(request, "base_step"),
            limit=_limit(request),
            base_name=request.args.get("base_name") or None,
        )
        return _respond_json(request, body)

    @wrappers.Request.application
    def _serve_report(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name, step = _required(request, "run"), _required(request, "name"), _step(request)
        output = request.args.get("format", "json")
        if output not in ("json", "csv"):
            raise errors.InvalidArgumentError(f"format={output!r}; use json or csv")
        found = report.at_step(self._reader, ctx, experiment, run, name, step)
        if output == "csv":
            filename = report.csv_filename(run, name, found.step)
            return http_util.Respond(
                request,
                report.as_csv(found),
                "text/csv",
                headers=[("Content-Disposition", f'attachment; filename="{filename}"')],
            )
        return _respond_json(request, report.as_json(found, run, name))

    @wrappers.Request.application
    def _serve_scores(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name, step = _required(request, "run"), _required(request, "name"), _step(request)
        body = scores.step_answer(self._reader, ctx, experiment, run, name, step, _classes(request))
        return _respond_json(request, body)

    @wrappers.Request.application
    def _serve_order(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name, step = _required(request, "run"), _required(request, "name"), _step(request)
        if request.args.get("by") != "cluster":
            raise errors.InvalidArgumentError(
                "by must be 'cluster' (orders by index, name or error are computed by the tab)"
            )
        return _respond_json(
            request, confusion.order(self._reader, ctx, experiment, run, name, step)
        )

    @wrappers.Request.application
    def _serve_samples(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name, step = _required(request, "run"), _required(request, "name"), _step(request)
        filters = {
            key: value
            for key in ("true", "pred", "label")
            if (value := _integer(request, key)) is not None
        }
        order = request.args.get("order", "score")
        if order not in ("score", "loss"):
            raise errors.InvalidArgumentError(f"order={order!r}; use score or loss")
        body = samples.kept(self._reader, ctx, experiment, run, name, step, filters, order)
        return _respond_json(request, body)

    @wrappers.Request.application
    def _serve_blob(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name = _required(request, "run"), _required(request, "name")
        step, index = _integer(request, "step"), _integer(request, "index")
        if step is None or index is None:
            raise errors.InvalidArgumentError("blob needs step and index (from the samples route)")
        data, media_type = samples.blob(self._reader, ctx, experiment, run, name, step, index)
        # The URL names the step's wall time (v=...), so the bytes behind it never change.
        return http_util.Respond(request, data, media_type, expires=BLOB_CACHE_SECONDS)

    @wrappers.Request.application
    def _serve_sample_history(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name = _required(request, "run"), _required(request, "name")
        body = samples.history(self._reader, ctx, experiment, run, name, _required(request, "id"))
        return _respond_json(request, body)

    @wrappers.Request.application
    def _serve_dynamics(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name = _required(request, "run"), _required(request, "name")
        output = request.args.get("format", "json")
        if output not in ("json", "binary"):
            raise errors.InvalidArgumentError(f"format={output!r}; use json or binary")
        body = dynamics.counts(self._reader, ctx, experiment, run, name)
        if output == "binary":
            return http_util.Respond(
                request, binary_encoding.encode(body), binary_encoding.MEDIA_TYPE
            )
        return _respond_json(request, body)

    @wrappers.Request.application
    def _serve_data_map(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name, step = _required(request, "run"), _required(request, "name"), _step(request)
        header, columns = dynamics.data_map(self._reader, ctx, experiment, run, name, step)
        body = binary_encoding.encode_columns(header, columns)
        return http_util.Respond(request, body, binary_encoding.MEDIA_TYPE)

    @wrappers.Request.application
    def _serve_dynamics_samples(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name, step = _required(request, "run"), _required(request, "name"), _step(request)
        output = request.args.get("format", "json")
        if output not in ("json", "csv"):
            raise errors.InvalidArgumentError(f"format={output!r}; use json or csv")
        offset = _integer(request, "offset") or 0
        if offset < 0:
            raise errors.InvalidArgumentError(f"offset={offset}; use 0 or more")
        limit = _integer(request, "limit")
        if limit is not None and limit < 1:
            raise errors.InvalidArgumentError(f"limit={limit}; use 1 or more")
        if limit is None and output == "json":
            limit = DEFAULT_LISTED
        which = request.args.get("list", "errors")
        label = _integer(request, "class")
        body = dynamics.listed_samples(
            self._reader, ctx, experiment, run, name, step, which, label, limit, offset
        )
        if output == "csv":
            scope = "all" if label is None else f"class{label}"
            filename = f"perclass-{which}-{scope}-step{body['step']}.csv"
            return http_util.Respond(
                request,
                dynamics.as_csv(body),
                "text/csv",
                headers=[("Content-Disposition", f'attachment; filename="{filename}"')],
            )
        return _respond_json(request, body)

    @wrappers.Request.application
    def _serve_dynamics_media(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _request_scope(request)
        run, name = _required(request, "run"), _required(request, "name")
        step, index = _integer(request, "step"), _integer(request, "index")
        if step is None or index is None:
            raise errors.InvalidArgumentError(
                "dynamics_media needs step and index (from the dynamics_samples route)"
            )
        data, media_type = dynamics.media(self._reader, ctx, experiment, run, name, step, index)
        return http_util.Respond(request, data, media_type, expires=BLOB_CACHE_SECONDS)


def _releasing(app: Callable) -> Callable:
    """`app` (WSGI), giving the heap pages its request freed back to the system once the answer
    is sent: a curves answer at 5000 steps is tens of MB, and the C allocator would keep them."""

    def released(environ: dict, start_response: Callable) -> Any:
        return wsgi.ClosingIterator(app(environ, start_response), [release_free_memory])

    return released


def _request_scope(request: wrappers.Request) -> tuple[Any, str]:
    return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)


def _required(request: wrappers.Request, parameter: str) -> str:
    value = request.args.get(parameter)
    if value is None or value == "":
        raise errors.InvalidArgumentError(f"missing query parameter {parameter!r}")
    return value


def _integer(request: wrappers.Request, parameter: str) -> int | None:
    value = request.args.get(parameter)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.InvalidArgumentError(f"{parameter}={value!r} is not an integer") from None


def _classes(request: wrappers.Request) -> list[int]:
    value = request.args.get("classes", "")
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise errors.InvalidArgumentError(
            f"classes={value[:80]!r}; pass class indices separated by commas, e.g. classes=0,3"
        ) from None


def _step(request: wrappers.Request, parameter: str = "step") -> int | None:
    return _integer(request, parameter)


def _limit(request: wrappers.Request) -> int:
    limit = _integer(request, "limit")
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise errors.InvalidArgumentError(f"limit={limit}; use 1 to {MAX_LIMIT}")
    return limit


def _respond_json(request: wrappers.Request, body: Any) -> wrappers.Response:
    return http_util.Respond(request, json_encoding.dumps(body), _JSON)
