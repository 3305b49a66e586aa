"""CNN core: image datasets, augmentation, the layer plan vs PyTorch, named errors, views vs direct forwards."""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from core.data.images import augment_preview, digits, make_augmenter, make_image_dataset, make_shapes, split_sizes
from core.data.upload import image_to_input, open_upload
from core.engine import Trainer
from core.models.cnn import build_cnn, layer_table
from core.presets import load_preset
from core.spec import LayerSpec, Spec, SpecError, validate
from core.views.cnn import cnn_views, feature_layers, first_filters, image_view

L = LayerSpec
ROOT = Path(__file__).resolve().parents[2]


def cnn_spec(layers, **data) -> Spec:
    fields = {"data.name": "digits", "data.n": 200, "data.image_size": 8, "data.batch_size": 32}
    fields |= {f"data.{k}": v for k, v in data.items()}
    return Spec().with_(**fields, **{"model.family": "cnn", "model.layers": list(layers), "train.optimizer": "adam"})


STACKS = [
    [L("conv", 4, 3, 1, 1), L("act", name="relu"), L("pool", kernel=2, stride=2, name="max"), L("dense", 16)],
    [
        L("conv", 3, 5, 2, 2),
        L("batchnorm"),
        L("act", name="tanh"),
        L("pool", kernel=3, stride=1, padding=1, name="avg"),
    ],
    [L("conv", 2, 3), L("dropout", p=0.5), L("flatten"), L("dense", 8), L("batchnorm"), L("act", name="gelu")],
    [],
]


# ---------------------------------------------------------------------------- datasets
def test_digits_split_normalisation_and_upscaling():
    spec = cnn_spec([], n=0, image_size=16, train_frac=0.7, val_frac=0.5)
    d = make_image_dataset(spec)
    assert d.x_train.shape[1:] == (1, 16, 16) and d.x_train.dtype == torch.float32
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == split_sizes(1797, 0.7, 0.5)
    assert d.y_train.dtype == torch.long and d.n_classes == 10
    # standardised with the training set's own statistics
    assert abs(float(d.x_train.mean())) < 1e-4 and abs(float(d.x_train.std()) - 1) < 1e-3
    raw = d.x_test * d.extra["std"] + d.extra["mean"]
    assert float(raw.min()) >= -1e-5 and float(raw.max()) <= 1 + 1e-5
    assert d.extra["class_names"] == [str(i) for i in range(10)]


def test_digits_first_n_after_seeded_shuffle():
    from sklearn.datasets import load_digits

    a = make_image_dataset(cnn_spec([], n=50, normalize="none", train_frac=0.6))
    b = make_image_dataset(cnn_spec([], n=50, normalize="none", train_frac=0.6))
    assert len(a.x_train) + len(a.x_test) == 50 and torch.equal(a.x_train, b.x_train)
    raw = load_digits()
    img, label = a.x_train[0, 0].numpy(), int(a.y_train[0])
    match = [i for i in range(len(raw.images)) if np.allclose(raw.images[i] / 16.0, img)]
    assert match and raw.target[match[0]] == label


