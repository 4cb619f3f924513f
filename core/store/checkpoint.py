"""Checkpoints of a training job, so nothing finished is lost when its worker dies.

At every epoch end the worker writes into its job folder:
- `last.weights.h5`: the weights after that epoch (resume continues from them);
- `best.weights.h5`: the weights of the epoch with the lowest validation loss so far;
- `checkpoint.json`: the history so far, the best epoch and the planned epochs;
- for a seed set (core/pipeline/seedset.py), `best.seed_I.weights.h5`: member I's weights
  of its own best epoch (each member stops early on its own).
Each is written under a temporary name and renamed into place, checkpoint.json last, so it
never names weights that are not complete on disk. Reading checkpoint.json needs no
TensorFlow (the job manager and the pages read it); the Keras parts import it lazily.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
from pathlib import Path

from core.workspace import read_json, write_json

CHECKPOINT = "checkpoint.json"
LAST, BEST = "last.weights.h5", "best.weights.h5"
MEMBER_BEST = "best.seed_{}.weights.h5"  # a seed set's member I at its own best epoch


def read_checkpoint(job_dir: str | Path) -> dict | None:
    """{history, best_epoch, best, total_epochs} if at least one epoch was kept, else None."""
    state = read_json(Path(job_dir) / CHECKPOINT)
    if state is None or not state.get("history") or not (Path(job_dir) / LAST).is_file():
        return None
    return state


def copy_checkpoint(source: Path, target: Path) -> None:
    """Carry a checkpoint into a resumed job's folder (its JSON last, like a write)."""
    members = sorted(p.name for p in source.glob(MEMBER_BEST.format("*")))
    for name in (LAST, BEST, *members, CHECKPOINT):
        if (source / name).is_file():
            shutil.copyfile(source / name, target / f".{name}.copy")
            os.replace(target / f".{name}.copy", target / name)


def _monitored(row: dict) -> float:
    """What 'best' means: the validation loss (the training loss if there is none)."""
    value = row.get("val_loss", math.nan)
    return value if math.isfinite(value) else row["loss"]


class Checkpointer:
    """The worker's side: a Keras callback that keeps the checkpoint, and resuming from it."""

    def __init__(
        self,
        job_dir: str | Path,
        total_epochs: int,
        state: dict | None = None,
        train_more: bool = True,
    ):
        """`state`: a kept checkpoint to resume from; `train_more=False`: take its weights
        as they are (saving an interrupted job as a run)."""
        self.dir = Path(job_dir)
        self.train_more = train_more
        self.total_epochs = int(total_epochs)
        state = state or {}
        self.history: list[dict] = list(state.get("history", []))
        self.best_epoch: int | None = state.get("best_epoch")  # 0-based, like Keras
        self.best: float | None = state.get("best")

    @property
    def epochs_done(self) -> int:
        return len(self.history)

    def _save_weights(self, model, name: str) -> None:
        tmp = self.dir / f".{name.removesuffix('.weights.h5')}.tmp.weights.h5"
        # h5py can crash the process when the disk fills mid-write, so check for room first.
        need = 2 * 4 * model.count_params() + (64 << 10)
        if shutil.disk_usage(self.dir).free < need:
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
        try:
            model.save_weights(tmp)
            os.replace(tmp, self.dir / name)
        except BaseException:  # a full disk: no half-written file is left behind
            tmp.unlink(missing_ok=True)
            raise

    def record_epoch(self, model, row: dict) -> None:
        """Keep one finished epoch: its weights, the best weights, then the JSON."""
        if not math.isfinite(row["loss"]):
            return  # a NaN epoch is not worth resuming from
        epoch = len(self.history)
        self.history.append(row)
        self._save_weights(model, LAST)
        value = _monitored(row)
        if self.best is None or value < self.best:
            self.best, self.best_epoch = value, epoch
            self._save_weights(model, BEST)
        self._keep_member_bests(model, row)
        state = {
            "history": self.history,
            "best_epoch": self.best_epoch,
            "best": self.best,
            "total_epochs": self.total_epochs,
        }
        write_json(self.dir / CHECKPOINT, state)

    def _keep_member_bests(self, model, row: dict) -> None:
        """A seed set: each member whose validation loss is its lowest yet keeps its weights."""
        losses = row.get("member_val_losses")
        if not losses:
            return
        from core.models.seedset import members

        earlier = [r.get("member_val_losses") or [] for r in self.history[:-1]]
        for i, (net, value) in enumerate(zip(members(model), losses, strict=True)):
            before = [r[i] for r in earlier if len(r) > i and math.isfinite(r[i])]
            if math.isfinite(value) and (not before or value < min(before)):
                self._save_weights(net, MEMBER_BEST.format(i))

    def member_best(self, net, i: int):
        """Member i's kept best weights (a seed set resuming), or None if none were kept."""
        path = self.dir / MEMBER_BEST.format(i)
        if not path.is_file():
            return None
        current = net.get_weights()
        net.load_weights(path)
        best = net.get_weights()
        net.set_weights(current)
        return best

    def callback(self, skip=lambda: False):
        """Keras callback keeping each finished epoch (not one `skip()` says to drop)."""
        import keras

        checkpointer = self

        class KeepEpochs(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if skip():
                    return
                logs = logs or {}
                row = {
                    "epoch": epoch + 1,
                    "loss": float(logs.get("loss", math.nan)),
                    "val_loss": float(logs.get("val_loss", math.nan)),
                }
                if "member_losses" in logs:  # a seed set: each member's, for resuming
                    row["member_losses"] = list(logs["member_losses"])
                    row["member_val_losses"] = list(logs.get("val_member_losses", []))
                checkpointer.record_epoch(self.model, row)

        return KeepEpochs()

    def restore(self, model, best: bool = False) -> None:
        """Load the last (or the best) kept weights into a built model."""
        path = self.dir / (BEST if best and (self.dir / BEST).is_file() else LAST)
        model.load_weights(path)
        if best and self.history and self.history[-1].get("member_val_losses"):
            from core.models.seedset import members

            model.load_weights(self.dir / LAST)  # each member's own best, not the mean's
            for i, net in enumerate(members(model)):
                if (self.dir / MEMBER_BEST.format(i)).is_file():
                    net.load_weights(self.dir / MEMBER_BEST.format(i))

    def early_stopping(self, model, **options):
        """Keras EarlyStopping that carries on from the kept epochs: the same best value,
        best epoch, best weights and patience already used, as if never interrupted."""
        import keras

        checkpointer = self
        best_weights = None
        if options.get("restore_best_weights") and self.best_epoch is not None:
            self.restore(model, best=True)
            best_weights = model.get_weights()
            self.restore(model)

        class Resumed(keras.callbacks.EarlyStopping):
            def on_train_begin(self, logs=None):
                super().on_train_begin(logs)
                if checkpointer.best_epoch is not None:
                    self.best, self.best_epoch = checkpointer.best, checkpointer.best_epoch
                    self.wait = checkpointer.epochs_done - 1 - checkpointer.best_epoch
                    self.best_weights = best_weights

        return Resumed(**options)
