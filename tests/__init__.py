"""The test suite. Run from the repository root (`python -m pytest`), which pytest puts on the
import path (`pythonpath` in pyproject.toml): shared test support is imported by its full path,
e.g. `from tests.helpers import TensorBoardProcess`, as `bench` and `scripts` do."""
