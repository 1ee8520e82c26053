"""The command-line job: ``python -m sklearn_em_gmm`` and its ``main(argv)``."""

import contextlib
import io
import json
import re
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from sklearn_em_gmm import DegenerateComponentWarning, GaussianMixture
from sklearn_em_gmm._ic import GaussianMixtureIC
from sklearn_em_gmm.cli import (
    _progress,
    main,
    parse_args,
    parse_components,
    parse_models,
)
from sklearn_em_gmm.covariance import get_covariance_model, register, unregister

PREFIX = "sklearn-em-gmm: error: "
MCLUST_ORDER = "EII VII EEI VEI EVI VVI EEE VEE EVE VVE EEV VEV EVV VVV".split()
FAST = ("--components", "1-3", "--models", "VVV,EEE")  # where the grid is not the point


def run(capsys, *args):
    """Run ``main`` in-process; return its status, stdout and stderr."""
    status = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return status, out, err


def criterion_table(out):
    """The printed criterion table, blocks joined: {model: {n_components: cell}}."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "(lower is better" in line) + 1
    table = {}
    for line in lines[start:]:
        fields = line.split()
        if fields and fields[0] == "n_components":
            names = fields[1:]
            table.update({name: {} for name in names})
        elif fields and fields[0].isdigit():
            for name, cell in zip(names, fields[1:], strict=True):
                table[name][int(fields[0])] = cell
        elif fields:
            break
    return table


def selected(out):
    """The selected model's n_components, covariance model, BIC and log-likelihood."""
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


def search(models, components=(1, 2, 3), X=None, **params):
    """The library's own search with the command line's defaults."""
    X = load_iris().data if X is None else X
    params = dict(covariance_type=models, random_state=0, **params)
    return GaussianMixtureIC(list(components), **params).fit(X)


@pytest.fixture(scope="module")
def default_run():
    """One run without arguments, shared: mclust's whole grid on iris."""
    out, err = io.StringIO(), io.StringIO()
    # the full grid takes about the quiet time: keep progress out of this run
    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        patch.setattr(_progress, "QUIET_SECONDS", np.inf)
        status = main([])
    return status, out.getvalue(), err.getvalue()


def test_default_run_is_mclusts_choice_on_iris(default_run):
    status, out, err = default_run
    assert (status, err) == (0, "")
    assert "Data: iris (scikit-learn), 150 rows x 4 columns" in out
    assert "BIC (lower is better; mclust prints the negative):" in out
    settings = one_line(out[out.index("Settings:") : out.index("BIC (lower")])
    assert settings == (
        "Settings: init_params='hc', tol=1e-05, reg_covar=0.0, max_iter=1000, "
        "stopping_rule='mclust', on_degenerate='raise', n_init=1, random_state=0"
    )
    table = criterion_table(out)
    assert list(table) == MCLUST_ORDER
    assert all(sorted(column) == list(range(1, 10)) for column in table.values())
    cells = [cell for column in table.values() for cell in column.values()]
    assert [c for c in cells if c.endswith("*")] == ["561.73*"]
    k, model, bic, _ = selected(out)
    assert (k, model, bic) == (2, "VEV", pytest.approx(561.728462, abs=1e-6))
    assert "Weights and means" in out and "sepal length (cm)" in out


def test_the_wide_table_is_split_into_blocks(default_run):
    out = default_run[1]
    assert max(map(len, out[: out.index("Selected model")].splitlines())) <= 100
    headers = [line for line in out.splitlines() if line.startswith("n_components ")]
    assert len(headers) >= 2


def test_the_table_is_the_searchs(default_run):
    results = GaussianMixtureIC(random_state=0).fit(load_iris().data).results_
    table = criterion_table(default_run[1])
    out = default_run[1]
    for k, model, bic, status in zip(
        results["n_components"],
        results["covariance_type"],
        results["bic"],
        results["status"],
        strict=True,
    ):
        cell = table[model][k]
        if status:
            assert cell == "failed"
            assert f"{k}/{model}" in out
        else:
            assert float(cell.rstrip("*!")) == pytest.approx(bic, abs=0.006)
    reasons = {status for status in results["status"] if status}
    assert out.count("failed: ") == len(reasons)


