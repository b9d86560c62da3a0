"""TensorBoard's entry point into tb-perclass.

TensorBoard imports every `tensorboard_plugins` entry point at start-up with no error handling, so
this module imports only what TensorBoard itself has already loaded; the plugin, NumPy and the
rest are imported in `load()`.
"""

from __future__ import annotations

from tensorboard.plugins import base_plugin

from tb_perclass.format.metadata import PLUGIN_NAME, SNAPSHOT_PLUGIN_NAME, SNAPSHOTS_KEPT


class PerClassLoader(base_plugin.TBLoader):
    def define_flags(self, parser):
        parser.add_argument(
            "--perclass_cache_mb",
            type=float,
            default=None,
            help="Per-Class tab: memory in MiB for the data it keeps decoded between requests "
            "(each open series' curves, the confusion steps looked at); least recently used "
            "data goes first. Default 256.",
        )

    def fix_flags(self, flags):
        budget = getattr(flags, "perclass_cache_mb", None)
        if budget is not None and not budget >= 0:
            raise base_plugin.FlagsError(
                f"--perclass_cache_mb={budget}; give the Per-Class tab's cache size in MiB, "
                "e.g. --perclass_cache_mb=512"
            )
        # TensorBoard keeps 10 (Python loader) or 100 (data server) steps per tag of a plugin it
        # does not know; a learning curve needs every step. A user's own
        # --samples_per_plugin=perclass=N still wins.
        samples = getattr(flags, "samples_per_plugin", None)
        if isinstance(samples, dict):
            samples.setdefault(PLUGIN_NAME, 0)
            # Per-sample snapshots are large and each holds the run so far: the last few do.
            samples.setdefault(SNAPSHOT_PLUGIN_NAME, SNAPSHOTS_KEPT)

    def load(self, context):
        from tb_perclass.plugin.plugin import PerClassPlugin

        return PerClassPlugin(context)
