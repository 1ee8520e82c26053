"""The examples in the docstrings and the README run and print what they show."""

import doctest
import re
from pathlib import Path

import pytest

import sklearn_em_gmm._estimator
import sklearn_em_gmm._ic
import sklearn_em_gmm.cli._main
import sklearn_em_gmm.selection

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize(
    "module",
    [
        sklearn_em_gmm._estimator,
        sklearn_em_gmm._ic,
        sklearn_em_gmm.selection,
        sklearn_em_gmm.cli._main,
    ],
    ids=lambda m: m.__name__,
)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_readme_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    namespace = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    assert namespace["gm"].converged_


USER_GUIDE = README.parent / "docs" / "user_guide.md"
LARGE_DATA = README.parent / "docs" / "large_data.md"
EXAMPLES = [
    example
    for page in (USER_GUIDE, LARGE_DATA)
    for example in re.findall(
        r"```python\n(.*?)```\s*\n```text\n(.*?)```", page.read_text(), flags=re.S
    )
]


def test_user_guide_has_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(("code", "expected"), EXAMPLES)
def test_user_guide_example_prints_what_it_shows(code, expected, capsys):
    exec(compile(code, "docs example", "exec"), {})
    assert capsys.readouterr().out.strip() == expected.strip()