def test_selected_weights_and_means_are_printed(default_run):
    out = default_run[1]
    model = search("VEV", [2]).best_estimator_
    section = out[out.index("Weights and means") :].splitlines()
    weights = section[2].split()
    assert weights[0] == "weight"
    np.testing.assert_allclose(
        [float(w) for w in weights[1:]], model.weights_, atol=5e-5
    )
    petal_width = section[-1].split()
    assert petal_width[:3] == ["petal", "width", "(cm)"]
    np.testing.assert_allclose(
        [float(v) for v in petal_width[3:]], model.means_[:, 3], rtol=1e-4
    )


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        ("all", MCLUST_ORDER),
        ("VEV,vvv,diag", ["VEV", "VVV", "VVI"]),
        ("full,tied,FULL", ["VVV", "EEE"]),
    ],
)
def test_models_by_names_codes_or_all(models, expected):
    assert parse_models(models) == expected
    assert parse_args(["--covariance-types", models]).models == expected


def test_models_in_the_table_as_given(capsys):
    status, out, err = run(capsys, "--components", "1,2", "--models", "VII,vvv,diag")
    assert (status, err) == (0, "")
    assert list(criterion_table(out)) == ["VII", "VVV", "VVI"]
    assert "sklearn's names: VII (spherical), VVV (full), VVI (diag)" in out


@pytest.mark.parametrize("criterion", ["icl", "aic"])
def test_criterion(capsys, criterion):
    status, out, err = run(capsys, *FAST, "--criterion", criterion)
    assert (status, err) == (0, "")
    expected = search(["VVV", "EEE"], criterion=criterion)
    name = criterion.upper()
    assert f"{name} (lower is better" in out
    assert f"Selected model (lowest {name}):" in out
    assert selected(out)[:2] == (expected.n_components_, expected.covariance_type_)
    value = re.search(rf"^  {name} +(\S+)", out, re.MULTILINE).group(1)
    assert float(value) == pytest.approx(expected.criterion_, abs=1e-6)


@pytest.mark.parametrize("header", [True, False])
def test_csv_file(capsys, tmp_path, header):
    path = tmp_path / "iris.csv"
    iris_frame().to_csv(path, index=False, header=header)
    status, out, err = run(capsys, path, *FAST)
    assert (status, err) == (0, "")
    assert "150 rows x 4 columns" in out
    assert ("header row read as column names" in out) == header
    names = ["sepal length (cm)", "petal width (cm)"] if header else ["x1", "x4"]
    means = out[out.index("Weights and means") :]
    assert all(name in means for name in names)
    expected = search(["VVV", "EEE"])
    k, model, bic, _ = selected(out)
    assert (k, model) == (expected.n_components_, expected.covariance_type_)
    assert bic == pytest.approx(expected.criterion_, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "delimiter", "names"),
    [
        ("a,b\n1,2\n3,5\n4,4\n", ",", ["a", "b"]),
        ("1,2\n3,5\n4,4\n", ",", ["x1", "x2"]),
        ("1,b\n1,2\n3,5\n4,4\n", ",", ["1", "b"]),
        ("\n a ; b \n1;2\n\n3;5\n4;4\n\n", ";", ["a", "b"]),
        ("a;b\n1,5;2\n3,5;5\n4;4\n", ";", None),  # decimal commas: not numbers
        ("a\tb\n1\t2\n3\t5\n4\t4\n", "\t", ["a", "b"]),
        ("1e0,-2.5\n3,5\n4,4\n", ",", ["x1", "x2"]),
    ],
)
def test_delimiter_is_detected(capsys, tmp_path, text, delimiter, names):
    path = tmp_path / "data.csv"
    path.write_text(text)
    status, out, err = run(capsys, path, "--components", "1", "--models", "VVI")
    if names is None:  # only column b is numeric
        assert err.startswith("sklearn-em-gmm: skipped non-numeric column(s): 'a'")
        names = ["b"]
    else:
        assert err == ""
    assert status == 0
    assert f"3 rows x {len(names)} columns" in out
    assert (f"delimiter {delimiter!r}" in out) == (delimiter != ",")
    rows = out[out.index("Weights and means") :].splitlines()[3:]
    assert [row.split()[0] for row in rows] == names