def test_the_digits_are_scikit_learns_read_without_importing_it():
    """The digits read from scikit-learn's shipped file are `load_digits()`'s, pixel for pixel and label for label,
    and reading them leaves scikit-learn (and scipy) unimported: a page's first drawing does not wait for them."""
    code = (
        "import sys; from core.data.images import digits; images, labels = digits(); "
        "print(images.shape, labels.shape, 'sklearn' in sys.modules, 'scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.split() == ["(1797,", "8,", "8)", "(1797,)", "False", "False"], out
    from sklearn.datasets import load_digits

    raw, (images, labels) = load_digits(), digits()
    assert np.array_equal(images, raw.images) and np.array_equal(labels, raw.target)


def test_val_frac_zero_validates_on_test_set():
    d = make_image_dataset(cnn_spec([], val_frac=0.0))
    assert d.extra["val_is_test"] and torch.equal(d.x_val, d.x_test)


def test_shapes_deterministic_per_seed_and_balanced():
    a, la = make_shapes(60, 6, 28, 10.0, seed=3)
    b, lb = make_shapes(60, 6, 28, 10.0, seed=3)
    c, _ = make_shapes(60, 6, 28, 10.0, seed=4)
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    assert not np.array_equal(a, c)
    assert a.shape == (60, 28, 28) and a.min() >= 0 and a.max() <= 1
    assert np.bincount(la).tolist() == [10] * 6
    spec = cnn_spec([], **{"name": "shapes", "n": 120, "classes": 4, "image_size": 32, "noise": 5})
    d1, d2 = make_image_dataset(spec), make_image_dataset(spec)
    assert torch.equal(d1.x_train, d2.x_train) and d1.x_train.shape[1:] == (1, 32, 32)
    assert d1.extra["class_names"] == ["circle", "square", "triangle", "cross"]


def test_shapes_have_at_most_eight_classes():
    with pytest.raises(SpecError) as e:
        make_shapes(20, 9, 28, 0, 0)
    assert e.value.field == "data.classes"


# ---------------------------------------------------------------------------- augmentation
def test_augmentation_keeps_shape_labels_and_is_seeded():
    spec = cnn_spec(STACKS[0], augment=("rotate", "shift", "flip", "noise"), aug_strength=0.7)
    aug = make_augmenter(spec)
    x = make_image_dataset(spec).x_train[:32]
    a = aug(x, torch.Generator().manual_seed(5))
    b = aug(x, torch.Generator().manual_seed(5))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b) and not torch.equal(a, x)
    # labels never pass through the augmenter: a trainer's batch keeps its targets
    trainer = Trainer(spec)
    trainer._order = torch.arange(trainer.n_train)
    xb, yb = trainer._next_batch()
    assert torch.equal(yb, trainer.data.y_train[:32]) and xb.shape == (32, 1, 8, 8)
    assert not torch.equal(xb, trainer.data.x_train[:32])


def test_flip_only_mirrors_and_zero_strength_rotation_is_identity():
    x = torch.randn(16, 1, 8, 8)
    flipped = make_augmenter(cnn_spec([], augment=("flip",)))(x, torch.Generator().manual_seed(0))
    for i in range(16):
        assert torch.equal(flipped[i], x[i]) or torch.equal(flipped[i], x[i].flip(-1))
    same = make_augmenter(cnn_spec([], augment=("rotate", "shift"), aug_strength=0.0))(x, torch.Generator())
    assert torch.allclose(same, x, atol=1e-5)


def test_augment_preview_shape():
    spec = cnn_spec([], augment=("rotate",))
    pair = augment_preview(spec, 6)
    assert pair.shape == (2, 6, 8, 8) and pair.dtype == np.float32


# ---------------------------------------------------------------------------- model plan vs PyTorch
@pytest.mark.parametrize("layers", STACKS)
def test_layer_table_matches_pytorch(layers):
    spec = cnn_spec(layers)
    table = layer_table(spec)
    model = build_cnn(spec).eval()
    mods = [*model.body, model.output]
    assert len(mods) == len(table)
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:]))) for m in mods]
    model(torch.zeros(2, 1, 8, 8))
    for h in hooks:
        h.remove()
    assert shapes == [r["shape"] for r in table]
    for row, mod in zip(table, mods):
        assert row["params"] == sum(p.numel() for p in mod.parameters())
    assert table[-1]["shape"] == (10,)
    assert sum(r["params"] for r in table) == sum(p.numel() for p in model.parameters())


def test_flatten_added_and_two_classes_get_one_logit():
    spec = cnn_spec([L("conv", 2, 3)], name="shapes", n=40, classes=2, image_size=16)
    table = layer_table(spec)
    assert [r["layer"] for r in table[-2:]] == ["flatten (added)", "output: dense 1 (logit)"]
    assert table[-2]["shape"] == (2 * 14 * 14,)


@pytest.mark.parametrize(
    "layers, field",
    [
        ([L("conv", 4, 9)], "model.layers[0].kernel"),
        ([L("conv", 4, 3), L("pool", kernel=2, stride=2, name="max"), L("conv", 4, 5)], "model.layers[2].kernel"),
        (
            [L("pool", kernel=2, stride=2, name="max")] * 3 + [L("pool", kernel=2, stride=2, name="max")],
            "model.layers[3].kernel",
        ),
        ([L("flatten"), L("conv", 4, 3)], "model.layers[1]"),
        ([L("pool", kernel=2, padding=2, name="max")], "model.layers[0].padding"),
    ],
)
def test_invalid_stacks_name_the_layer(layers, field):
    spec = cnn_spec(layers)
    with pytest.raises(SpecError) as e:
        layer_table(spec)
    assert e.value.field == field
    with pytest.raises(SpecError) as e:
        validate(spec)  # validation walks the same shape arithmetic, so the app and the runner refuse it the same way
    assert e.value.field == field


