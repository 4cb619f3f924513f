"""A seed set: N networks of one configuration, seeds seed, seed + 1, ..., trained side by
side as one Keras model (one output per seed), so one run answers "does this hold beyond
one seed?" and the machine's idle width is used.

Each network has its own initialisation (built after seeding with its seed), its own loss
(the model's loss is their sum: the gradient of a network's weights is its own loss's, and
Adam scales each weight on its own), its own early stopping and its own best weights. A
set of one seed is the plain model, exactly as before. Keras is imported inside the
functions (the worker process only); the fit loop (core/pipeline/fitting.py) and the
checkpoint (core/store/checkpoint.py) use the members by these names.
"""

from __future__ import annotations

import math
import re

import numpy as np

SEED_NAME = "seed_{}"  # a member network's name in the set; Keras logs its loss as NAME_loss


def set_seed(seed: int) -> None:
    """keras.utils.set_random_seed (Python, NumPy, Keras's seed generator and, on
    TensorFlow, TensorFlow's), without importing TensorFlow on another backend: it imports
    it whenever it is installed, which costs a JAX run about 3 s (bench_speed)."""
    import keras

    if keras.config.backend() == "tensorflow":
        keras.utils.set_random_seed(int(seed))
        return
    import random

    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, int(seed))
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(int(seed))
    np.random.seed(int(seed))


def seeds_of(config) -> list[int]:
    """The seeds of a run: seed, seed + 1, ... (n_seeds of them; one for other kinds)."""
    return [int(config.seed) + i for i in range(int(getattr(config, "n_seeds", 1) or 1))]


def build_seed_set(build, config, n_features: int):
    """(model, attention model) for `config`: the architecture's model when one seed, else N
    of them, each built right after seeding with its own seed, as one model whose outputs
    are the members' forecasts (the attention model averages their weights). Called after the
    run's seeding (core/pipeline/fitting.py), which also made the backend's ops deterministic."""
    seeds = seeds_of(config)
    if len(seeds) == 1:
        return build(config, n_features)
    import keras
    from keras import layers

    members, attentions = [], []
    for i, seed in enumerate(seeds):
        set_seed(seed)  # as a run with this seed alone starts
        model, attention = build(config, n_features)
        members.append(keras.Model(model.input, model.output, name=SEED_NAME.format(i)))
        attentions.append(attention)
    set_seed(seeds[0])  # what follows (training) draws from the run's seed
    inputs = keras.Input(members[0].inputs[0].shape[1:], name="inputs")
    model = keras.Model(inputs, [m(inputs) for m in members], name="seed_set")
    attention = None
    if attentions[0] is not None:
        weights = [a(inputs) for a in attentions]
        attention = keras.Model(inputs, layers.Average(name="mean_attention")(weights))
    return model, attention


def n_members(model) -> int:
    """How many seeds a built model trains side by side (1: a plain model)."""
    return len(model.outputs)


def members(model) -> list:
    """The member networks of a seed set (the model itself when it is one network)."""
    if n_members(model) == 1:
        return [model]
    return [model.get_layer(SEED_NAME.format(i)) for i in range(n_members(model))]


def for_members(dataset, n: int):
    """A window dataset whose target is given to each of n outputs (or (x, y) arrays)."""
    if n == 1:
        return dataset
    if isinstance(dataset, tuple):
        return dataset[0], tuple([dataset[1]] * n)
    return dataset.map(lambda x, y: (x, tuple([y] * n)))


def per_member(prediction) -> list[np.ndarray]:
    """model.predict's answer as one array per member (a list for a seed set)."""
    if isinstance(prediction, (list, tuple)):
        return [np.asarray(p) for p in prediction]
    return [np.asarray(prediction)]


