"""Seed sets: N seeds trained side by side as one run, the verdict on their averaged
forecast, how many seeds agree, and each seed's own early stopping and best weights."""

import math

import numpy as np

from core.pipeline.forecast import repredict, train_forecaster
from core.store.runs import RunStore
from tests.helpers import (
    TINY_FLAGS,
    TINY_SAMPLE_FLAGS,
    last_json,
    run_cli,
    tiny_config,
    tiny_dataset,
)


def test_a_seed_set_is_its_seeds_side_by_side_and_reproduces_itself(workspace):
    data = tiny_dataset()
    store = RunStore()
    alone = train_forecaster(data.frame, data.describe(), tiny_config(seed=4), store)
    config = tiny_config(seed=4, n_seeds=3)
    first = train_forecaster(data.frame, data.describe(), config, store)
    again = train_forecaster(data.frame, data.describe(), config, store)

    # Each seed is a network of its own: the first seed's is the run with that seed alone
    # (same initialisation, same batches); the others have their own seeds.
    assert [row["seed"] for row in first["seeds"]] == [4, 5, 6]
    own = first["seeds"][0]["rel_mae"]
    assert abs(own - alone["metrics"]["rel_mae"]) <= 0.005 * alone["metrics"]["rel_mae"]
    assert len({row["rel_mae"] for row in first["seeds"]}) == 3
    assert first["seeds"] == again["seeds"] and first["metrics"] == again["metrics"]  # bit for bit

    run = store.get(first["run_id"])
    members = run.paths.seed_paths
    assert members.shape == (3, len(run.predictions), 1)
    # The run's forecast is the seeds' average, and its verdict is scored on that average.
    np.testing.assert_allclose(run.predictions["predicted"], members.mean(axis=0)[:, 0])
    assert run.meta["n_seeds"] == 3 and first["n_seeds"] == 3
    agree = sum(row["verdict"] == first["verdict"] for row in first["seeds"])
    assert first["seeds_agreeing"] == agree
    # The curve is the seeds' mean loss; each seed's losses are kept beside it.
    for row in run.record.history:
        assert math.isclose(row["loss"], np.mean(row["member_losses"]), rel_tol=1e-6)
        assert len(row["member_val_losses"]) == 3
    assert "3 seeds" in run.name
    # the same settings saved twice (a script, a sweep): numbered like the app's jobs
    assert store.get(again["run_id"]).name == f"{run.name} (2)"
    # The saved model is the whole set: predicting again gives the averaged forecast.
    np.testing.assert_allclose(
        repredict(run.id, store)["predicted"], run.predictions["predicted"], rtol=1e-6
    )


def _seed_set(n=3):
    import keras

    from core.config import TrainConfig
    from core.models.seedset import build_seed_set, members

    def build(config, n_features):
        inputs = keras.Input((2, n_features))
        outputs = keras.layers.Dense(1)(keras.layers.Flatten()(inputs))
        return keras.Model(inputs, outputs), None

    model, _ = build_seed_set(build, TrainConfig(n_seeds=n, seed=0), 1)
    model.stop_training = False  # as Keras's fit sets it
    return model, members(model)


def _mark(nets, epoch):
    """Every member's weights set to a value naming the epoch (to see which are kept)."""
    for net in nets:
        net.set_weights([np.full(w.shape, float(epoch)) for w in net.get_weights()])


def _logs(values):
    return {f"val_{i}/seed_{i}_loss": v for i, v in enumerate(values)} | {"val_loss": 0.0}


