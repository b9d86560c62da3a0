"""TensorBoard's entry point into tb-perclass.

TensorBoard imports every `tensorboard_plugins` entry point at start-up with no error handling, so
this module imports only what TensorBoard itself has already loaded; the plugin, NumPy and the
rest are imported in `load()`.
"""

from __future__ import annotations

from tensorboard.plugins import base_plugin

from tb_perclass.format.metadata import PLUGIN_NAME


class PerClassLoader(base_plugin.TBLoader):
    def fix_flags(self, flags):
        # TensorBoard keeps 10 (Python loader) or 100 (data server) steps per tag of a plugin it
        # does not know; a learning curve needs every step. A user's own
        # --samples_per_plugin=perclass=N still wins.
        samples = getattr(flags, "samples_per_plugin", None)
        if isinstance(samples, dict):
            samples.setdefault(PLUGIN_NAME, 0)

    def load(self, context):
        from tb_perclass.plugin.plugin import PerClassPlugin

        return PerClassPlugin(context)
