"""Which stack the CLI talks to (cli/target.py): the state directory alone names the API; a URL alone never
borrows a state directory that describes another stack."""
import json

import pytest

from cli.target import resolve
from tally_client.http import Failure


def stack_dir(path, api_url):
    path.mkdir(parents=True, exist_ok=True)
    (path / "stack.json").write_text(json.dumps({"api_url": api_url}))
    return path


def test_the_state_dir_alone_gives_the_api(tmp_path):
    other = stack_dir(tmp_path / "other", "http://127.0.0.1:18000/")
    assert resolve(state_dir=str(other), environ={}) == resolve(environ={"TALLY_STATE_DIR": str(other)})
    target = resolve(state_dir=str(other), environ={})
    assert target.api == "http://127.0.0.1:18000" and target.state_dir == other


def test_a_state_dir_on_the_command_line_outranks_an_api_url_in_the_environment(tmp_path):
    other = stack_dir(tmp_path / "other", "http://127.0.0.1:18000")
    target = resolve(state_dir=str(other), environ={"TALLY_API_URL": "http://127.0.0.1:8000"})
    assert target.api == "http://127.0.0.1:18000"
    both = resolve(environ={"TALLY_API_URL": "http://127.0.0.1:9000", "TALLY_STATE_DIR": str(other)})
    assert both.api == "http://127.0.0.1:9000" and both.state_dir == other  # named together: both as said


def test_an_api_alone_takes_the_default_state_dir_only_when_it_describes_that_api(tmp_path):
    default = stack_dir(tmp_path / "default", "http://127.0.0.1:8000")
    assert resolve("http://127.0.0.1:8000/", environ={}, default=default).state_dir == default
    elsewhere = resolve("http://127.0.0.1:18000", environ={}, default=default)
    assert elsewhere.api == "http://127.0.0.1:18000" and elsewhere.state_dir is None
    with pytest.raises(Failure, match="pass --state-dir DIR"):
        elsewhere.files("A voter's password")


def test_nothing_named_is_the_default_stack_and_no_stack_is_one_sentence(tmp_path):
    default = stack_dir(tmp_path / "default", "http://127.0.0.1:8000")
    assert resolve(environ={}, default=default).api == "http://127.0.0.1:8000"
    with pytest.raises(Failure, match="make run"):
        resolve(environ={}, default=tmp_path / "none")
    with pytest.raises(Failure, match="No stack runs from"):
        resolve(state_dir=str(tmp_path / "none"), environ={})
