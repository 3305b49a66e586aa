"""The Spec: one validated, serialisable description of an experiment (data, model, training, seed).

Everything non-primitive is a registry name. `validate()` raises one SpecError naming the field.
`to_dict`/`from_dict` are strict (unknown keys are errors); `to_query`/`from_query` are lenient.

The package, bottom up (each imports only those above it):
  values      how a raw value (JSON, URL text, --set string) becomes a field's declared type
  sections    the frozen dataclasses, SECTIONS, apply_overrides (Spec.with_)
  limits      the limits table: LIMITS, LENGTHS, CHOICES, PATTERNS and the caps behind them
  validation  validate() and what a spec implies (task_of, n_classes, resolved_loss, output_size)
  codecs      dict/JSON (strict) and URL query (lenient)
Import from `core.spec`, not from these modules: the package's names are its interface.
"""

from core.errors import SpecError
from core.spec.codecs import from_dict, from_json, from_query, to_dict, to_json, to_query
from core.spec.limits import (
    BOOL,
    CHOICES,
    GAN_ARCHS,
    LAYER_NAMES,
    LENGTHS,
    LIMITS,
    MAX_AE_CHANNELS,
    MAX_AE_LAYERS,
    MAX_BATCH,
    MAX_BOTTLENECK,
    MAX_CONV_LAYERS,
    MAX_EPOCHS,
    MAX_HIDDEN_LAYERS,
    MAX_IMAGE_SIZE,
    MAX_LABELS_PER_CLASS,
    MAX_POINTS,
    MAX_SEQ_LAYERS,
    MAX_SEQ_LENGTH,
    MAX_UNITS,
    MIN_TOY_POINTS,
    MODEL_FAMILIES,
    NORMALIZATIONS,
    PATTERNS,
    POOLS,
    TABLE_TASKS,
    Limit,
    Pattern,
)
from core.spec.sections import (
    SECTIONS,
    AeSpec,
    DataSpec,
    GanSpec,
    LayerSpec,
    ModelSpec,
    SeqSpec,
    Spec,
    TrainSpec,
    TransferSpec,
    apply_overrides,
)
from core.spec.validation import n_classes, output_size, resolved_loss, task_of, validate, validate_field
from core.spec.values import FALSE, MAX_TEXT, TRUE, parse_overrides

__all__ = [
    "BOOL",
    "CHOICES",
    "FALSE",
    "GAN_ARCHS",
    "LAYER_NAMES",
    "LENGTHS",
    "LIMITS",
    "MAX_AE_CHANNELS",
    "MAX_AE_LAYERS",
    "MAX_BATCH",
    "MAX_BOTTLENECK",
    "MAX_CONV_LAYERS",
    "MAX_EPOCHS",
    "MAX_HIDDEN_LAYERS",
    "MAX_IMAGE_SIZE",
    "MAX_LABELS_PER_CLASS",
    "MAX_POINTS",
    "MAX_SEQ_LAYERS",
    "MAX_SEQ_LENGTH",
    "MAX_TEXT",
    "MAX_UNITS",
    "MIN_TOY_POINTS",
    "MODEL_FAMILIES",
    "NORMALIZATIONS",
    "PATTERNS",
    "POOLS",
    "SECTIONS",
    "TABLE_TASKS",
    "TRUE",
    "AeSpec",
    "DataSpec",
    "GanSpec",
    "LayerSpec",
    "Limit",
    "ModelSpec",
    "Pattern",
    "SeqSpec",
    "Spec",
    "SpecError",
    "TrainSpec",
    "TransferSpec",
    "apply_overrides",
    "from_dict",
    "from_json",
    "from_query",
    "n_classes",
    "output_size",
    "parse_overrides",
    "resolved_loss",
    "task_of",
    "to_dict",
    "to_json",
    "to_query",
    "validate",
    "validate_field",
]
