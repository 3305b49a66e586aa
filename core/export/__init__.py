"""Leave the playground as plain PyTorch: the spec as JSON, weights as safetensors, metrics as CSV
(`files`), and a standalone script that rebuilds the spec's data, model and training loop (`script`,
its text in `templates`).
"""

from core.export.files import load_weights_into, metrics_csv, read_weights, spec_json, weights_bytes
from core.export.script import script_blocks, script_supported, script_text
from core.export.templates import FEATURE_CODE, INIT_CODE, SCHEDULE_CODE

__all__ = [
    "FEATURE_CODE",
    "INIT_CODE",
    "SCHEDULE_CODE",
    "load_weights_into",
    "metrics_csv",
    "read_weights",
    "script_blocks",
    "script_supported",
    "script_text",
    "spec_json",
    "weights_bytes",
]