def member_losses(logs: dict, n: int, prefix: str = "") -> list[float]:
    """Each member's loss in Keras's logs (prefix "val_" for validation). Keras names an
    output's loss after its member, as NAME_loss or, for a nested model, I/NAME_loss."""
    found = {}
    for key, value in logs.items():
        match = _MEMBER_LOSS.match(key)
        if match and (match["prefix"] or "") == prefix:
            found[int(match["i"])] = float(value)
    return [found.get(i, math.nan) for i in range(n)]


_MEMBER_LOSS = re.compile(r"^(?P<prefix>val_)?(?:\d+/)?seed_(?P<i>\d+)_loss$")


def seed_callbacks(n: int, patience: int | None, restore_best: bool, resumed=None) -> list:
    """The callbacks a seed set of n trains with: the first turns Keras's logs into the
    members' mean (the live curve, NaN detection and the checkpoint read loss and val_loss
    as for one network) and keeps each member's losses; the second (with `patience`) is each
    member's own early stopping. `resumed`: the Checkpointer training goes on from."""
    import keras

    class MeanOfMembers(keras.callbacks.Callback):
        def _mean(self, logs, prefix=""):
            if logs is None or f"{prefix}loss" not in logs:
                return
            losses = member_losses(logs, n, prefix)
            logs[f"{prefix}member_losses"] = losses
            logs[f"{prefix}loss"] = float(np.mean(losses))

        def on_train_batch_end(self, batch, logs=None):
            self._mean(logs)

        def on_epoch_end(self, epoch, logs=None):
            self._mean(logs)
            self._mean(logs, "val_")

    callbacks = [MeanOfMembers()]
    if patience is not None:
        callbacks.append(MemberStopping(n, patience, restore_best, resumed))
    return callbacks


def _stopping_class():
    import keras

    class _MemberStopping(keras.callbacks.Callback):
        """Early stopping per member: a member whose validation loss has not improved for
        `patience` epochs stops (its weights from then on are discarded: at the end it gets
        its best weights, or with restore_best off its weights when it stopped); training
        ends when every member has stopped."""

        def __init__(self, n, patience, restore_best, resumed=None):
            super().__init__()
            self.n, self.patience, self.restore_best = n, patience, restore_best
            self.resumed = resumed
            self.best = [math.inf] * n
            self.best_epoch = [None] * n
            self.wait = [0] * n
            self.kept: list = [None] * n  # the weights each member ends with, once known
            self.stopped = [False] * n

        def on_train_begin(self, logs=None):
            if self.resumed is None or not self.resumed.history:
                return
            for i, net in enumerate(members(self.model)):  # as if never interrupted
                values = [row.get("member_val_losses", [math.nan] * self.n)[i]
                          for row in self.resumed.history]  # fmt: skip
                finite = [(v, e) for e, v in enumerate(values) if math.isfinite(v)]
                if finite:
                    self.best[i], self.best_epoch[i] = min(finite)
                    self.wait[i] = len(values) - 1 - self.best_epoch[i]
                if self.restore_best:
                    self.kept[i] = self.resumed.member_best(net, i)

        def on_epoch_end(self, epoch, logs=None):
            losses = member_losses(logs or {}, self.n, "val_")
            for i, net in enumerate(members(self.model)):
                if self.stopped[i]:
                    continue
                if losses[i] < self.best[i]:
                    self.best[i], self.best_epoch[i], self.wait[i] = losses[i], epoch, 0
                    if self.restore_best:
                        self.kept[i] = net.get_weights()
                    continue
                self.wait[i] += 1
                if self.wait[i] >= self.patience and epoch > 0:
                    self.stopped[i] = True
                    if not self.restore_best:
                        self.kept[i] = net.get_weights()
            if all(self.stopped):
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            for net, weights in zip(members(self.model), self.kept, strict=True):
                if weights is not None:
                    net.set_weights(weights)

    return _MemberStopping


def MemberStopping(n, patience, restore_best, resumed=None):  # noqa: N802 (a class, built lazily)
    return _stopping_class()(n, patience, restore_best, resumed)