def test_an_explicit_delimiter_wins(capsys, tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a;b|c\n1;2|3\n4;5|6\n7;9|8\n")
    args = ["--delimiter", "|", "--columns", "2", "--components", "1"]
    status, out, err = run(capsys, path, *args)
    assert (status, err) == (0, "")
    assert "3 rows x 1 columns" in out


@pytest.fixture
def mixed_csv(tmp_path):
    """iris with a species column and an id column, as R's write.csv gives it."""
    frame = iris_frame()
    frame.insert(0, "species", np.repeat(["setosa", "versicolor", "virginica"], 50))
    frame["id"] = np.arange(150)
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    return path


def test_non_numeric_columns_are_skipped_with_a_message(capsys, mixed_csv):
    status, out, err = run(capsys, mixed_csv, *FAST, "--drop", "id")
    assert status == 0
    assert err == (
        "sklearn-em-gmm: skipped non-numeric column(s): 'species' "
        "(use --columns or --drop to choose)\n"
    )
    assert "150 rows x 4 columns" in out
    assert selected(out)[:2] == (2, "VVV")


@pytest.mark.parametrize(
    ("option", "value", "names"),
    [
        ("--columns", "petal length (cm),petal width (cm)", ["petal length"] * 1),
        ("--columns", "4,5", ["petal length"]),
        ("--drop", "1,2,3,6", ["petal length"]),
        ("--drop", "species,id,sepal length (cm),sepal width (cm)", ["petal length"]),
    ],
)
def test_columns_and_drop_by_name_and_index(capsys, mixed_csv, option, value, names):
    status, out, err = run(capsys, mixed_csv, *FAST, option, value)
    assert (status, err) == (0, "")
    assert "150 rows x 2 columns" in out
    rows = out[out.index("Weights and means") :].splitlines()[3:]
    assert [" ".join(row.split()[:3]) for row in rows] == [
        "petal length (cm)",
        "petal width (cm)",
    ]


def test_a_chosen_non_numeric_column_is_an_error(capsys, mixed_csv):
    assert_usage_error(
        *run(capsys, mixed_csv, "--columns", "1,species,3"),
        "line 2, column 'species': non-numeric value 'setosa'",
    )
    assert_usage_error(
        *run(capsys, mixed_csv, "--columns", "petal,1"), "no column 'petal'"
    )
    assert_usage_error(*run(capsys, mixed_csv, "--drop", "9"), "no column '9'")


@pytest.mark.parametrize("missing", ["", "NA", "NaN", "nan"])
def test_missing_values_say_what_to_do(capsys, tmp_path, missing):
    path = tmp_path / "f.csv"
    path.write_text(f"x1,x2,x3\n1,2,3\n4,5,6\n7,8,{missing}\n2,2,2\n")
    assert_usage_error(
        *run(capsys, path, "--components", "1"),
        f"{str(path)!r}, line 4, column 'x3': missing value; drop or fill the rows "
        "with missing values first (this tool does not impute)",
    )


def test_no_numeric_column_is_an_error(capsys, tmp_path):
    path = tmp_path / "words.csv"
    path.write_text("a,b\nx,y\nz,w\n")
    assert_usage_error(*run(capsys, path), "has no numeric column to fit")


@pytest.mark.parametrize("on_degenerate", ["raise", "recover"])
def test_on_degenerate(capsys, tmp_path, on_degenerate):
    # Three points, each repeated: three components collapse onto them.
    path = tmp_path / "collapsed.csv"
    X = np.repeat([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0]], 10, axis=0)
    X[0] += 0.1  # the one-component model stays regular
    np.savetxt(path, X, delimiter=",")
    args = ["--components", "1,3", "--models", "VVV", "--on-degenerate", on_degenerate]
    status, out, err = run(capsys, path, *args)
    assert (status, err) == (0, "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        expected = search("VVV", [1, 3], X=X, on_degenerate=on_degenerate)
    cell = criterion_table(out)["VVV"][3]
    failed = bool(expected.results_["status"][1])
    assert (cell == "failed") == failed
    assert ("ill-defined empirical covariance" in out) == failed
    assert failed == (on_degenerate == "raise")
    assert ("component(s) repaired (on_degenerate='recover'" in out) == (not failed)


def test_every_cell_failing_is_an_error(capsys, tmp_path):
    path = tmp_path / "collapsed.csv"
    X = np.repeat([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0]], 10, axis=0)
    np.savetxt(path, X, delimiter=",")
    status, out, err = run(capsys, path, "--components", "3", "--models", "VVV")
    assert (status, out) == (2, "")
    assert err.startswith(PREFIX + "Every cell of the grid failed")
    assert len(err.splitlines()) == 1


def test_non_convergence_is_counted_not_warned(capsys, recwarn):
    status, out, err = run(
        capsys, "--max-iter", "1", "--components", "2,3", "--models", "VVV"
    )
    assert (status, err) == (0, "")
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]
    assert "did not converge within max_iter (2 of 2 fits" in out
    assert all(cell.endswith("!") for cell in criterion_table(out)["VVV"].values())


