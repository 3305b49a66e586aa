"""The Spec's dataclasses: one frozen section per part of an experiment, and the Spec that holds them.

Everything non-primitive is a registry name; the defaults are the Playground's first screen.
`apply_overrides` (and `Spec.with_`) replace dotted fields, reading each value as its declared type.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from core.errors import SpecError
from core.spec.values import coerce


@dataclass(frozen=True)
class LayerSpec:
    """One layer of a layer-list model (the CNN page): conv, pool, batchnorm, act, dropout, flatten, dense."""

    type: str = "conv"
    size: int = 8  # filters for conv, units for dense
    kernel: int = 3  # conv kernel or pooling window
    stride: int = 1
    padding: int = 0
    name: str = "relu"  # activation name for act; "max"/"avg" for pool
    p: float = 0.25  # dropout probability


@dataclass(frozen=True)
class DataSpec:
    name: str = "circle"
    n: int = 500  # points (toy) or images (shapes); digits uses min(n, 1797) when n > 0; a table: its rows
    noise: float = 0.0  # percent, 0-50 (TF Playground's slider)
    train_frac: float = 0.5
    val_frac: float = 0.0  # image sets: share of the non-training part kept for validation
    batch_size: int = 10
    features: tuple[str, ...] = ("x1", "x2")
    classes: int = 3  # multi-class toy sets and shapes
    image_size: int = 8
    normalize: str = "standard"  # images: "standard" (mean/std of train), "none"
    augment: tuple[str, ...] = ()  # names from AUGMENTS, training batches only
    aug_strength: float = 0.5  # 0-1, scales rotation/shift/noise of augmentation
    gan_samples: int = 512  # GAN: real samples drawn per epoch
    table: str = ""  # an uploaded table (data.name "table"): its content hash; "" = none
    target: str = ""  # the table's label (classification) or target (regression) column
    task: str = "classification"  # what the table's target column holds: classes or numbers
    columns: int = 2  # the table's feature columns: the network's inputs (2 = the decision plane)


@dataclass(frozen=True)
class ModelSpec:
    family: str = "mlp"  # "mlp" (also used for 2-D data), "cnn" (layer list)
    hidden: tuple[int, ...] = (4, 2)
    activation: tuple[str, ...] = ("tanh",)  # one name for all layers, or one per hidden layer
    init: str = "default"
    init_scale: float = 0.5  # std for "normal", bound for "uniform"
    init_bias: float = 0.0  # bias value for every init but "default"
    batchnorm: bool = False
    dropout: float = 0.0
    residual: bool = False
    layers: tuple[LayerSpec, ...] = ()


@dataclass(frozen=True)
class TrainSpec:
    loss: str = "auto"
    optimizer: str = "sgd"
    lr: float = 0.03
    momentum: float = 0.9
    weight_decay: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    clip: float = 0.0  # max global gradient norm; 0 = off
    schedule: str = "constant"
    step_size: int = 100  # epochs between decays ("step")
    gamma: float = 0.5  # decay factor per step_size ("step") or per epoch ("exponential")
    warmup: int = 10  # epochs of linear warm-up ("warmup_cosine"); share of one-cycle rise
    epochs: int = 1000
    early_stop: int = 0  # patience in epochs on validation loss; 0 = off
    device: str = "auto"


@dataclass(frozen=True)
class GanSpec:
    noise_dim: int = 2
    noise_type: str = "normal"
    gen_hidden: tuple[int, ...] = (64, 64)
    disc_hidden: tuple[int, ...] = (64, 64)
    gen_activation: str = "relu"
    disc_activation: str = "leaky_relu"
    gen_batchnorm: bool = False
    disc_dropout: float = 0.0
    arch: str = "mlp"  # "mlp" or "dcgan" (image GAN)
    loss: str = "nonsaturating"
    d_steps: int = 1
    g_lr: float = 0.001
    d_lr: float = 0.001
    g_optimizer: str = "adam"
    d_optimizer: str = "adam"
    gp_weight: float = 0.1


@dataclass(frozen=True)
class SeqSpec:
    """Recurrent networks on sequence tasks (data.name: adding, sines, copy, text)."""

    cell: str = "lstm"  # a CELLS name: rnn_tanh, rnn_relu, lstm, gru
    hidden: int = 32  # units per layer (torch's recurrent modules use one size for every layer)
    layers: int = 1
    dropout: float = 0.0  # between stacked layers, as torch applies it (no effect with one layer)
    length: int = 50  # time steps per sequence
    tokens: int = 8  # copy: how many different symbols
    recall: int = 5  # copy: how many symbols to remember and reproduce
    forget_bias: float = 0.0  # LSTM: added to every forget gate's bias after torch's initialisation
    temperature: float = 0.8  # text: sampling temperature of the generated samples (a live field)


@dataclass(frozen=True)
class AeSpec:
    """Autoencoders (model.family "ae"): the encoder's layers, the code, the VAE, denoising, anomalies."""

    arch: str = "dense"  # "dense" or "conv"
    hidden: tuple[int, ...] = (64,)  # dense: encoder hidden units, input side first; the decoder mirrors them
    channels: tuple[int, ...] = (16, 32)  # conv: channels of each stride-2 convolution; the decoder mirrors them
    bottleneck: int = 2  # size of the code z; 2 draws the latent map without a projection
    activation: str = "relu"
    variational: bool = False  # VAE: the encoder gives a mean and a log-variance, z is sampled
    kl_weight: float = 1.0  # beta: weight of the KL term (1 = the ELBO with the bce loss)
    loss: str = "bce"  # per-pixel reconstruction loss
    noise: float = 0.0  # denoising: std of Gaussian noise on the inputs, in pixel units (0-1)
    normal_classes: tuple[int, ...] = ()  # train on these classes only (anomaly detection); () = all
    anomalies: tuple[str, ...] = ("other", "noise", "corrupt")  # what the held-out normal images are scored against


