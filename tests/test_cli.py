"""The command-line job: ``python -m sklearn_em_gmm`` and its ``main(argv)``."""

import contextlib
import io
import re
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import SKLEARN_COVARIANCE_TYPES as COVARIANCE_TYPES
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.cli import (
    main,
    parse_args,
    parse_components,
    parse_covariance_types,
)
from sklearn_em_gmm.covariance import get_covariance_model, register, unregister

PREFIX = "sklearn-em-gmm: error: "


def run(capsys, *args):
    """Run ``main`` in-process; return its status, stdout and stderr."""
    status = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return status, out, err


def bic_table(out):
    """The printed BIC table as {column name: {n_components: cell text}}."""
    lines = out.splitlines()
    start = lines.index("BIC (lower is better):") + 1
    names = lines[start].split()[1:]
    table = {name: {} for name in names}
    for line in lines[start + 1 :]:
        fields = line.split()
        if not fields or not fields[0].isdigit():
            break
        for name, cell in zip(names, fields[1:], strict=True):
            table[name][int(fields[0])] = cell
    return table


def selected(out):
    """The selected model's n_components, covariance type, BIC and log-likelihood."""
    section = out[out.index("Selected model") :]

    def field(name):
        return re.search(rf"^  {name} +(\S+)", section, re.MULTILINE).group(1)

    return (
        int(field("n_components")),
        field("covariance_type"),
        float(field("BIC")),
        float(field("mean log-likelihood")),
    )


def iris_frame():
    iris = load_iris()
    return pd.DataFrame(iris.data, columns=iris.feature_names)