def test_each_seed_stops_early_on_its_own_and_keeps_its_own_best_weights():
    from core.models.seedset import MemberStopping

    model, nets = _seed_set()
    stopping = MemberStopping(3, patience=2, restore_best=True)
    stopping.set_model(model)
    stopping.on_train_begin()
    # Validation losses by epoch: seed 0 keeps improving, seed 1's best is epoch 1, seed 2's
    # epoch 0.
    losses = [[0.9, 0.9, 0.9], [0.8, 0.5, 1.0], [0.7, 0.6, 1.0], [0.6, 0.7, 1.0], [0.5, 0.8, 1.0]]
    for epoch, values in enumerate(losses):
        _mark(nets, epoch)
        stopping.on_epoch_end(epoch, _logs(values))
        if epoch == 3:  # seeds 1 and 2 have stopped; seed 0 still improves, so training goes on
            assert stopping.stopped == [False, True, True] and not model.stop_training
    assert not model.stop_training  # seed 0 never stopped
    _mark(nets, 9)
    stopping.on_train_end()
    kept = [float(net.get_weights()[0].flat[0]) for net in nets]
    assert kept == [4.0, 1.0, 0.0]  # each seed's own best epoch

    # Once every seed has stopped, training ends; without restore_best each keeps its weights
    # from the epoch it stopped.
    model, nets = _seed_set(2)
    stopping = MemberStopping(2, patience=1, restore_best=False)
    stopping.set_model(model)
    stopping.on_train_begin()
    for epoch, values in enumerate([[0.5, 0.5], [0.6, 0.4], [0.7, 0.45]]):
        _mark(nets, epoch)
        stopping.on_epoch_end(epoch, _logs(values))
    assert model.stop_training and stopping.stopped == [True, True]
    _mark(nets, 9)
    stopping.on_train_end()
    assert [float(net.get_weights()[0].flat[0]) for net in nets] == [1.0, 2.0]


def test_a_seed_set_resumes_with_each_seeds_best_and_patience(tmp_path):
    from core.models.seedset import MemberStopping
    from core.store.checkpoint import Checkpointer, read_checkpoint

    model, nets = _seed_set(2)
    checkpoint = Checkpointer(tmp_path, 10)
    by_epoch = [[0.9, 0.5], [0.4, 0.6], [0.6, 0.7]]  # seed 0's best: epoch 1; seed 1's: 0
    for epoch, values in enumerate(by_epoch):
        _mark(nets, epoch)
        row = {"epoch": epoch + 1, "loss": 1.0, "val_loss": float(np.mean(values))}
        checkpoint.record_epoch(model, row | {"member_val_losses": values})
    assert sorted(p.name for p in tmp_path.glob("best.seed_*")) == [
        "best.seed_0.weights.h5",
        "best.seed_1.weights.h5",
    ]
    resumed = Checkpointer(tmp_path, 10, read_checkpoint(tmp_path))
    # Saving the kept epochs as a run: each seed gets its own best weights.
    resumed.restore(model, best=True)
    assert [float(net.get_weights()[0].flat[0]) for net in nets] == [1.0, 0.0]

    # Carrying on: each seed's best value, best epoch and spent patience, as if never cut.
    resumed.restore(model)
    stopping = MemberStopping(2, patience=2, restore_best=True, resumed=resumed)
    stopping.set_model(model)
    stopping.on_train_begin()
    assert stopping.best == [0.4, 0.5] and stopping.best_epoch == [1, 0]
    assert stopping.wait == [1, 2]
    _mark(nets, 3)
    stopping.on_epoch_end(3, _logs([0.45, 0.65]))  # seed 1 stopped already (patience spent)
    assert stopping.stopped == [True, True] and model.stop_training
    stopping.on_train_end()
    assert [float(net.get_weights()[0].flat[0]) for net in nets] == [1.0, 0.0]


def test_cli_train_reports_seeds_and_a_compare_side_is_one_seed_set(workspace):
    out = run_cli(
        "train", *TINY_SAMPLE_FLAGS, *TINY_FLAGS, "--n-seeds", "2", "--seed", "7",
        workspace=workspace,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-800:]
    summary = last_json(out)
    assert summary["n_seeds"] == 2 and [s["seed"] for s in summary["seeds"]] == [7, 8]
    assert 0 <= summary["seeds_agreeing"] <= 2
    assert all(math.isfinite(s["rel_mae"]) for s in summary["seeds"])

    bad = run_cli("train", *TINY_SAMPLE_FLAGS, "--n-seeds", "0", workspace=workspace)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "Seeds (trained together)" in bad.stderr

    # A compare set's --n-seeds is its seeds per side, each side one seed set, whatever the
    # settings' own n_seeds says.
    from core.config import CompareConfig
    from core.experiments.compare_sets import pair_set

    config = tiny_config(features=["close", "volume"], n_seeds=3, seed=2)
    members = pair_set(config, CompareConfig(n_seeds=2))
    assert [(side, c.seed, c.n_seeds) for side, c in members] == [("uni", 2, 2), ("multi", 2, 2)]