@dataclass(frozen=True)
class TransferSpec:
    """Transfer learning (model.family "transfer"): pretrain model.layers on a source task, reuse it on a target task."""

    source: str = "digits_0_4"  # the pretraining task (TRANSFER_SOURCES)
    pretrain_epochs: int = 10
    mode: str = "compare"  # which run this spec is (TRANSFER_MODES); the page trains three at once
    labels_per_class: int = 10  # labelled target examples per class; 0 = every training image
    body_lr_factor: float = 1.0  # fine-tuning: the body's LR is train.lr times this
    sweep: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 0)  # labels per class of a sweep; 0 = all


@dataclass(frozen=True)
class Spec:
    data: DataSpec = field(default_factory=DataSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    gan: GanSpec = field(default_factory=GanSpec)
    seq: SeqSpec = field(default_factory=SeqSpec)
    ae: AeSpec = field(default_factory=AeSpec)
    transfer: TransferSpec = field(default_factory=TransferSpec)
    seed: int = 0

    def with_(self, **dotted) -> Spec:
        """Return a copy with dotted keys replaced: spec.with_(**{"train.lr": 0.1})."""
        return apply_overrides(self, dotted)


SECTIONS = {
    "data": DataSpec,
    "model": ModelSpec,
    "train": TrainSpec,
    "gan": GanSpec,
    "transfer": TransferSpec,
    "seq": SeqSpec,
    "ae": AeSpec,
}


def apply_overrides(spec: Spec, dotted: dict) -> Spec:
    """Replace dotted keys ("train.lr", "seed") with values (strings or JSON values). Strict."""
    sections = {name: getattr(spec, name) for name in SECTIONS}
    seed = spec.seed
    for key, value in dotted.items():
        if key == "seed":
            seed = coerce(Spec, "seed", value, "seed")
            continue
        section, _, name = key.partition(".") if isinstance(key, str) else (key, "", "")
        if section not in SECTIONS or not name:
            raise SpecError(
                key if isinstance(key, str) and key.strip() else f"key {key!r}",
                value,
                "unknown key; use section.field with section in " + ", ".join(SECTIONS),
            )
        known = {f.name for f in fields(SECTIONS[section])}
        if name not in known:
            raise SpecError(key, value, f"unknown field; {section} has {', '.join(sorted(known))}")
        sections[section] = replace(sections[section], **{name: coerce(SECTIONS[section], name, value, key)})
    return Spec(seed=seed, **sections)