def test_cnn_needs_an_image_dataset():
    spec = Spec().with_(**{"model.family": "cnn", "model.layers": [L("conv", 2, 3)]})
    with pytest.raises(SpecError) as e:
        validate(spec)
    assert e.value.field == "model.family"


# ---------------------------------------------------------------------------- views
def test_feature_maps_equal_a_direct_forward_of_the_sub_network():
    layers = [L("conv", 4, 3, 1, 1), L("batchnorm"), L("act", name="relu"), L("pool", kernel=2, stride=2, name="max")]
    layers += [L("conv", 6, 3, 1, 1), L("act", name="tanh"), L("dense", 8)]
    spec = cnn_spec(layers)
    trainer = Trainer(spec)
    for _ in range(3):
        trainer.step()  # batch norm gets running statistics that differ from the initial ones
    x = trainer.data.x_test[:1].numpy()
    view = image_view(trainer.model, x)
    assert [t for t, _ in feature_layers(trainer.model)] == ["conv 1 → batch norm → ReLU", "conv 2 → Tanh"]
    body = trainer.model.body.eval()
    with torch.no_grad():
        first = body[:3](torch.from_numpy(x))[0].numpy()
        second = body[:6](torch.from_numpy(x))[0].numpy()
        probs = torch.softmax(trainer.model(torch.from_numpy(x)), 1)[0].numpy()
    np.testing.assert_allclose(view["maps"][0]["maps"], first, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(view["maps"][1]["maps"], second, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(view["probs"], probs, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(first_filters(trainer.model), trainer.model.body[0].weight.detach()[:, 0].numpy())


def test_test_view_matches_direct_counts():
    spec = cnn_spec(STACKS[0])
    trainer = Trainer(spec)
    trainer.run_epoch()
    view = cnn_views(trainer)
    with torch.no_grad():
        pred = trainer.model.eval()(trainer.data.x_test).argmax(1)
    true = trainer.data.y_test
    assert view["confusion"].sum() == len(true)
    assert np.trace(view["confusion"]) == int((pred == true).sum())
    assert view["confusion"][int(true[0]), int(pred[0])] >= 1
    assert view["test_accuracy"] == pytest.approx(float((pred == true).float().mean()))
    wrong = view["wrong"]
    assert len(wrong["images"]) == min(16, int((pred != true).sum()))
    for i, idx in enumerate(wrong["index"]):
        assert wrong["pred"][i] == int(pred[idx]) != wrong["true"][i] == int(true[idx])


def _png(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def test_upload_becomes_model_input():
    # a dark "1" on white paper, off centre, in a big RGB picture
    img = Image.new("RGB", (300, 200), "white")
    img.paste((0, 0, 0), (40, 30, 60, 170))
    x, shown = image_to_input(open_upload(_png(img)), 8, 0.3, 0.4)
    assert x.shape == (1, 1, 8, 8) and x.dtype == np.float32
    assert shown.shape == (8, 8) and shown.max() == 1.0 and shown[:, 0].max() < 0.1  # ink bright, centred
    np.testing.assert_allclose(x[0, 0], (shown - 0.3) / 0.4, rtol=1e-6)
    model = build_cnn(cnn_spec(STACKS[0]))
    assert image_view(model, x)["probs"].shape == (10,)


def test_upload_rejects_bad_files():
    with pytest.raises(ValueError, match="not an image"):
        open_upload(b"hello")
    with pytest.raises(ValueError, match="MB"):
        open_upload(b"0" * 3_000_000)
    with pytest.raises(ValueError, match="GIF"):
        open_upload(_png(Image.new("L", (8, 8)), "GIF"))


# ---------------------------------------------------------------------------- presets
def test_cnn_presets_validate():
    for name in ("cnn-digits", "cnn-shapes", "cnn-augmentation", "cnn-no-pooling"):
        preset = load_preset(name)
        assert preset.page == "cnn"
        validate(preset.spec)
    assert load_preset("cnn-augmentation").compare_spec().data.augment == ()


def test_named_layers_for_gradient_norms():
    model = build_cnn(cnn_spec(STACKS[2]))
    names = [n for n, _ in model.named_layers()]
    assert names == ["conv1", "dense1", "output"]
    assert all(isinstance(m, (nn.Conv2d, nn.Linear)) for _, m in model.named_layers())
