"""The TensorBoard side of tb-perclass: `loader` (entry point), `plugin` (routes), `reader`
(data provider -> plain data), `json_encoding` and `static/` (the built frontend)."""