@pytest.fixture(scope="module")
def default_run():
    """One run without arguments, shared: the iris data and the 9 x 4 grid."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def iris_bics():
    """The BIC of every default grid cell, fitted independently of the CLI."""
    X = load_iris().data
    bics = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name in COVARIANCE_TYPES:
            for k in range(1, 10):
                model = GaussianMixture(k, covariance_type=name, random_state=0)
                bics[k, name] = model.fit(X).bic(X)
    return bics


def test_default_run_prints_a_bic_table_and_a_selected_model(default_run):
    status, out, err = default_run
    assert status == 0
    assert err == ""
    assert "Data: iris (scikit-learn), 150 rows x 4 columns" in out
    table = bic_table(out)
    assert list(table) == COVARIANCE_TYPES
    assert all(sorted(column) == list(range(1, 10)) for column in table.values())
    cells = [cell for column in table.values() for cell in column.values()]
    assert sum(cell.endswith("*") for cell in cells) == 1
    assert "Selected model (lowest BIC):" in out
    assert "Weights and means" in out
    assert "sepal length (cm)" in out


def test_bic_table_matches_independent_fits(default_run, iris_bics):
    table = bic_table(default_run[1])
    best = min(iris_bics, key=iris_bics.get)
    for (k, name), bic in iris_bics.items():
        cell = table[name][k]
        assert float(cell.rstrip("*!")) == pytest.approx(bic, abs=0.006)
        assert cell.endswith("*") == ((k, name) == best)


def test_selected_bic_equals_an_independent_fit(default_run, iris_bics):
    k, covariance_type, bic, mean_log_likelihood = selected(default_run[1])
    assert (k, covariance_type) == min(iris_bics, key=iris_bics.get)
    X = load_iris().data
    model = GaussianMixture(k, covariance_type=covariance_type, random_state=0).fit(X)
    assert bic == pytest.approx(model.bic(X), abs=1e-6)
    assert mean_log_likelihood == pytest.approx(model.score(X), abs=1e-6)


def test_selected_weights_and_means_are_printed(default_run):
    out = default_run[1]
    k, covariance_type, _, _ = selected(out)
    X = load_iris().data
    model = GaussianMixture(k, covariance_type=covariance_type, random_state=0).fit(X)
    section = out[out.index("Weights and means") :].splitlines()
    weights = section[2].split()
    assert weights[0] == "weight"
    np.testing.assert_allclose(
        [float(w) for w in weights[1:]], model.weights_, atol=5e-5
    )
    petal_width = section[-1]
    assert petal_width.split()[:3] == ["petal", "width", "(cm)"]
    np.testing.assert_allclose(
        [float(v) for v in petal_width.split()[3:]], model.means_[:, 3], rtol=1e-4
    )


@pytest.mark.parametrize("header", [True, False])
def test_csv_file(capsys, tmp_path, header):
    path = tmp_path / "iris.csv"
    iris_frame().to_csv(path, index=False, header=header)
    status, out, err = run(
        capsys, path, "--components", "1-3", "--covariance-types", "full,diag"
    )
    assert (status, err) == (0, "")
    assert "150 rows x 4 columns" in out
    assert ("header row read as column names" in out) == header
    names = ["sepal length (cm)", "petal width (cm)"] if header else ["x1", "x4"]
    means = out[out.index("Weights and means") :]
    assert all(name in means for name in names)
    k, covariance_type, bic, _ = selected(out)
    X = load_iris().data
    expected = {
        (k, name): GaussianMixture(k, covariance_type=name, random_state=0)
        .fit(X)
        .bic(X)
        for k in (1, 2, 3)
        for name in ("full", "diag")
    }
    assert (k, covariance_type) == min(expected, key=expected.get)
    assert bic == pytest.approx(expected[k, covariance_type], abs=1e-6)


@pytest.mark.parametrize(
    ("text", "delimiter", "n_rows", "names"),
    [
        ("a,b\n1,2\n3,5\n4,4\n", ",", 3, ["a", "b"]),
        ("1,2\n3,5\n4,4\n", ",", 3, ["x1", "x2"]),
        ("1,b\n1,2\n3,5\n4,4\n", ",", 3, ["1", "b"]),
        ("\n a ; b \n1;2\n\n3;5\n4;4\n\n", ";", 3, ["a", "b"]),
        ("1e0,-2.5\n3,5\n4,4\n", ",", 3, ["x1", "x2"]),
    ],
)
def test_csv_header_detection(capsys, tmp_path, text, delimiter, n_rows, names):
    path = tmp_path / "data.csv"
    path.write_text(text)
    status, out, err = run(
        capsys,
        path,
        "--delimiter",
        delimiter,
        "--components",
        "1",
        "--covariance-types",
        "diag",
    )
    assert (status, err) == (0, "")
    assert f"{n_rows} rows x 2 columns" in out
    rows = out[out.index("Weights and means") :].splitlines()[3:]
    assert [row.split()[0] for row in rows] == names


def test_labels_file_holds_the_selected_models_predictions(capsys, tmp_path):
    path = tmp_path / "labels.csv"
    status, out, err = run(
        capsys,
        "--components",
        "2,3",
        "--covariance-types",
        "full,spherical",
        "--labels",
        path,
    )
    assert (status, err) == (0, "")
    assert path.read_text().splitlines()[0] == "label"
    labels = pd.read_csv(path)
    assert list(labels.columns) == ["label"]
    X = load_iris().data
    k, covariance_type, _, _ = selected(out)
    model = GaussianMixture(k, covariance_type=covariance_type, random_state=0).fit(X)
    assert len(labels) == X.shape[0]
    np.testing.assert_array_equal(labels["label"], model.predict(X))


def test_compare_sklearn_prints_both_log_likelihoods_and_the_ari(capsys):
    status, out, err = run(
        capsys,
        "--compare-sklearn",
        "--components",
        "2,3",
        "--covariance-types",
        "full,spherical",
    )
    assert (status, err) == (0, "")
    lines = out[out.index("Comparison with sklearn") :].splitlines()
    header = lines[1].split()
    assert header[-5:] == ["loglik", "ours", "loglik", "sklearn", "ARI"]
    rows = {
        (int(r.split()[0].rstrip("*")), r.split()[1]): r.split() for r in lines[2:6]
    }
    assert set(rows) == {(2, "full"), (2, "spherical"), (3, "full"), (3, "spherical")}
    assert lines[6].startswith("Summary: 4 of 4 cells fitted by both")
    assert "ARI min" in lines[6]

    X = load_iris().data
    for (k, name), row in rows.items():
        settings = dict(n_components=k, covariance_type=name, random_state=0)
        ours = GaussianMixture(**settings).fit(X)
        theirs = SklearnGaussianMixture(**settings).fit(X)
        loglik_ours, loglik_sklearn, ari = map(float, row[-3:])
        assert loglik_ours == pytest.approx(ours.score(X), abs=1e-6)
        assert loglik_sklearn == pytest.approx(theirs.score(X), abs=1e-6)
        expected_ari = adjusted_rand_score(ours.predict(X), theirs.predict(X))
        assert ari == pytest.approx(expected_ari, abs=1e-4)
        assert float(row[2]) > 0 and float(row[3]) > 0  # fit times


def test_compare_sklearn_ari_uses_sklearns_labels(capsys, monkeypatch):
    # On iris both implementations agree exactly (ARI 1), so give sklearn's model
    # other labels to see that the ARI column really compares the two.
    class Disagreeing(SklearnGaussianMixture):
        def predict(self, X):
            return np.arange(len(X)) % 2

    monkeypatch.setattr("sklearn.mixture.GaussianMixture", Disagreeing)
    status, out, err = run(
        capsys, "--compare-sklearn", "--components", "3", "--covariance-types", "diag"
    )
    assert (status, err) == (0, "")
    X = load_iris().data
    ours = GaussianMixture(3, covariance_type="diag", random_state=0).fit(X)
    expected = adjusted_rand_score(ours.predict(X), np.arange(len(X)) % 2)
    lines = out[out.index("Comparison with sklearn") :].splitlines()
    assert float(lines[2].split()[-1]) == pytest.approx(expected, abs=1e-4)
    assert f"ARI min {expected:.4f}" in lines[3]


def test_a_failing_cell_is_marked_and_the_run_goes_on(capsys, tmp_path):
    # Three points, each repeated: two or more components collapse onto them.
    path = tmp_path / "collapsed.csv"
    X = np.repeat([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0]], 10, axis=0)
    np.savetxt(path, X, delimiter=",")
    status, out, err = run(
        capsys,
        path,
        "--components",
        "1,3",
        "--covariance-types",
        "full",
        "--reg-covar",
        "0",
    )
    assert (status, err) == (0, "")
    table = bic_table(out)
    assert table["full"][3] == "failed"
    assert table["full"][1].endswith("*")
    assert out.count("ill-defined empirical covariance") == 1
    assert "1 of 2 fits" in out
    assert selected(out)[:2] == (1, "full")


def test_every_cell_failing_is_an_error(capsys, tmp_path):
    path = tmp_path / "collapsed.csv"
    X = np.repeat([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0]], 10, axis=0)
    np.savetxt(path, X, delimiter=",")
    status, out, err = run(capsys, path, "--components", "3", "--reg-covar", "0")
    assert status == 2
    assert out == ""
    assert err.startswith(PREFIX + "every model of the grid failed to fit")
    assert len(err.splitlines()) == 1


def test_a_non_finite_score_points_to_standardize(capsys, monkeypatch):
    class Overflowing(GaussianMixture):
        def score(self, X, y=None):
            return -np.inf

    monkeypatch.setattr("sklearn_em_gmm.cli._main.GaussianMixture", Overflowing)
    status, out, err = run(capsys, "--components", "2", "--covariance-types", "diag")
    assert (status, out) == (2, "")
    assert err == (
        f"{PREFIX}every model of the grid failed to fit; first error: the fitted "
        "model has a non-finite log-likelihood (numerical overflow); scale the "
        "input data, e.g. with --standardize\n"
    )


def test_non_convergence_is_counted_not_warned(capsys, recwarn):
    status, out, err = run(
        capsys, "--max-iter", "1", "--components", "2,3", "--covariance-types", "full"
    )
    assert (status, err) == (0, "")
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]
    assert "did not converge within max_iter (2 of 2 fits" in out
    assert all(cell.endswith("!") for cell in bic_table(out)["full"].values())


def test_covariance_type_aliases_and_order(capsys):
    status, out, err = run(
        capsys, "--components", "1,2", "--covariance-types", "VII,vvv,diag,full"
    )
    assert (status, err) == (0, "")
    assert list(bic_table(out)) == ["spherical", "full", "diag"]


def one_line(text):
    return " ".join(text.split())


def test_covariance_types_are_listed_from_the_registry(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert (
        "Covariance types: full (VVV), tied (EEE), diag (VVI), spherical (VII), EII, "
        "EEI, VEI, EVI, VEE, EVE, VVE, EEV, VEV, EVV. Exit" in one_line(out)
    )
    assert "(default: full,tied,diag,spherical)." in one_line(out)
    status, _, err = run(capsys, "--covariance-types", "foo")
    assert err == (
        f"{PREFIX}argument --covariance-types: unknown covariance type 'foo'; "
        "choose from full, tied, diag, spherical, EII, VII, EEI, VEI, EVI, VVI, EEE, "
        "VEE, EVE, VVE, EEV, VEV, EVV, VVV\n"
    )


@pytest.fixture
def eii_registered():
    """A model registered after import, under a code mclust does not have."""

    class StandIn(type(get_covariance_model("spherical"))):
        """VII's math under another name: only the names matter to the parser."""

        name = "equal_spherical"
        mclust_code = "XII"

    model = register(StandIn())
    yield
    unregister(model)


