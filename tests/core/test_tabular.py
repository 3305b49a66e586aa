"""Your own CSV: parsing and validation cases, the split, the PCA projection (scikit-learn as oracle), storage."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from core.data import tabular
from core.data.tabular import TableError, check_key, pack_prepared, parse_csv, prepare, unpack_prepared

GOOD = b"a,b,c,label\n" + b"".join(f"{i},{i % 3},{i * 0.5},{'yes' if i % 2 else 'no'}\n".encode() for i in range(20))


def test_a_good_table_becomes_numbers_and_class_indices():
    t = parse_csv(GOOD)
    assert t.columns == ("a", "b", "c", "label") and len(t.rows) == 20
    assert tabular.numeric_columns(t) == ["a", "b", "c"]
    p = prepare(t, ["a", "c"], "label", "classification")
    assert p.x.shape == (20, 2) and p.x.dtype == np.float32 and p.x[3].tolist() == [3.0, 1.5]
    assert p.classes == ("no", "yes") and p.y.tolist() == [i % 2 for i in range(20)]
    r = prepare(t, ["a"], "c", "regression")
    assert r.y.dtype == np.float32 and r.y[4] == 2.0


def test_semicolons_and_a_byte_order_mark_are_read():
    t = parse_csv("\ufeffx;y\n".encode() + b"".join(f"{i};{i}\n".encode() for i in range(12)))
    assert t.columns == ("x", "y")


@pytest.mark.parametrize(
    "raw,features,target,task,message",
    [
        (GOOD.replace(b"4,1,2.0", b"4,abc,2.0"), ["a", "b"], "label", "classification", "text ('abc') on line 6"),
        (GOOD.replace(b"4,1,2.0", b"4,,2.0"), ["a", "b"], "label", "classification", "missing value on line 6"),
        (GOOD.replace(b"4,1,2.0", b"4,NaN,2.0"), ["b"], "label", "classification", "missing value"),
        (GOOD.replace(b"yes", b"no"), ["a"], "label", "classification", "one class only ('no')"),
        (GOOD, ["a"], "c", "classification", "20 different values"),
        (GOOD, ["a"], "a", "regression", "both a feature"),
        (GOOD, [], "label", "classification", "at least one feature"),
        (GOOD, ["zzz"], "label", "classification", "no column named 'zzz'"),
        (b"a,b\n1,2\n3,4\n", ["a"], "b", "regression", "at least 10"),
    ],
)
def test_bad_cells_are_named_by_column_and_line(raw, features, target, task, message):
    with pytest.raises(TableError, match=message.replace("(", r"\(").replace(")", r"\)")):
        prepare(parse_csv(raw), features, target, task)


@pytest.mark.parametrize(
    "raw,message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a CSV"),
        ("é".encode("latin-1") * 10, "not a UTF-8"),
        (b"just one line", "header line"),
        (b"alone\n1\n2\n", "one column only"),
        (b"a,b\n1,2\n3\n", "line 3 has 1 values"),
        ((",".join(f"c{i}" for i in range(51)) + "\n" + ",".join("1" * 51) + "\n").encode(), "51 columns"),
        (b"a,b\n" + b"1,2\n" * 5001, "5001 rows"),
        (b"a,b\n" + b"1,2\n" * 700_000, "MB"),
        (b"a,a\n1,2\n", "own, non-empty name"),
    ],
)
def test_files_that_are_not_usable_tables_say_why(raw, message):
    with pytest.raises(TableError, match=message):
        parse_csv(raw)


def test_split_is_seeded_and_disjoint():
    tr, te = tabular.split(100, 0.3, seed=1)
    assert len(te) == 30 and len(tr) == 70 and not set(tr) & set(te) and set(tr) | set(te) == set(range(100))
    assert (tabular.split(100, 0.3, seed=1)[1] == te).all() and not (tabular.split(100, 0.3, seed=2)[1] == te).all()


def test_pca_matches_scikit_learn():
    x = np.random.default_rng(0).normal(size=(200, 5)) @ np.random.default_rng(1).normal(size=(5, 5))
    scores, axes, share = tabular.pca_2d(x)
    ref = PCA(2).fit(x)
    assert np.allclose(share, ref.explained_variance_ratio_, atol=1e-6)
    signs = np.sign((axes * ref.components_).sum(1))  # PCA axes are defined up to sign
    assert np.allclose(axes, ref.components_ * signs[:, None], atol=1e-6)
    assert np.allclose(scores, ref.transform(x) * signs, atol=1e-4)


def test_prepared_data_is_packed_under_its_content_hash():
    p = prepare(parse_csv(GOOD), ["a", "b"], "label", "classification")
    key, raw = pack_prepared(p)
    assert key == tabular.content_hash(p) and len(key) == 16
    back = unpack_prepared(key, raw)
    assert (back.x == p.x).all() and (back.y == p.y).all() and back.classes == p.classes
    other = prepare(parse_csv(GOOD), ["a", "c"], "label", "classification")
    assert tabular.content_hash(other) != key  # other columns, another name
    with pytest.raises(TableError, match="upload the CSV again"):
        unpack_prepared("0" * 16, raw)  # bytes that do not hash to their name
    with pytest.raises(TableError, match="16 hex digits"):
        check_key("../../etc/passwd")


def test_a_column_that_cannot_be_a_feature_says_where():
    t = parse_csv(b"a,b,c\n" + b"1,2,3\n" * 3 + b"4,x,\n")
    assert tabular.column_problem(t, "a") == ""
    assert "text ('x') on line 5" in tabular.column_problem(t, "b")
    assert "missing value on line 5" in tabular.column_problem(t, "c")
