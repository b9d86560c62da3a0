"""The TensorBoard side of tb-perclass, reading through TensorBoard's data provider only:

- `loader`: the entry point TensorBoard imports at start-up (import-light);
- `plugin`: the routes, which parse a request, call an answer and serialise it;
- `reader`: the data provider -> decoded, cached series (`series`), every step checked against
  the data contract (`validation`) and bad ones listed as skipped;
- one module per view builds its routes' answers: `curves`, `confusion`, `report`, `samples`;
- `json_encoding`, `binary_encoding`: the answers' wire formats; `static/`: the built frontend.

Nothing here imports the logger: the plugin reads what the data contract (`format`) says.
"""
