"""The second fault suite: faults and bad inputs a hostile or a clumsy user found after the
first (issue 26). Each test names the item it covers, and checks the message the user sees
and the files on disk afterwards."""

import gzip
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.data.csvfile import MAX_CSV_BYTES, MAX_CSV_ROWS, read_price_csv
from core.errors import UserError
from core.store.runs import RunStore
from tests.conftest import ROOT
from tests.helpers import run_cli, tiny_dataset

LEGACY = ROOT / "tests" / "fixtures" / "legacy_workspace"
DAYS = pd.bdate_range("2015-01-02", periods=40)
TINY_CSV_RUN = ("--epochs", 1, "--window", 5, "--units", 4)  # a 40-day file trains too


def legacy_runs(workspace: Path) -> list[str]:
    shutil.copytree(LEGACY / "runs", workspace / "runs")
    return sorted(p.name for p in (workspace / "runs").iterdir())


def train_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = tiny_dataset()
    at.run()
    at.switch_page("views/train.py").run()
    return at


def shown(at: AppTest) -> str:
    """Every message-like text on the page, as Streamlit was sent it (markdown source)."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "error", "warning", "info", "success")
        for e in getattr(at, kind)
    ]
    return "\n".join(map(str, parts))


# ---------------------------------------------------------------- 1. a stale page


def test_a_stale_page_deletes_only_the_run_its_user_confirmed(workspace):
    ids = legacy_runs(workspace)
    forecasts = [i for i in ids if RunStore().get(i).kind == "forecast"]
    newest, older = sorted(forecasts, reverse=True)  # the table lists the newest first
    first, second = train_page(), train_page()
    for at in (first, second):  # both pick the older run and confirm its deletion
        picker = next(s for s in at.selectbox if s.label == "Run")
        picker.set_value(older).run()
        next(c for c in at.checkbox if c.label == "Yes, delete this run").check().run()
    next(b for b in first.button if b.label == "Delete").click().run()
    assert not first.exception and f"Deleted run {older}." in shown(first)
    assert sorted(p.name for p in (workspace / "runs").iterdir()) == sorted(set(ids) - {older})

    next(b for b in second.button if b.label == "Delete").click().run()  # the stale page
    assert not second.exception
    assert f"Run {older} no longer exists" in shown(second)
    assert "nothing was deleted" in shown(second)
    assert sorted(p.name for p in (workspace / "runs").iterdir()) == sorted(set(ids) - {older})
    # The picker fell back to the remaining run; its own confirmation is not ticked.
    assert next(s for s in second.selectbox if s.label == "Run").value == newest
    assert not next(c for c in second.checkbox if c.label == "Yes, delete this run").value
    assert next(b for b in second.button if b.label == "Delete").disabled

    # Rename on a stale page: refused, and no other run renamed.
    third = train_page()
    RunStore().delete(newest)
    next(b for b in third.button if b.label == "Rename").click().run()
    assert f"Run {newest} no longer exists" in shown(third)
    assert not (workspace / "runs" / newest).exists()


# ---------------------------------------------------------------- 2. decimal commas


def test_european_decimals_are_read_right_or_refused_never_a_factor_of_100(tmp_path):
    path = tmp_path / "sap_2015_export.csv"  # a German spreadsheet's export
    rows = "".join(
        f"{d:%d.%m.%Y};100,13;2.002,60;99,50;{100 + i},25;1.234.567\n" for i, d in enumerate(DAYS)
    )
    path.write_text("Datum;Open;High;Low;Close;Volume\n" + rows, encoding="cp1252")
    frame = read_price_csv(path)
    assert frame["open"].iloc[0] == 100.13 and frame["high"].iloc[0] == 2002.60
    assert list(frame["close"].iloc[:2]) == [100.25, 101.25]
    assert frame["volume"].iloc[0] == 1234567
    assert frame.index[0] == pd.Timestamp("2015-01-02") and frame.index[1] == DAYS[1]

    two_ways = tmp_path / "integer_prices.csv"  # '1.100': one thousand one hundred or 1.1?
    two_ways.write_text(
        "Date;Open;High;Low;Close;Volume\n"
        + "".join(f"{d:%Y-%m-%d};1.100;1.100;1.100;1.100;500\n" for d in DAYS)
    )
    with pytest.raises(UserError, match="numbers that read two ways \\('1.100'"):
        read_price_csv(two_ways)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "Date;Open;High;Low;Close;Volume\n"
        + "".join(f"{d:%Y-%m-%d};1.100,5;1,100.5;1;1;500\n" for d in DAYS)
    )
    with pytest.raises(UserError, match="mixes number formats"):
        read_price_csv(mixed)
    day_or_month = tmp_path / "monthly.csv"  # every day <= 12: 01/02/2015 reads two ways
    day_or_month.write_text(
        "Date,Open,High,Low,Close,Volume\n"
        + "".join(
            f"{d:%d/%m/%Y},1,1,1,1,5\n" for d in pd.date_range("2015-01-01", periods=40, freq="MS")
        )
    )
    with pytest.raises(UserError, match="dates that read two ways"):
        read_price_csv(day_or_month)

    out = run_cli(
        "train",
        "--csv",
        path,
        *TINY_CSV_RUN,
        workspace=tmp_path / "ws",
    )
    assert out.returncode == 0, out.stderr[-1500:]


# ---------------------------------------------------------------- 3 and 4. run.json shapes


def test_a_run_json_of_the_wrong_shape_is_listed_as_damaged_with_its_reason(workspace):
    ids = legacy_runs(workspace)
    runs = workspace / "runs"
    wrong_shape, unknown_kind, empty_arrays = [], [], []
    for suffix, edit in (("0000a1", "data"), ("0000a2", "kind"), ("0000a3", "npz")):
        new = runs / f"20261130-120000-{suffix}"
        shutil.copytree(runs / ids[0], new)
        meta = json.loads((new / "run.json").read_text())
        if edit == "data":
            meta["data"] = []
            wrong_shape.append(new.name)
        elif edit == "kind":
            meta["kind"] = "crystal_ball"
            unknown_kind.append(new.name)
        else:
            (new / "arrays.npz").write_bytes(b"")  # zero bytes, newest run of all
            empty_arrays.append(new.name)
        meta["created"] = f"2026-11-30T12:00:0{suffix[-1]}"
        (new / "run.json").write_text(json.dumps(meta))
    store = RunStore()
    damaged = dict(store.damaged())
    assert damaged[wrong_shape[0]] == "run.json's 'data' is list, not dict"
    assert damaged[unknown_kind[0]] == "run.json's kind 'crystal_ball' is not one LagLens knows"
    assert damaged[empty_arrays[0]] == "arrays.npz is damaged (not a complete NumPy archive)"
    assert sorted(r.id for r in store.runs()) == ids

    at = train_page()  # the table and the damaged list, no exception
    assert not at.exception
    assert sorted(at.dataframe[-1].value["id"]) == sorted(ids[:2])
    assert "run.json's 'data' is list, not dict" in shown(at)
    at.switch_page("views/predictions.py").run()  # the newest whole run opens
    assert not at.exception and len(at.get("plotly_chart")) >= 2

    out = run_cli("runs", workspace=workspace)  # 4: the CLI lists them apart too
    assert out.returncode == 0, out.stderr
    listing, _, apart = out.stdout.partition("Damaged runs (3): not listed above")
    assert ids[0] in listing and ids[1] in listing and wrong_shape[0] not in listing
    assert f"{wrong_shape[0]}: run.json's 'data' is list, not dict" in apart
    assert f"{empty_arrays[0]}: arrays.npz is damaged" in apart
    truncated = runs / ids[1] / "run.json"
    truncated.write_text(truncated.read_text()[:100])
    out = run_cli("runs", workspace=workspace)
    assert f"{ids[1]}: run.json is truncated or unreadable" in out.stdout
    assert "Damaged runs (4)" in out.stdout


# ---------------------------------------------------------------- 5 and 6. limits as parsed


def test_a_gzip_bomb_is_stopped_at_the_limit_without_filling_memory(tmp_path):
    import resource

    bomb = tmp_path / "prices_2015.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:  # 200 MB of zeros in a small file
        fh.write(b"Date,Open,High,Low,Close,Volume\n")
        for _ in range(200):
            fh.write(b"0" * (1 << 20))
    assert bomb.stat().st_size < 300_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(UserError, match="unpacks to more than 50 MB"):
        read_price_csv(bomb)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 2.5 * MAX_CSV_BYTES / 2**20  # at most the limit, not 200 MB
    whole = tmp_path / "aapl_2015.csv.gz"  # a real gzip under the limit still reads
    lines = "".join(f"{d:%Y-%m-%d},1,2,0.5,1.5,10\n" for d in DAYS)
    whole.write_bytes(gzip.compress(("Date,Open,High,Low,Close,Volume\n" + lines).encode()))
    assert len(read_price_csv(whole)) == len(DAYS)


def test_the_row_limit_counts_rows_the_way_the_parser_does(tmp_path):
    head = "Date,Close\r"
    body = "".join(
        f"{d:%Y-%m-%d},1\r" for d in pd.date_range("1700-01-01", periods=MAX_CSV_ROWS + 5)
    )
    path = tmp_path / "cr_only_export.csv"  # old Mac line endings: CR only
    path.write_text(head + body, newline="")
    with pytest.raises(UserError, match=f"has {MAX_CSV_ROWS + 5:,} rows"):
        read_price_csv(path)
    ok = tmp_path / "cr_only_short.csv"
    ok.write_text(
        "Date,Open,High,Low,Close,Volume\r" + "".join(f"{d:%Y-%m-%d},1,1,1,1,1\r" for d in DAYS),
        newline="",
    )
    assert len(read_price_csv(ok)) == len(DAYS)


# ---------------------------------------------------------------- 7. links out of the workspace


def test_a_linked_run_folder_is_never_followed_out_of_the_workspace(workspace, tmp_path):
    ids = legacy_runs(workspace)
    outside = tmp_path / "elsewhere" / "20261201-000000-0000ff"
    shutil.copytree(workspace / "runs" / ids[0], outside)
    before = (outside / "run.json").read_bytes()
    link = workspace / "runs" / outside.name
    link.symlink_to(outside, target_is_directory=True)
    store = RunStore()
    assert outside.name not in [r.id for r in store.runs()]
    assert dict(store.damaged())[outside.name] == (
        "is a link to a folder outside the workspace (not followed)"
    )
    with pytest.raises(UserError, match="does not follow links"):
        store.rename(outside.name, "hijacked")
    assert (outside / "run.json").read_bytes() == before
    store.delete(outside.name)  # the link goes; what it pointed to stays
    assert not link.exists() and not link.is_symlink()
    assert (outside / "run.json").read_bytes() == before
    assert not [p for p in (workspace / "runs").iterdir() if p.name.startswith(".trash")]


# ---------------------------------------------------------------- 8. time-zone offsets


def test_dates_with_time_zone_offsets_read_as_exchange_local_dates(tmp_path):
    days = pd.bdate_range("2015-02-02", periods=60)  # across the change to summer time
    rows = "".join(
        f"{d:%Y-%m-%d} 00:00:00{'-04:00' if d >= pd.Timestamp('2015-03-09') else '-05:00'},"
        f"{10 + i},{11 + i},{9 + i},{10.5 + i},1000\n"
        for i, d in enumerate(days)
    )
    path = tmp_path / "msft_yfinance_history.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n" + rows)
    frame = read_price_csv(path)
    assert list(frame.index) == list(days) and frame["close"].iloc[-1] == 10.5 + 59
    out = run_cli(
        "train",
        "--csv",
        path,
        *TINY_CSV_RUN,
        "--start",
        "2015-02-01",
        workspace=tmp_path / "ws",
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-1500:]


# ---------------------------------------------------------------- 9. names are plain text

IMAGE = "![t](http://127.0.0.1:9/track.png)"


def test_a_run_or_job_name_with_a_markdown_image_is_shown_as_plain_text(workspace):
    from core.jobs.manager import JobManager
    from tests.helpers import tiny_config

    ids = legacy_runs(workspace)
    for run_id in ids:
        RunStore().rename(run_id, f"{IMAGE} *run*")
    data = tiny_dataset()
    manager = JobManager(max_parallel=0)  # queued forever: the shared queue shows them
    for i in range(2):
        manager.submit("forecast", data.frame, data.describe(), tiny_config(), f"{IMAGE} {i}")
    at = train_page()
    for page in ("views/train.py", "views/predictions.py", "views/anomalies.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        text = shown(at)
        assert "![t](" not in text, page  # never a markdown image a browser would fetch
        assert "http://127.0.0.1:9/track.png" in text or page != "views/train.py"
    at.switch_page("views/train.py").run()
    next(t for t in at.text_input if t.label == "New name").set_value(IMAGE).run()
    next(b for b in at.button if b.label == "Rename").click().run()
    assert "![t](" not in shown(at) and "Renamed run" in shown(at)
    renamed = next(s for s in at.selectbox if s.label == "Run").value
    assert RunStore().get(renamed).name == IMAGE  # kept as typed, shown escaped
    for job in manager.jobs():
        manager.stop(job.id)


# ---------------------------------------------------------------- 10 and 11. the disk itself


def in_namespace(script: str, timeout: int = 300):
    """Run `script` (sh) as root of a private mount namespace: it may mount a read-only or a
    tiny file system where the workspace is, seen by nothing outside."""
    import subprocess

    if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("this kernel allows no private mount namespace (unshare -rm)")
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


PY = f"{os.path.relpath(__import__('sys').executable, ROOT)}"
TINY_TRAIN = (
    "-m core.cli train --sample AAPL --start 2011-06-01 --end 2012-12-31 "
    "--epochs 3 --window 10 --units 8"
)


def test_a_read_only_workspace_names_the_folder_and_how_to_choose_another(tmp_path):
    ws = tmp_path / "ws"
    (ws / "runs").mkdir(parents=True)
    app = (
        "from streamlit.testing.v1 import AppTest; "
        "at = AppTest.from_file('app.py', default_timeout=60); at.run(); "
        "print('APP', not at.exception, [e.value.replace(chr(92), '') for e in at.error])"
    )
    out = in_namespace(
        f"mount --bind {ws} {ws} && mount -o remount,ro,bind {ws} && "
        f"{PY} {TINY_TRAIN} --workspace {ws}; echo rc=$?; "
        f'LAGLENS_WORKSPACE={ws} {PY} -c "{app}"'
    )
    assert "rc=2" in out.stdout and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert f"error: The folder {ws}/jobs is not writable (Read-only file system)" in out.stderr
    assert "LAGLENS_WORKSPACE=" in out.stderr and "--workspace" in out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("APP"))
    assert line.startswith("APP True") and f"{ws}/jobs is not writable" in line
    assert sorted(p.name for p in ws.iterdir()) == ["runs"]


# Sizes measured on the files a tiny job writes (the job table's few pages included); JAX's
# compilation cache, whose size varies, is kept outside the tiny file system.
@pytest.mark.parametrize("size, where", [("280k", "checkpoint"), ("350k", "saving the run")])
def test_a_full_disk_fails_the_job_with_the_reason_and_leaves_no_partial_files(
    tmp_path, size, where
):
    ws = tmp_path / "ws"
    ws.mkdir()
    kept = "20261124-153333-7a5504"
    report = (
        f"find {ws} -type f | sort; echo ==; cat {ws}/jobs/*/outcome.json; echo; "
        f"cat {ws}/jobs/*/checkpoint.json 2>/dev/null; echo; "
        f"for f in model.keras predictions.parquet arrays.npz dataset.parquet; do "
        f"cmp {ws}/runs/{kept}/$f {LEGACY}/runs/{kept}/$f || exit; done; "
        f"{PY} -c 'import json; json.load(open(\"{ws}/runs/{kept}/run.json\"))' && echo KEPT"
    )
    # Then space comes back (the file system grows) and the job is saved as a run from the
    # epochs it kept: issue 40, item 4 (it was "failed", and --save-kept refused it).
    again = (
        f"mount -o remount,size=64m {ws}; "
        f"{PY} -m core.cli train --resume $(ls {ws}/jobs | head -1) --save-kept "
        f"--workspace {ws} > {tmp_path}/saved.json; echo rc_saved=$?"
    )
    out = in_namespace(
        f"mount -t tmpfs -o size={size} tmpfs {ws} && mkdir {ws}/runs && "
        f"mkdir {tmp_path}/jax-cache && ln -s {tmp_path}/jax-cache {ws}/jax-cache && "
        f"cp -r {LEGACY}/runs/{kept} {ws}/runs/ && "
        f"{PY} {TINY_TRAIN} --workspace {ws}; echo rc=$?; {report}; {again}"
    )
    assert "rc=2" in out.stdout and "Traceback" not in out.stderr, (where, out.stderr[-2000:])
    assert "error: The disk is full" in out.stderr and "saved runs are untouched" in out.stderr
    files, _, rest = out.stdout.partition("==")
    outcome = json.loads(rest.strip().splitlines()[0])
    assert outcome["error"].startswith("The disk is full")
    assert ".tmp" not in files  # no partial weights, no half-written run folder
    assert not [f for f in files.split() if "/runs/" in f and kept not in f]
    assert "KEPT" in out.stdout  # the saved run is whole
    if where == "saving the run":  # the epochs are kept: the job can be saved or resumed
        assert json.loads(rest.strip().splitlines()[1])["history"][-1]["epoch"] == 3
        assert outcome["status"] == "interrupted" and "--resume" in out.stderr
        assert "rc_saved=0" in out.stdout, out.stderr[-2000:]
        saved = json.loads((tmp_path / "saved.json").read_text().strip().splitlines()[-1])
        assert saved["status"] == "interrupted" and saved["epochs_run"] == 3
    else:
        kept_epochs = rest.strip().splitlines()[1:2]
        assert outcome["status"] == (
            "interrupted" if kept_epochs and "history" in kept_epochs[0] else "failed"
        )


# ---------------------------------------------------------------- 13. refused up front


@pytest.mark.parametrize(
    "flags, message",
    [
        (("--start", "notadate"), "argument --start: The date 'notadate' is not a date"),
        (("--end", "2015-13-45"), "argument --end: The date '2015-13-45' is not a date"),
        (("--learning-rate", "inf"), "Learning rate must be a finite number; inf is not."),
        (("--learning-rate", "nan"), "Learning rate must be a finite number; nan is not."),
        (("--learning-rate", "5"), "Learning rate must be between 1e-07 and 1.0"),
    ],
)
def test_bad_dates_and_settings_are_refused_before_any_training(workspace, flags, message):
    out = run_cli("train", "--sample", "AAPL", "--epochs", 1, *flags, workspace=workspace)
    assert out.returncode == 2 and message in out.stderr, out.stderr[-800:]
    assert "Traceback" not in out.stderr and "epoch 1/" not in out.stderr
    assert not (workspace / "jobs").exists() or not list((workspace / "jobs").iterdir())


# ---------------------------------------------------------------- 12. a killed sweep driver


def test_a_killed_sweep_driver_is_marked_interrupted_cleaned_up_and_resumed(workspace):
    import signal
    import time

    from core.experiments.sweeps import DRIVER, SweepSpec, SweepStore, launch_sweep
    from core.experiments.sweeps import _session as session_processes
    from core.workspace import read_json

    spec = SweepSpec(
        datasets=["sample:AAPL"],
        inputs=["uni"],
        seeds=[0, 1],
        settings={"epochs": 30, "window": 10, "units": 8, "early_stopping": False},
        start="2011-06-01",
        end="2012-12-31",
    )
    sweep_id = launch_sweep(spec, workers=2)
    store = SweepStore()
    driver = read_json(store.path(sweep_id) / DRIVER)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until a trial trains
        trials = store.load(sweep_id)["trials"].values()
        if any(t.get("status") == "running" for t in trials):
            break
        time.sleep(0.2)
    assert len(session_processes(driver["pid"])) > 2  # the driver, Ray's processes, trials
    os.kill(driver["pid"], signal.SIGKILL)
    os.waitpid(driver["pid"], 0)

    sweep = store.load(sweep_id)  # what the Experiments page reads
    assert sweep["status"] == "interrupted"
    assert "driver process stopped" in sweep["message"] and "Resume it" in sweep["message"]
    assert session_processes(driver["pid"]) == []  # nothing it started outlives it
    assert json.loads((store.path(sweep_id) / "sweep.json").read_text())["status"] == "interrupted"

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("views/experiments.py").run()
    assert not at.exception
    assert next(s for s in at.selectbox if s.label == "Sweep").value == sweep_id
    assert "interrupted" in shown(at) or any(
        "interrupted" in str(p.proto) for p in at.get("progress")
    )
    next(b for b in at.button if b.label == "Resume the sweep").click().run()
    assert not at.exception
    deadline = time.monotonic() + 240
    while store.load(sweep_id)["status"] != "finished" and time.monotonic() < deadline:
        time.sleep(0.5)
    sweep = store.load(sweep_id)
    assert sweep["status"] == "finished" and sweep["message"] == ""
    assert [t["status"] for t in sweep["trials"].values()] == ["finished", "finished"]


# ---------------------------------------------------------------- 15. Stop in mid-epoch


def test_stop_in_mid_epoch_ends_within_a_batch_and_keeps_only_whole_epochs(workspace):
    import time

    from core.jobs.manager import JobManager
    from core.store.checkpoint import read_checkpoint
    from tests.helpers import tiny_config

    data = tiny_dataset()
    manager = JobManager()
    config = tiny_config(epochs=50, batch_size=2)  # over a hundred batches an epoch
    job = manager.submit("forecast", data.frame, data.describe(), config, "stopped mid-epoch")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job = manager.get(job.id)
        if len(job.history) >= 1 and job.batch >= 3:  # the second epoch is under way
            break
        time.sleep(0.02)
    manager.stop(job.id)
    job = manager.wait(job.id, timeout=120)
    assert job.status == "stopped", job.error
    epoch, batch = (int(x) for x in job.stopped_at.replace(",", "").split()[1::2])
    whole = epoch if batch == job.batches else epoch - 1
    assert epoch >= 2 and whole >= 1
    run = RunStore().get(job.run_id)
    assert [r["epoch"] for r in run.record.history] == list(range(1, whole + 1))
    assert [r["epoch"] for r in job.history] == list(range(1, whole + 1))  # the live curve
    kept = read_checkpoint(workspace / "jobs" / job.id)
    assert kept["history"] == run.record.history  # the cut epoch is not kept either
    assert all(np.isfinite(r["val_loss"]) for r in run.record.history)
    model = run.load_model()  # the saved model is the last whole epoch's, not the cut one's
    saved = [w.copy() for w in model.get_weights()]
    model.load_weights(workspace / "jobs" / job.id / "last.weights.h5")
    for a, b in zip(saved, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_year_one_date_and_a_price_that_never_moves_are_refused_before_training(tmp_path):
    """Issue 40, item 9: a first date of 0001-01-01 passed the reader and failed in training
    with OutOfBoundsDatetime; a constant price trained and failed with ZeroDivisionError.
    Both are refused up front, with the reason, by the CLI (exit 2) and the reader."""

    days = pd.bdate_range("2020-01-01", periods=120)
    moving = 100 + np.cumsum(np.random.default_rng(0).normal(0, 1, 120))
    frame = pd.DataFrame(
        {"Open": moving, "High": moving + 1, "Low": moving - 1, "Close": moving, "Volume": 1e6},
        index=pd.Index([d.strftime("%Y-%m-%d") for d in days], name="Date"),
    )
    year_one = tmp_path / "spy_export_2020.csv"
    frame.rename(index={frame.index[0]: "0001-01-01"}).to_csv(year_one)
    with pytest.raises(UserError, match="no daily price can have .first: 0001-01-01"):
        read_price_csv(year_one)
    flat = tmp_path / "money_market_fund_2020.csv"
    frame.assign(Open=10.0, High=10.0, Low=10.0, Close=10.0).to_csv(flat)
    for path, said in ((year_one, "0001-01-01"), (flat, "is 10 on every one of its")):
        out = run_cli("train", "--csv", path, "--epochs", 1, "--window", 5, workspace=tmp_path)
        assert out.returncode == 2 and said in out.stderr, out.stderr[-500:]
        assert "Traceback" not in out.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_report_on_a_full_disk_leaves_the_previous_report_whole(tmp_path):
    """Issue 40, item 5: `report --out` on a full disk replaced the previous file with a
    truncated partial. Now it writes a temporary file and renames it: the old report stays
    byte for byte, no temporary file is left, and the CLI says so (exit 2)."""
    ws = tmp_path / "ws"
    shutil.copytree(LEGACY / "runs", ws / "runs")
    run_id = "20261124-153333-7a5504"
    out_dir = tmp_path / "reports"
    out_dir.mkdir()
    old = "<html>an older report, kept</html>" * 1000
    script = (
        f"mount -t tmpfs -o size=64k tmpfs {out_dir} && "
        f"printf '%s' '{old}' > {out_dir}/aapl_report.html && "
        f"{PY} -m core.cli report {run_id} --out {out_dir}/aapl_report.html --workspace {ws}; "
        f"echo rc=$?; ls -a {out_dir}; cat {out_dir}/aapl_report.html"
    )
    out = in_namespace(script)
    assert "rc=2" in out.stdout and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert "The previous report there is unchanged" in out.stderr
    listing, _, content = out.stdout.partition("aapl_report.html\n")
    assert ".tmp" not in listing
    assert content.strip() == old


def test_every_reader_lists_a_run_that_does_not_read_whole_as_damaged(tmp_path):
    """Issue 40, item 3: a run.json with nested wrong types, a forecast run without its
    metrics, a zero-byte or bit-rotted arrays.npz, a bit-rotted predictions.parquet. The
    listing (CLI and store) names each as damaged with its reason and lists the whole ones;
    `report` on one exits 2 with the reason; no reader shows a traceback."""
    ws = tmp_path / "ws"
    shutil.copytree(ROOT / "tests" / "fixtures" / "schema2_workspace" / "runs", ws / "runs")
    source = sorted((ws / "runs").iterdir())[0]  # the GRU seed set: a whole forecast run

    def damaged_copy(suffix: str, change) -> str:
        folder = ws / "runs" / f"{source.name[:-6]}{suffix}"
        shutil.copytree(source, folder)
        change(folder)
        return folder.name

    def edit(**fields):
        def change(folder):
            data = json.loads((folder / "run.json").read_text())
            (folder / "run.json").write_text(json.dumps({**data, **fields}))

        return change

    def rot(name):
        def change(folder):
            data = bytearray((folder / name).read_bytes())
            middle = len(data) // 2
            data[middle : middle + 64] = b"\xff" * 64
            (folder / name).write_bytes(bytes(data))

        return change

    cases = {
        damaged_copy("aaaaa1", edit(baselines={"naive": 5})): "'baselines' holds 5",
        damaged_copy("aaaaa2", edit(seeds=[1, 2])): "'seeds' holds 1",
        damaged_copy("aaaaa3", edit(warnings=[1, None])): "'warnings' holds 1",
        damaged_copy("aaaaa4", edit(metrics={})): "metrics lack rel_mae",
        damaged_copy("aaaaa5", lambda f: (f / "arrays.npz").write_bytes(b"")): "arrays.npz",
        damaged_copy("aaaaa6", rot("arrays.npz")): "arrays.npz is damaged",
        damaged_copy("aaaaa7", rot("predictions.parquet")): "predictions.parquet is damaged",
    }
    whole, damaged = RunStore(ws).scan()
    assert dict(damaged).keys() == cases.keys()
    for run_id, why in damaged:
        assert cases[run_id] in why, (run_id, why)
    assert len(whole) == 4  # the fixture's runs, each still whole
    listed = run_cli("runs", "--all", workspace=ws)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr
    assert f"Damaged runs ({len(cases)})" in listed.stdout
    for run_id in cases:
        out = run_cli("report", run_id, "--out", tmp_path / "r.html", workspace=ws)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-1500:]
        assert f"Run {run_id} is damaged" in out.stderr


def test_a_stale_sweep_never_stops_processes_that_are_not_its_own(workspace):
    """Issue 40, item 6: a sweep whose recorded driver pid now names another process (a
    reboot, or time) killed that process's whole session. Before stopping anything the
    driver's identity is checked (its start time, this boot) and each process's own (started
    after the driver, running Ray or the driver): unrelated sessions are left alone."""
    import subprocess
    import time

    from core.experiments.sweeps import DRIVER, SweepSpec, SweepStore, boot_id
    from core.jobs.state import started_at
    from core.workspace import write_json

    store = SweepStore()

    def stale_sweep(driver: dict) -> str:
        sweep = store.create(SweepSpec(datasets=["sample:AAPL"]))
        path = store.path(sweep["id"]) / "sweep.json"
        write_json(path, {**json.loads(path.read_text()), "status": "running"})
        write_json(store.path(sweep["id"]) / DRIVER, driver)
        return sweep["id"]

    # 1. the recorded pid now leads an unrelated session (3 processes), born after the record
    other = subprocess.Popen(["setsid", "sh", "-c", "sleep 60 & sleep 60 & wait"])
    time.sleep(0.3)
    reused = {"pid": other.pid, "started": started_at(other.pid) - 500, "leads_session": True}
    # 2. a dead leader whose session's survivors are not Ray's nor a driver's
    orphans = subprocess.Popen(["setsid", "sh", "-c", "sleep 60 & sleep 61 & exit 0"])
    leader, started = orphans.pid, started_at(orphans.pid)
    orphans.wait()
    time.sleep(0.3)
    dead = {"pid": leader, "started": started, "boot": boot_id(), "leads_session": True}
    # 3. a record from another boot of the machine
    rebooted = {**reused, "started": started_at(other.pid), "boot": "another-boot"}
    try:
        for driver in (reused, dead, rebooted):
            sweep_id = stale_sweep(driver)
            assert store.load(sweep_id)["status"] == "interrupted"  # read: settled as dead
        assert other.poll() is None  # the unrelated session's leader lives
        survivors = subprocess.run(
            ["pgrep", "-s", f"{other.pid},{leader}"], capture_output=True, text=True
        ).stdout.split()
        assert len(survivors) >= 5, survivors  # sh + 2 sleeps, and the 2 orphaned sleeps
    finally:
        subprocess.run(["pkill", "-s", str(other.pid)])
        subprocess.run(["pkill", "-s", str(leader)])
        other.wait()


def test_a_day_written_twice_with_different_prices_is_said_and_a_window_spread_refused(
    tmp_path,
):
    """Issue 40, item 10: a duplicated date with conflicting prices kept the file's first row
    without a word; `--spread-with` silently replaced an explicit `--scaling window`."""
    days = pd.bdate_range("2010-01-04", periods=120)  # within MSFT's sample
    close = 100 + np.cumsum(np.random.default_rng(1).normal(0, 1, 120))
    frame = pd.DataFrame(
        {"Open": close, "High": close + 1, "Low": close - 1, "Close": close, "Volume": 1e6},
        index=pd.Index([d.strftime("%Y-%m-%d") for d in days], name="Date"),
    )
    twice = pd.concat([frame, frame.iloc[[10]].assign(Close=1.0)])
    path = tmp_path / "aapl_export_2010 (1).csv"
    twice.to_csv(path)
    out = run_cli("relate", "--csv", path, "--with", "MSFT", workspace=tmp_path)
    day = days[10].date()
    said = "1 date(s) appear more than once with different prices; the file's first row"
    assert said in out.stderr and f"first: {day}, close {close[10]:g} kept, 1 dropped" in (
        out.stderr
    ), out.stderr[-800:]
    refused = run_cli(
        "train",
        "--sample",
        "AAPL",
        "--spread-with",
        "MSFT",
        "--scaling",
        "window",
        workspace=tmp_path,
    )
    assert refused.returncode == 2 and "--spread-with takes --scaling standard" in refused.stderr


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_its_byte_order_mark_is_read(encoding, tmp_path):
    """Issue 40, item 10: UTF-16 saved without a BOM was refused as "binary"."""
    frame = tiny_dataset().frame.rename(columns=str.title).rename_axis("Date")
    path = tmp_path / "AAPL Historical Data (unicode text).csv"
    path.write_bytes(frame.to_csv().encode(encoding))
    read = read_price_csv(path)
    assert len(read) == len(frame)
    np.testing.assert_allclose(read["close"].to_numpy(), frame["Close"].to_numpy())


def test_a_cli_sweep_killed_with_sigkill_leaves_no_ray_process_behind(tmp_path):
    """Issue 40, item 10: `core.cli sweep` killed with -9 left Ray's DashboardAgent and
    RuntimeEnvAgent alive for 60-120 s. Its watchdog stops every process of the embedded
    Ray within seconds."""
    import signal
    import subprocess
    import sys
    import time

    from core.experiments.sweeps import descendants

    ws = tmp_path / "ws"
    cli = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "sweep", "--sample", "AAPL", "--inputs", "uni"]
        + ["--start", "2011-06-01", "--end", "2012-12-31", "--epochs", "40", "--window", "10"]
        + ["--units", "8", "--no-early-stopping", "--workers", "1", "--workspace", str(ws)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        ray = []
        while time.monotonic() < deadline:  # until a trial trains
            sweeps = list((ws / "sweeps").glob("*/sweep.json")) if ws.exists() else []
            running = [
                s
                for s in sweeps
                if '"running"' in s.read_text() and '"trials": {"' in s.read_text()
            ]
            ray = [p for p in descendants(cli.pid) if "ray" in _cmdline(p)]
            if running and len(ray) >= 3:
                break
            time.sleep(0.5)
        assert len(ray) >= 3, "Ray never started"
        cli.send_signal(signal.SIGKILL)
        cli.wait()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(p) for p in ray):
            time.sleep(0.25)
        left = [(p, _cmdline(p)[:80]) for p in ray if _alive(p)]
        assert not left, left
    finally:
        if cli.poll() is None:
            cli.kill()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")