def test_labels_file_holds_the_selected_models_predictions(capsys, tmp_path):
    path = tmp_path / "labels.csv"
    status, out, err = run(capsys, *FAST, "--labels", path)
    assert (status, err) == (0, "")
    labels = pd.read_csv(path)
    assert list(labels.columns) == ["label"]
    X = load_iris().data
    np.testing.assert_array_equal(labels["label"], search(["VVV", "EEE"]).predict(X))


def test_save_round_trips_through_from_dict(capsys, tmp_path):
    path = tmp_path / "model.json"
    status, out, err = run(capsys, *FAST, "--save", path)
    assert (status, err) == (0, "")
    assert f"Model written to {str(path)!r}" in out
    model = GaussianMixture.from_dict(json.loads(path.read_text()))
    X = load_iris().data
    expected = search(["VVV", "EEE"])
    assert (model.n_components, model.covariance_type) == (2, "VVV")
    np.testing.assert_array_equal(model.predict(X), expected.predict(X))
    np.testing.assert_allclose(model.score_samples(X), expected.score_samples(X))


def test_proba_rows_are_the_responsibilities(capsys, tmp_path):
    path = tmp_path / "proba.csv"
    status, out, err = run(capsys, *FAST, "--proba", path)
    assert (status, err) == (0, "")
    proba = pd.read_csv(path)
    assert list(proba.columns) == ["p0", "p1"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    expected = search(["VVV", "EEE"]).predict_proba(load_iris().data)
    np.testing.assert_array_equal(proba.to_numpy(), expected)


@pytest.mark.parametrize("columns", ["1-4", "3"])
def test_plot_writes_a_png(capsys, tmp_path, columns):
    pytest.importorskip("matplotlib")
    data = tmp_path / "iris.csv"
    iris_frame().to_csv(data, index=False)
    path = tmp_path / "plot.png"
    selection = ["--columns", "3"] if columns == "3" else []
    status, out, err = run(capsys, data, *FAST, *selection, "--plot", path)
    assert (status, err) == (0, "")
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_plot_without_matplotlib_fails_before_fitting(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import raises
    monkeypatch.setattr(GaussianMixtureIC, "_fit", never_fit)
    status, out, err = run(capsys, "--plot", tmp_path / "plot.png")
    assert_usage_error(
        status, out, err, "--plot needs matplotlib: pip install 'sklearn-em-gmm[plot]'"
    )


def never_fit(*args, **kwargs):
    raise AssertionError("the grid was fitted")


@pytest.mark.parametrize("option", ["--labels", "--save", "--proba", "--plot"])
def test_output_paths_are_checked_before_fitting(capsys, tmp_path, monkeypatch, option):
    monkeypatch.setattr(GaussianMixtureIC, "_fit", never_fit)
    missing = tmp_path / "no such directory" / "out.csv"
    assert_usage_error(
        *run(capsys, option, missing),
        f"argument {option}: cannot write {str(missing)!r}: no directory",
    )
    assert_usage_error(
        *run(capsys, option, tmp_path),
        f"argument {option}: cannot write {str(tmp_path)!r}: it is a directory",
    )


def test_one_path_for_two_outputs_is_an_error(capsys, tmp_path):
    path = tmp_path / "out.csv"
    assert_usage_error(
        *run(capsys, "--labels", path, "--proba", path), "also given to --labels"
    )


class FakeClock:
    """``time.monotonic`` that advances ``step`` seconds at every call."""

    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_progress_is_printed_for_a_slow_grid(capsys, monkeypatch):
    monkeypatch.setattr(_progress, "QUIET_SECONDS", 3.0)
    monkeypatch.setattr(_progress.time, "monotonic", FakeClock(2.0))
    status, out, err = run(capsys, *FAST)
    assert status == 0
    lines = err.splitlines()
    assert lines[-1].startswith("fitted 6/6 models (")
    assert all(re.fullmatch(r"fitted \d/6 models \(\d+ s\)", line) for line in lines)
    assert len(lines) == 5  # not before 3 s, then at every (2 s) cell


def test_no_progress_for_a_fast_grid(capsys, monkeypatch):
    monkeypatch.setattr(_progress.time, "monotonic", FakeClock(0.1))
    assert run(capsys, *FAST)[2] == ""


def test_progress_at_most_once_a_second(monkeypatch):
    monkeypatch.setattr(_progress, "QUIET_SECONDS", 3.0)
    monkeypatch.setattr(_progress.time, "monotonic", FakeClock(0.4))
    stream = io.StringIO()
    progress = _progress.Progress(stream)
    for done in range(1, 31):
        progress(done, 30)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines[-1].startswith("fitted 30/30 models")
    # 12 s in all, quiet for 3, then one line every third call (1.2 s)
    assert len(lines) == 9


def test_compare_sklearn_prints_both_log_likelihoods_and_the_ari(capsys):
    status, out, err = run(
        capsys,
        "--compare-sklearn",
        "--components",
        "2,3",
        "--models",
        "full,VII,VEV",
        "--init-params",
        "kmeans",
        "--stopping-rule",
        "sklearn",
    )
    assert (status, err) == (0, "")
    lines = out[out.index("Comparison with sklearn") :].splitlines()
    header = lines[1].split()
    assert header[-5:] == ["loglik", "ours", "loglik", "sklearn", "ARI"]
    rows = {
        (int(r.split()[0].rstrip("*")), r.split()[1]): r.split() for r in lines[2:6]
    }
    assert set(rows) == {(2, "VVV"), (2, "VII"), (3, "VVV"), (3, "VII")}
    assert lines[6] == "Not compared (sklearn has no such model): VEV"
    assert lines[7].startswith("Summary: 4 of 4 cells fitted by both")

    X = load_iris().data
    names = {"VVV": "full", "VII": "spherical"}
    for (k, code), row in rows.items():
        settings = dict(n_components=k, random_state=0, tol=1e-5, reg_covar=0.0)
        theirs = SklearnGaussianMixture(
            covariance_type=names[code], max_iter=1000, **settings
        ).fit(X)
        ours = GaussianMixture(covariance_type=code, max_iter=1000, **settings).fit(X)
        loglik_ours, loglik_sklearn, ari = map(float, row[-3:])
        assert loglik_ours == pytest.approx(ours.score(X), abs=1e-6)
        assert loglik_sklearn == pytest.approx(theirs.score(X), abs=1e-6)
        expected_ari = adjusted_rand_score(ours.predict(X), theirs.predict(X))
        assert ari == pytest.approx(expected_ari, abs=1e-4)


def test_compare_sklearn_ari_uses_sklearns_labels(capsys, monkeypatch):
    # Both implementations agree exactly (ARI 1), so give sklearn's model other
    # labels to see that the ARI column really compares the two.
    class Disagreeing(SklearnGaussianMixture):
        def predict(self, X):
            return np.arange(len(X)) % 2

    monkeypatch.setattr("sklearn.mixture.GaussianMixture", Disagreeing)
    args = ["--components", "3", "--models", "diag", "--init-params", "kmeans"]
    status, out, err = run(
        capsys, "--compare-sklearn", *args, "--stopping-rule", "sklearn"
    )
    assert (status, err) == (0, "")
    X = load_iris().data
    ours = GaussianMixture(3, covariance_type="diag", random_state=0, tol=1e-5)
    ours.set_params(reg_covar=0.0, max_iter=1000).fit(X)
    expected = adjusted_rand_score(ours.predict(X), np.arange(len(X)) % 2)
    lines = out[out.index("Comparison with sklearn") :].splitlines()
    assert float(lines[2].split()[-1]) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            [],
            "pass --init-params kmeans (or k-means++, random, random_from_data) and "
            "--stopping-rule sklearn",
        ),  # fmt: skip
        (
            ["--init-params", "random", "--models", "VEV,EII"],
            "pass --models with one of VVV, EEE, VVI, VII and --stopping-rule sklearn",
        ),  # fmt: skip
        (["--init-params", "k-means++"], "pass --stopping-rule sklearn"),
        (["--stopping-rule", "sklearn"], "pass --init-params kmeans"),
    ],
)
def test_compare_sklearn_restrictions(capsys, monkeypatch, args, fragment):
    monkeypatch.setattr(GaussianMixtureIC, "_fit", never_fit)
    assert_usage_error(*run(capsys, "--compare-sklearn", *args), fragment)


