"""A class on one server: two people sign in through a real OIDC provider running on
127.0.0.1 (oidc-provider-mock), each sees the other's runs and cannot change them; the
instructor can. The same rules hold in the store and in the CLI."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest

from core.store.people import SINGLE_USER, Person
from core.store.runs import RunStore
from tests.browser import chromium_page, streamlit_server
from tests.conftest import free_port
from tests.helpers import run_cli, tiny_config, tiny_dataset


@contextmanager
def oidc_provider():
    """The mock provider on 127.0.0.1 and a free port, stopped on exit."""
    import oidc_provider_mock
    import werkzeug.serving

    server = werkzeug.serving.make_server(
        "127.0.0.1", free_port(), oidc_provider_mock.app(), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def saved_run(workspace, owner: str, name: str) -> str:
    from core.pipeline.forecast import train_forecaster

    data = tiny_dataset()
    config = tiny_config(name=name)
    return train_forecaster(data.frame, data.describe(), config, RunStore(), owner=owner)["run_id"]


def test_the_store_lets_only_the_owner_or_an_instructor_change_a_run(workspace, monkeypatch):
    run_id = saved_run(workspace, "alice@example.com", "alice's run")
    store = RunStore()
    assert store.get(run_id).record.owner == "alice@example.com"
    with pytest.raises(Exception, match="belongs to alice@example.com: only alice@example.com"):
        store.delete(run_id, by=Person("bob@example.com"))
    with pytest.raises(Exception, match="belongs to alice@example.com"):
        store.rename(run_id, "bob was here", by=Person("bob@example.com"))
    assert store.get(run_id).name == "alice's run" and (store.dir / run_id).exists()
    store.rename(run_id, "renamed by alice", by=Person("alice@example.com"))
    monkeypatch.setenv("LAGLENS_INSTRUCTORS", "Teacher@Example.com")
    store.delete(run_id, by=Person("teacher@example.com"))  # the instructor may
    assert not (store.dir / run_id).exists()


def test_the_cli_acts_as_a_named_person_and_refuses_another_persons_run(workspace):
    run_id = saved_run(workspace, "alice@example.com", "alice's run")
    listing = run_cli("runs", workspace=workspace)
    assert "owner" in listing.stdout and "alice@example.com" in listing.stdout
    refused = run_cli("delete", run_id, "--user", "bob@example.com", workspace=workspace)
    assert refused.returncode == 2 and "belongs to alice@example.com" in refused.stderr
    assert "Traceback" not in refused.stderr and (workspace / "runs" / run_id).exists()
    done = run_cli("delete", run_id, "--user", "alice@example.com", workspace=workspace)
    assert done.returncode == 0 and not (workspace / "runs" / run_id).exists()


def test_runs_saved_before_people_are_the_single_users(tmp_path):
    import shutil

    from tests.conftest import ROOT

    shutil.copytree(ROOT / "tests" / "fixtures" / "legacy_workspace", tmp_path / "ws")
    runs = RunStore(tmp_path / "ws").runs()
    assert runs and {r.record.owner for r in runs} == {SINGLE_USER}


def sign_in(page, url: str, email: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=sub]").fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.get_by_text(f"Signed in as {email}").wait_for(timeout=60_000)


def changeable(page) -> list[str]:
    """The runs the Train page's "Rename or delete a run" offers (by name)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_role("link", name="Train").click()
    page.get_by_text("Rename or delete a run").click()
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Run").last
    for _ in range(6):  # a click that lands while the page reruns opens nothing: again
        box.click()
        try:
            page.get_by_role("option").first.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return sorted(o.rsplit(" (", 1)[0] for o in options)


def test_two_people_sign_in_and_each_changes_only_their_own_runs(tmp_path, workspace):
    mine = saved_run(workspace, "alice@example.com", "alice's run")
    saved_run(workspace, "bob@example.com", "bob's run")
    port = free_port()
    with oidc_provider() as issuer:
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "a class server secret for the test only"\n'
            'client_id = "laglens"\n'
            'client_secret = "laglens-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
        )
        with streamlit_server(
            workspace,
            tmp_path / "server.log",
            options=("--secrets.files", str(secrets)),
            env={"LAGLENS_INSTRUCTORS": "teacher@example.com"},
            port=port,
        ) as server:
            with chromium_page(tmp_path / "bob") as page:
                page.goto(server.url)
                page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
                assert "AAPL" not in page.inner_text("body")  # nothing before sign-in
                sign_in(page, server.url, "bob@example.com")
                page.locator('[data-testid="stSidebarNav"]').get_by_role(
                    "link", name="Train"
                ).click()
                page.get_by_text("alice's run").first.wait_for(
                    state="attached", timeout=60_000
                )  # read
                assert changeable(page) == ["bob's run"]  # change: only their own
            with chromium_page(tmp_path / "teacher") as page:
                sign_in(page, server.url, "teacher@example.com")
                page.get_by_text("(instructor)").wait_for(timeout=30_000)
                assert {"alice's run", "bob's run"} <= set(changeable(page))  # any run
    assert (workspace / "runs" / mine).exists()