@pytest.mark.usefixtures("eii_registered")
def test_a_model_registered_later_is_accepted_and_listed(capsys):
    assert parse_covariance_types("xii,full,XII") == ["equal_spherical", "full"]
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert "EVV, equal_spherical (XII). Exit" in one_line(out)
    assert "(default: full,tied,diag,spherical)." in one_line(out)
    status, _, err = run(capsys, "--covariance-types", "foo")
    assert status == 2
    assert err.endswith(
        "choose from full, tied, diag, spherical, equal_spherical, EII, VII, EEI, "
        "VEI, EVI, VVI, EEE, VEE, EVE, VVE, EEV, VEV, EVV, VVV, XII\n"
    )
    assert parse_args([]).covariance_types == COVARIANCE_TYPES


def test_dataset_option(capsys):
    status, out, err = run(
        capsys, "--dataset", "wine", "--components", "2", "--covariance-types", "diag"
    )
    assert (status, err) == (0, "")
    assert "Data: wine (scikit-learn), 178 rows x 13 columns" in out
    assert "alcohol" in out


def test_standardize_fits_z_scored_columns(capsys):
    status, out, err = run(
        capsys, "--standardize", "--components", "2", "--covariance-types", "tied"
    )
    assert (status, err) == (0, "")
    X = load_iris().data
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    model = GaussianMixture(2, covariance_type="tied", random_state=0).fit(Z)
    assert selected(out)[2] == pytest.approx(model.bic(Z), abs=1e-6)
    assert "means in original units" in out
    rows = out[out.index("Weights and means") :].splitlines()
    sepal_length = [float(v) for v in rows[3].split()[3:]]
    expected = model.means_[:, 0] * X[:, 0].std() + X[:, 0].mean()
    np.testing.assert_allclose(sepal_length, expected, rtol=1e-4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1-9", list(range(1, 10))),
        ("2,3,5", [2, 3, 5]),
        ("5, 2-3,3", [2, 3, 5]),
        ("4", [4]),
    ],
)
def test_parse_components(text, expected):
    assert parse_components(text) == expected