def one_line(text):
    return " ".join(text.split())


def test_models_are_listed_from_the_registry(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert (
        "Models: EII, VII (spherical), EEI, VEI, EVI, VVI (diag), EEE (tied), VEE, "
        "EVE, VVE, EEV, VEV, EVV, VVV (full). Exit" in one_line(out)
    )
    status, _, err = run(capsys, "--models", "foo")
    assert err == (
        f"{PREFIX}argument --models/--covariance-types: unknown model 'foo'; choose "
        "from 'all', EII, VII (spherical), EEI, VEI, EVI, VVI (diag), EEE (tied), "
        "VEE, EVE, VVE, EEV, VEV, EVV, VVV (full)\n"
    )


@pytest.fixture
def xii_registered():
    """A model registered after import, under a code mclust does not have."""

    class StandIn(type(get_covariance_model("spherical"))):
        """VII's math under another name."""

        name = "equal_spherical"
        mclust_code = "XII"

    model = register(StandIn())
    yield
    unregister(model)


@pytest.mark.usefixtures("xii_registered")
def test_a_model_registered_later_is_accepted_and_listed(capsys):
    assert parse_models("xii,full,equal_spherical") == ["XII", "VVV"]
    assert parse_models("all")[-1] == "XII"
    status, out, _ = run(capsys, "--help")
    assert "EVV, VVV (full), XII (equal_spherical). Exit" in one_line(out)
    status, out, err = run(capsys, "--components", "1,2", "--models", "XII,VVV")
    assert (status, err) == (0, "")
    assert list(criterion_table(out)) == ["XII", "VVV"]


def test_dataset_option(capsys):
    status, out, err = run(capsys, "--dataset", "wine", "--components", "2")
    assert (status, err) == (0, "")
    assert "Data: wine (scikit-learn), 178 rows x 13 columns" in out
    assert "alcohol" in out


def test_standardize_fits_z_scored_columns(capsys):
    status, out, err = run(
        capsys, "--standardize", "--components", "2", "--models", "EEE"
    )
    assert (status, err) == (0, "")
    X = load_iris().data
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    model = search("EEE", [2], X=Z).best_estimator_
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


def test_defaults_are_the_searchs():
    options = parse_args([])
    assert options.components == list(range(1, 10))
    assert options.models == MCLUST_ORDER
    assert (options.criterion, options.init_params) == ("bic", "hc")
    assert (options.tol, options.reg_covar, options.max_iter) == (1e-5, 0.0, 1000)
    assert (options.stopping_rule, options.on_degenerate) == ("mclust", "raise")
    assert (options.n_init, options.random_state, options.n_jobs) == (1, 0, None)


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
        ("1,2\n3,4,5\n4,5\n", "line 2: 3 field(s), expected 2"),
        ("\na,b\n1,2\n3\n", "line 4: 1 field(s), expected 2 as on line 2"),
        ("1,2\n3,4\n-inf,5\n", "line 3, column 'x1': '-inf' is not a finite number"),
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
        (["--models", "VVV,foo"], "unknown model 'foo'"),
        (["--criterion", "dic"], "argument --criterion: invalid choice"),
        (["--on-degenerate", "ignore"], "argument --on-degenerate: invalid choice"),
        (["--stopping-rule", "r"], "argument --stopping-rule: invalid choice"),
        (["--reg-covar", "-1"], "argument --reg-covar: invalid value '-1'"),
        (["--reg-covar", "nan"], "argument --reg-covar: invalid value 'nan'"),
        (["--n-init", "0"], "argument --n-init"),
        (["--n-jobs", "0"], "argument --n-jobs: invalid value '0'"),
        (["--max-iter", "1.5"], "argument --max-iter"),
        (["--random-state", "4294967296"], "argument --random-state"),
        (["--init-params", "magic"], "argument --init-params"),
        (["--dataset", "mnist"], "argument --dataset: invalid choice"),
        (["--delimiter", ";;"], "expected one character"),
        (["--columns", "a,,b"], "argument --columns: invalid value"),
        (["a.csv", "--columns", "1", "--drop", "2"], "not allowed with argument"),
        (["--columns", "1"], "--columns and --drop apply to a CSV file"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["a.csv", "b.csv"], "unrecognized arguments: b.csv"),
        (["a.csv", "--dataset", "iris"], "either a CSV file or --dataset"),
        (["--components"], "expected one argument"),
    ],
)
def test_bad_option_is_a_one_line_error(capsys, args, fragment):
    assert_usage_error(*run(capsys, *args), fragment)


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
        "--columns",
        "--drop",
        "--components",
        "--models",
        "--covariance-types",
        "--criterion",
        "--random-state",
        "--n-init",
        "--n-jobs",
        "--max-iter",
        "--tol",
        "--reg-covar",
        "--init-params",
        "--stopping-rule",
        "--on-degenerate",
        "--standardize",
        "--labels",
        "--proba",
        "--save",
        "--plot",
        "--compare-sklearn",
        "VEV",
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
