"""The free-port race: a port the launcher chose is taken by someone else before the process binds it.

The race is made certain, not waited for: the launcher's port chooser is pointed at a port this test
holds open, then back at real free ports. The services, nginx and their bind failures are real.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from reference_stack import StackStartFailed, _launcher, read_info, running_stack
from tests.conftest import require_binary


@contextmanager
def taken_port() -> Iterator[int]:
    """A loopback port that something else listens on for the duration."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def choose(monkeypatch: pytest.MonkeyPatch, *answers: int | None) -> None:
    """The launcher's next port choices: these ports in turn (None: a real free port), then real ones."""
    queue, real = list(answers), _launcher.free_port
    monkeypatch.setattr(_launcher, "free_port", lambda: (queue.pop(0) if queue else None) or real())


def test_a_service_whose_chosen_port_was_taken_starts_on_another(tmp_path: Path, monkeypatch) -> None:
    with taken_port() as port:
        choose(monkeypatch, port)
        with running_stack(tmp_path, services=("deposito",), gateway=False) as stack:
            url = stack.services["deposito"]
            assert url != f"http://127.0.0.1:{port}" and httpx.get(url + "/health").status_code == 200
            assert f"http://127.0.0.1:{read_info(tmp_path).processes['deposito'].port}" == url
    said = (tmp_path / "logs" / "deposito.out").read_text()
    assert f"deposito: cannot listen on 127.0.0.1:{port} (Address already in use)" in said


def test_the_launcher_gives_up_after_three_ports(tmp_path: Path, monkeypatch) -> None:
    with taken_port() as port:
        choose(monkeypatch, port, port, port)
        with pytest.raises(StackStartFailed) as failed, running_stack(tmp_path, services=("deposito",), gateway=False):
            pass
    assert str(failed.value) == ("deposito exited during start-up (code 2): "
                                 f"deposito: cannot listen on 127.0.0.1:{port} (Address already in use)")
    assert (tmp_path / "logs" / "deposito.out").read_text().count("cannot listen") == _launcher.PORT_TRIES == 3


@pytest.mark.nginx
def test_the_gateway_moves_to_another_port_too(tmp_path: Path, monkeypatch) -> None:
    require_binary("nginx")
    with taken_port() as port:
        choose(monkeypatch, None, port)  # deposito's choice is free; the gateway's is taken
        with running_stack(tmp_path, services=("deposito",)) as stack:
            gateway = stack.services["gateway"]
            assert gateway != f"http://127.0.0.1:{port}" and httpx.get(gateway + "/health").text == "healthy\n"
            assert (tmp_path / "gateway" / "nginx.conf").read_text().count(f"listen 127.0.0.1:{port};") == 0