def assert_usage_error(status, out, err, fragment):
    assert status == 2
    assert out == ""
    assert err.startswith(PREFIX)
    assert err.endswith("\n") and len(err.splitlines()) == 1
    assert "Traceback" not in err
    assert fragment in err


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("\n  \n\n", "is empty"),
        ("a,b,c\n", "header but no data rows"),
        ("1,2\n3,x\n4,5\n", "line 2, column 2: non-numeric value 'x'"),
        ("1,2\n3,\n4,5\n", "line 2, column 2: non-numeric value ''"),
        ("1,2\n3,4,5\n4,5\n", "line 2: 3 field(s), expected 2"),
        ("\na,b\n1,2\n3\n", "line 4: 1 field(s), expected 2 as on line 2"),
        ("1,2\n3,nan\n4,5\n", "'nan' is not a finite number"),
        ("1,2\n3,4\n-inf,5\n", "'-inf' is not a finite number"),
        ("1,2\n3,4\n5,6\n", "has 3 data rows; at least 9 are needed"),
    ],
)
def test_bad_file_is_a_one_line_error(capsys, tmp_path, text, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    assert_usage_error(*run(capsys, path), fragment)


def test_missing_file_and_directory_are_one_line_errors(capsys, tmp_path):
    missing = tmp_path / "missing.csv"
    assert_usage_error(*run(capsys, missing), "No such file or directory")
    assert_usage_error(*run(capsys, tmp_path), "cannot read")


def test_binary_file_is_a_one_line_error(capsys, tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\x00\xff\xfe\x81")
    assert_usage_error(*run(capsys, path), "cannot read")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--components", "0"], "n_components must be at least 1"),
        (["--components", "abc"], "argument --components: invalid value 'abc'"),
        (["--components", "3-1"], "empty range"),
        (["--components", "1,,2"], "invalid value '1,,2'"),
        (["--components", "2-100000000"], "n_components must be at most"),
        (["--covariance-types", "VVV,foo"], "unknown covariance type 'foo'"),
        (["--reg-covar", "-1"], "argument --reg-covar: invalid value '-1'"),
        (["--reg-covar", "nan"], "argument --reg-covar: invalid value 'nan'"),
        (["--reg-covar", "x"], "argument --reg-covar: invalid value 'x'"),
        (["--n-init", "0"], "argument --n-init"),
        (["--max-iter", "1.5"], "argument --max-iter"),
        (["--random-state", "4294967296"], "argument --random-state"),
        (["--init-params", "magic"], "argument --init-params"),
        (["--dataset", "mnist"], "argument --dataset: invalid choice"),
        (["--delimiter", ";;"], "expected one character"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["a.csv", "b.csv"], "unrecognized arguments: b.csv"),
        (["a.csv", "--dataset", "iris"], "either a CSV file or --dataset"),
        (["--components"], "expected one argument"),
    ],
)
def test_bad_option_is_a_one_line_error(capsys, args, fragment):
    assert_usage_error(*run(capsys, *args), fragment)


def test_unwritable_labels_path_is_a_one_line_error(capsys, tmp_path):
    path = tmp_path / "no such directory" / "labels.csv"
    status, out, err = run(
        capsys, "--components", "1", "--covariance-types", "diag", "--labels", path
    )
    assert status == 2
    assert err.startswith(PREFIX + "cannot write labels")
    assert len(err.splitlines()) == 1


def test_help_in_process(capsys):
    status, out, err = run(capsys, "--help")
    assert status == 0
    assert out.startswith("usage: sklearn-em-gmm")


def test_help_from_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_em_gmm", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stderr == ""
    for option in [
        "--dataset",
        "--delimiter",
        "--components",
        "--covariance-types",
        "--random-state",
        "--n-init",
        "--max-iter",
        "--tol",
        "--reg-covar",
        "--init-params",
        "--standardize",
        "--labels",
        "--compare-sklearn",
        "VVV",
    ]:
        assert option in result.stdout


def test_exit_status_from_the_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_em_gmm", str(tmp_path / "missing.csv")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(PREFIX)
    assert len(result.stderr.splitlines()) == 1
