"""The Keras fit loop every job shares: seeding, live progress, stop within one batch, NaN.

Runs in the worker process only (it imports Keras and TensorFlow inside its functions).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

from core.errors import UserError
from core.forecasting.windows import ModelData
from core.models.windows import tf_windows
from core.store.runs import RunRecord

BATCH_EVENT_INTERVAL_S = 0.25
JAX_CACHE_BYTES = 256 * 2**20  # the oldest compiled programs go first beyond this


def use_backend(name: str, workspace: Path | None = None) -> None:
    """Make Keras run on `name`. Keras reads its backend once, at its first import: before
    that, set it; after, a process on another backend cannot switch (the job manager and
    the CLI start a process on the run's backend). On JAX, compiled programs are kept in
    `workspace`/jax-cache: a later run of the same shapes (another seed, a sweep's next
    trial, the same job again) loads them instead of compiling (bench_backends)."""
    import os
    import sys

    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = name
    import keras

    if keras.config.backend() != name:
        raise UserError(
            f"This process already runs Keras on {keras.config.backend()}; a run on {name} "
            "needs a process of its own."
        )
    if name == "jax" and "tensorflow" not in sys.modules:
        # A run on JAX reads its windows from NumPy (ModelData.arrays) and never needs
        # TensorFlow; Keras would still import it (about 3 s) for isinstance checks when it
        # saves a model, because it is installed. Keras is told it is not there.
        from keras.src.utils import module_utils

        module_utils.tensorflow._available = False
    if name == "jax" and workspace is not None:
        import jax

        jax.config.update("jax_compilation_cache_dir", str(Path(workspace) / "jax-cache"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_compilation_cache_max_size", JAX_CACHE_BYTES)


def seed_everything(seed: int) -> None:
    """One seed per run, so a seed reproduces losses and weights on the CPU on the same
    backend: Keras seeds Python, NumPy and the backend; TensorFlow also needs deterministic
    ops (XLA on the CPU, JAX's compiler, is deterministic already)."""
    import keras

    from core.models.seedset import set_seed

    set_seed(int(seed))
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def make_progress_callback(
    emit: Callable[[dict], None],
    should_stop: Callable[[], bool],
    batches: int,
    completed: int = 0,
    can_discard: bool = False,
):
    """Keras callback: epoch losses, throttled batch progress, stop within one batch, NaN.

    A stop in the middle of an epoch ends training after the current batch. When an earlier
    epoch was completed and kept (`can_discard`: a checkpoint holds its weights), the cut
    epoch is discarded: no validation pass over it, no point on the curve, no kept epoch,
    and the run goes on from the last whole epoch (`discarded` tells fit_model)."""
    import keras

    class Progress(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.stopped_by_user = False
            self.discarded = False
            self._completed = completed
            self.nan_message = ""
            self._last_emit = 0.0
            self._epoch = 0
            self._epoch_start = time.monotonic()

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch + 1
            self._epoch_start = time.monotonic()

        def on_train_batch_end(self, batch, logs=None):
            loss = float((logs or {}).get("loss", float("nan")))
            if not math.isfinite(loss):
                self.nan_message = (
                    f"The training loss became {loss} in epoch {self._epoch}, batch {batch + 1}. "
                    "Try a lower learning rate, the Huber loss, or a differenced transform."
                )
                self.model.stop_training = True
                return
            if should_stop():
                self.stopped_by_user = True
                self.model.stop_training = True
                self.discarded = can_discard and self._completed > 0 and batch + 1 < batches
                emit({"type": "stopping", "epoch": self._epoch, "batch": batch + 1})
            now = time.monotonic()
            if now - self._last_emit >= BATCH_EVENT_INTERVAL_S or batch + 1 == batches:
                self._last_emit = now
                emit(
                    {
                        "type": "batch",
                        "epoch": self._epoch,
                        "batch": batch + 1,
                        "batches": batches,
                        "loss": loss,
                        "epoch_seconds": now - self._epoch_start,
                    }
                )

        def on_test_begin(self, logs=None):
            if self.discarded:  # no validation pass over an epoch that is thrown away
                self.model.stop_evaluating = True

        def on_epoch_end(self, epoch, logs=None):
            if self.discarded:
                return
            self._completed += 1
            logs = logs or {}
            event = {
                "type": "epoch",
                "epoch": epoch + 1,
                "loss": float(logs.get("loss", float("nan"))),
                "val_loss": float(logs.get("val_loss", float("nan"))),
                "seconds": time.monotonic() - self._epoch_start,
            }
            if "member_losses" in logs:  # a seed set: every member's curve is live too
                event["member_losses"] = [float(v) for v in logs["member_losses"]]
                event["member_val_losses"] = [float(v) for v in logs["val_member_losses"]]
            emit(event)

    return Progress()


def fit_model(
    model, data: ModelData, config, emit, should_stop, checkpoint=None
) -> tuple[list[dict], str]:
    """Compile and fit on the data's training windows, validating on its validation
    windows, with live progress, stop and NaN handling; the loop every job shares.

    `config` is any Settings with the training loop's fields (core.config.fit_setting).
    `checkpoint` (core.store.checkpoint.Checkpointer) keeps every finished epoch on disk; if it
    already holds epochs, training resumes after them; if its `train_more` is False, nothing
    is trained and the kept weights are taken as they are (an interrupted job saved as a
    run). Returns (history rows, status: finished, stopped by the user, or interrupted).
    """
    import keras

    from core.models.seedset import for_members, n_members, seed_callbacks

    n = n_members(model)  # a seed set trains n networks side by side, each on its own loss
    loss = keras.losses.Huber() if config.loss == "huber" else keras.losses.MeanSquaredError()
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate), loss=loss if n == 1 else [loss] * n
    )
    done = checkpoint.epochs_done if checkpoint else 0
    fit = checkpoint.train_more if checkpoint else True
    if done:
        checkpoint.restore(model, best=not fit and config.early_stopping and config.restore_best)
    if not fit:
        return list(checkpoint.history), "interrupted"
    if keras.config.backend() == "tensorflow":  # tf.data windows, shuffled with the run's seed
        x, y = for_members(tf_windows(data, "train", shuffle=True), n), None
        val = for_members(tf_windows(data, "val"), n)
        batching = {"shuffle": False}  # the window dataset batches and shuffles itself
    else:  # NumPy windows, shuffled by Keras with NumPy's seeded generator: no TensorFlow
        x, y = for_members(data.arrays("train"), n)
        val = for_members(data.arrays("val"), n)
        batching = {"batch_size": config.batch_size, "shuffle": True}
    batches = int(math.ceil(len(data.target_rows("train")) / config.batch_size))
    emit({"type": "start", "epochs": config.epochs, "batches": batches, "resumed_at": done})
    for row in checkpoint.history if checkpoint else []:
        emit({"type": "epoch", **row, "seconds": 0.0})  # the kept epochs, on the live curve
    progress = make_progress_callback(emit, should_stop, batches, done, checkpoint is not None)
    patience = config.patience if config.early_stopping else None
    members = seed_callbacks(n, patience, config.restore_best, checkpoint) if n > 1 else []
    callbacks = [*members[:1], progress]  # the members' mean first: what the rest reads
    if checkpoint:
        callbacks.append(checkpoint.callback(skip=lambda: progress.discarded))
    callbacks += members[1:]  # a seed set: each member's own early stopping
    if config.early_stopping and n == 1:
        options = dict(
            monitor="val_loss", patience=config.patience, restore_best_weights=config.restore_best
        )
        early = (
            checkpoint.early_stopping(model, **options)
            if done
            else keras.callbacks.EarlyStopping(**options)
        )
        callbacks.append(early)
    fitted = model.fit(
        x,
        y,
        validation_data=val,
        epochs=config.epochs,
        initial_epoch=done,
        callbacks=callbacks,
        verbose=0,
        **batching,
    )
    emit({"type": "trained"})  # the job panel: testing and saving, not another epoch
    if progress.nan_message:
        raise UserError(progress.nan_message)
    history = fitted.history
    val = history.get("val_loss", [math.nan] * len(history.get("loss", [])))
    rows = (checkpoint.history[:done] if checkpoint else []) + [
        {"epoch": done + i + 1, "loss": loss_i, "val_loss": val[i]}
        for i, loss_i in enumerate(history.get("loss", []))
    ]
    for row, kept, kept_val in zip(  # a seed set: each member's losses beside their mean
        rows[done:],
        history.get("member_losses", []),
        history.get("val_member_losses", []),
        strict=False,
    ):
        row.update(member_losses=list(kept), member_val_losses=list(kept_val))
    if progress.discarded:  # the epoch cut by Stop: back to the last whole one
        rows = rows[:-1]
        checkpoint.restore(model)
    return rows, "stopped" if progress.stopped_by_user else "finished"


def record_of_fit(
    kind: str,
    name: str,
    config,
    data_desc: dict,
    data: ModelData,
    fitted: tuple[list[dict], str],
    started: float,
    **details,
) -> RunRecord:
    """The run record every kind shares: settings, data, history, status, time, scaling,
    split dates; `details` add the kind's own results (metrics, threshold, ...)."""
    history, status = fitted
    return RunRecord(
        kind=kind,
        name=name,
        status=status,
        config=config.to_dict(),
        data=data_desc,
        history=history,
        seconds=time.monotonic() - started,
        scaler=data.scaler.to_dict(),
        split_dates=details.pop("split_dates", None) or data.split_dates(),
        **details,
    )
