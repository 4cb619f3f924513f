"""The models: the architecture table (every forecaster a user can pick, one line a
family's entry), the autoencoder, seed sets and attribution. Keras lives here, imported
inside functions only, so the Streamlit process reads the table without it.

Adding a model family is one module (its settings, horizon rule, checks, builder, layer
shapes and name, as an `Architecture`; core/models/family.py) and one line below.
"""

from __future__ import annotations

from core.models import recurrent, seq2seq, tcn
from core.models.family import Architecture, ShapeRow
from core.spec import Spec

ARCHITECTURES: dict[str, Architecture] = {
    a.key: a
    for a in (
        *recurrent.ARCHITECTURES,
        *seq2seq.ARCHITECTURES,
        tcn.TCN,
    )
}


def model_specs() -> dict[str, Spec]:
    """Every family's own settings by name (a name two families share means one thing:
    the CLI has one flag for it)."""
    specs: dict[str, Spec] = {}
    for architecture in ARCHITECTURES.values():
        for spec in architecture.settings.specs():
            specs.setdefault(spec.name, spec)
    return specs


def build_forecaster(config, n_features: int):
    """The model a TrainConfig names, and its attention sub-model if it has one."""
    return ARCHITECTURES[config.model].build(config, n_features)


def layer_shapes(config, n_features: int) -> list[ShapeRow]:
    """The configured model as (layer, output shape with None for the batch, what it passes
    on), computed from the settings alone (no Keras: the Train page shows it before anything
    is built); a test checks it against the Keras model of every architecture."""
    return ARCHITECTURES[config.model].shapes(config, n_features)
