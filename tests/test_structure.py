"""The shape of the code: no import cycle in core/, one source of settings, old runs load."""

import ast
import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.config import TrainConfig
from core.forecasting.evaluation import score_forecast
from core.jobs.manager import JobManager
from core.jobs.state import JobSpec
from core.kinds import CONFIGS
from core.kinds.anomaly import AnomalyConfig
from core.models import model_specs
from core.models.seq2seq import HORIZON as SEQ2SEQ_HORIZON
from core.models.windows import tf_windows
from core.pipeline.forecast import repredict
from core.pipeline.kinds import RUN_KINDS, kind_of
from core.pipeline.prepare import prepare_anomaly, prepare_forecast
from core.present.labels import runs_table
from core.present.pagedata import comparison_table
from core.store.migrate import SCHEMA_VERSION
from core.store.runs import RunStore
from tests.conftest import ROOT
from tests.helpers import tiny_config, tiny_dataset

LEGACY = ROOT / "tests" / "fixtures" / "legacy_workspace"


def _module_name(path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def core_import_graph() -> dict[str, set[str]]:
    """Every core module -> the core modules it imports, at any depth of its code."""
    modules = {_module_name(p): p for p in (ROOT / "core").rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            deps |= {t for t in targets if t in modules and t != name}
        graph[name] = deps
    return graph


def test_core_has_no_import_cycle_even_inside_functions():
    graph = core_import_graph()
    assert "core.jobs.worker" in graph and "core.pipeline.kinds" in graph["core.jobs.worker"]
    done, path = set(), []

    def visit(module):
        if module in path:
            cycle = path[path.index(module) :] + [module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        path.append(module)
        for dep in sorted(graph[module]):
            visit(dep)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


# The layers of core/, bottom first (DESIGN.md, README "How it is built"). A module may
# import its own layer and the layers below it, never one above, not even in a function.
LAYERS = [
    ("core.errors", "core.fmt", "core.workspace", "core.spec"),  # the base every layer may use
    ("core.data",),  # sources, validation, the price cache
    ("core.forecasting",),  # the maths: transforms, windows, baselines, tests ...
    ("core.models",),  # the Keras models: one module a family, seed sets, attribution
    ("core.config",),  # the settings, whose choices come from the maths' tables
    ("core.kinds",),  # the kinds of run: what each is, declared once, without its steps
    ("core.store",),  # saved runs and job checkpoints on disk
    ("core.present",),  # every sentence, label and table; charts
    ("core.pipeline",),  # one run of each kind
    ("core.jobs",),  # the job manager, job state, the worker process
    ("core.experiments",),  # backtests, sweeps on Ray, paired answers
    ("core.commands", "core.cli"),  # the headless entry point: commands, and their parser
]


def layer_of(module: str) -> int:
    if module == "core":
        return 0  # core/__init__.py: a docstring, imported by `from core import fmt`
    for i, names in enumerate(LAYERS):
        if any(module == n or module.startswith(n + ".") for n in names):
            return i
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def test_no_import_goes_up_the_layers():
    graph = core_import_graph()
    assert "core.pipeline.kinds" in graph["core.jobs.worker"]  # the graph sees lazy imports
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {dep} ({LAYERS[layer_of(dep)][0]})"
        for module, deps in sorted(graph.items())
        for dep in sorted(deps)
        if layer_of(dep) > layer_of(module)
    ]
    assert not upward, "\n".join(upward)


def test_the_tree_is_the_map():
    """At most 8 modules directly in core/; every other module in a package of a layer."""
    top = sorted(p.name for p in (ROOT / "core").glob("*.py"))
    assert len(top) <= 8, top
    packages = {p.parent.name for p in (ROOT / "core").glob("*/__init__.py")}
    assert packages == {n.split(".")[1] for names in LAYERS for n in names if "." in n} - {
        "errors",
        "fmt",
        "workspace",
        "spec",
        "config",
        "cli",
        "commands",
    }
    for path in (ROOT / "core").rglob("*.py"):
        layer_of(_module_name(path))  # every module belongs to a layer


def test_core_never_imports_streamlit():
    for path in (ROOT / "core").rglob("*.py"):
        text = path.read_text()
        assert "import streamlit" not in text and "from streamlit" not in text, path
    for path in (ROOT / "views").glob("*.py"):
        assert len(path.read_text().splitlines()) <= 160, path.name


def test_every_page_opens_without_importing_tensorflow():
    """In a fresh interpreter, as the server is: open every page, train nothing."""
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=60).run()\n"
        "for page in ('train', 'predictions', 'anomalies', 'data', 'experiments'):\n"
        "    at.switch_page(f'views/{page}.py').run()\n"
        "    assert not at.exception, (page, at.exception)\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'jax', 'ray') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_cli_has_a_flag_for_every_setting():
    for command, cls in (("train", TrainConfig), ("anomalies", AnomalyConfig)):
        out = subprocess.run(
            [sys.executable, "-m", "core.cli", command, "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        for spec in cls.specs():
            flag = "--" + spec.name.replace("_", "-")
            assert flag in out.stdout, f"{command} has no {flag}"
            if isinstance(spec.default, bool):
                assert "--no-" + spec.name.replace("_", "-") in out.stdout
        if command == "train":  # and one for every architecture's own knob
            for name in model_specs():
                assert "--" + name.replace("_", "-") in out.stdout, name
    from core.cli import build_parser
    from core.commands import settings_from_args

    args = build_parser().parse_args(
        ["train", "--sample", "AAPL", "--train-frac", "0.6", "--no-early-stopping"]
    )
    config = settings_from_args(TrainConfig, args)
    assert config.train_frac == 0.6 and config.early_stopping is False
    assert config.window == TrainConfig().window  # untouched flags keep the dataclass default


def test_train_page_defaults_and_limits_come_from_the_config(workspace):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["dataset"] = tiny_dataset()
    at.run()
    at.switch_page("views/train.py").run()
    shown = {w.label: w for w in at.number_input}
    for spec in TrainConfig.specs():
        if spec.label in shown:
            widget = shown[spec.label]
            assert widget.value == spec.default, spec.name
            assert (widget.min, widget.max) == (spec.lo, spec.hi), spec.name
    assert {"Window (lookback days)", "Epochs", "Seed", "Learning rate"} <= set(shown)
    toggles = {t.label: t.value for t in at.toggle}
    assert toggles["Early stopping"] is TrainConfig().early_stopping
    radios = {r.label: r.value for r in at.radio}
    assert radios[TrainConfig.spec("transform").label] == TrainConfig().transform
    sliders = {s.label: s.value for s in at.slider}
    assert sliders["Training share %"] == round(100 * TrainConfig().train_frac)
    next(s for s in at.selectbox if s.label == "Architecture").set_value("seq2seq").run()
    horizon = next(w for w in at.number_input if w.label == TrainConfig.spec("horizon").label)
    assert horizon.value == SEQ2SEQ_HORIZON and horizon.max == TrainConfig.spec("horizon").hi
    anomalies = at.switch_page("views/anomalies.py").run()
    for spec in AnomalyConfig.specs():
        for widget in anomalies.number_input:
            if widget.label == spec.label:
                assert (widget.value, widget.min, widget.max) == (spec.default, spec.lo, spec.hi)


def test_forecast_and_anomaly_share_one_preparation_and_windowing():
    frame = tiny_dataset(start="2008-01-01").frame
    forecast = prepare_forecast(frame, tiny_config(transform="log_return", features=["volume"]))
    anomaly = prepare_anomaly(frame, AnomalyConfig(window=10))
    assert type(forecast) is type(anomaly)
    # the same transform of the same columns; only the split differs
    n = len(anomaly.values)
    np.testing.assert_allclose(
        anomaly.scaler.inverse_transform(anomaly.values, col=None),
        forecast.scaler.inverse_transform(forecast.values, col=None)[:n],
    )
    x, y = next(iter(tf_windows(anomaly, "train", batch_size=8)))
    assert x.shape == (8, 10, 2)
    np.testing.assert_array_equal(x.numpy(), y.numpy())  # the autoencoder's target is its input
    inputs = anomaly.window_inputs(anomaly.all_rows())
    assert inputs.shape == (n - 10 + 1, 10, 2)
    np.testing.assert_allclose(inputs[-1], anomaly.values[-10:], rtol=1e-6)


@pytest.fixture
def legacy_store(workspace) -> RunStore:
    shutil.copytree(LEGACY / "runs", workspace / "runs")
    return RunStore()


def test_runs_saved_by_the_old_code_still_load(legacy_store):
    runs = {run.name: run for run in legacy_store.runs(kind=None)}
    assert set(runs) == {"legacy uni raw", "legacy multi diff attention", "AAPL autoencoder w30"}
    uni, multi = runs["legacy uni raw"], runs["legacy multi diff attention"]
    assert isinstance(uni.config, TrainConfig) and uni.config.window == 10
    assert multi.config.model == "seq2seq_attention" and multi.config.multivariate
    assert uni.record.epochs_run == 2 and uni.train_dates[0] == "2011-06-01"
    pd.testing.assert_frame_equal(repredict(uni.id, legacy_store), uni.predictions)
    table = comparison_table([uni, multi])
    assert table.loc["legacy uni raw", "RMSE"] == pytest.approx(uni.metrics["rmse"])
    detector = runs["AAPL autoencoder w30"]
    assert isinstance(detector.config, AnomalyConfig)
    assert {"score", "split", "log_return"} <= set(detector.scores.columns)
    assert (
        detector.train_dates[1] == json.loads((detector.path / "run.json").read_text())["train_end"]
    )
    assert list(runs_table(legacy_store.runs("forecast"))["name"]) == [
        "legacy multi diff attention",
        "legacy uni raw",
    ]


def test_pages_show_old_runs(legacy_store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("views/predictions.py").run()
    at.multiselect[0].set_value([r.id for r in legacy_store.runs(kind="forecast")]).run()
    assert not at.exception and len(at.dataframe[0].value) == 3
    at.switch_page("views/anomalies.py").run()
    assert not at.exception and len(at.dataframe[-1].value) > 0


def test_a_legacy_run_is_upgraded_once_and_reads_the_same(legacy_store):
    """One migration (core/store/migrate.py): the run.json of an older version is read in
    the current shape, written back with its schema version, and reads the same again."""
    folder = legacy_store.dir
    runs = {run.name: run for run in legacy_store.runs(kind=None)}
    uni, detector = runs["legacy uni raw"], runs["AAPL autoencoder w30"]
    for run in runs.values():
        saved = json.loads((run.path / "run.json").read_text())
        assert saved["schema"] == SCHEMA_VERSION == run.record.schema
        assert saved["config"]["backend"] == "tensorflow" == run.config.backend
    levels = uni.dataset["close"].astype(float)
    metrics, _, verdict = score_forecast(levels, uni.predictions, uni.paths, uni.train_dates)
    assert uni.record.verdict == verdict and uni.metrics == pytest.approx(metrics)
    assert detector.record.split_dates["train"][1] == "2011-06-30"  # its train_end
    assert detector.window_errors is None  # saved before the reconstruction ratio
    again = {run.name: run.record for run in RunStore(folder.parent).runs(kind=None)}
    assert again == {name: run.record for name, run in runs.items()}


def test_job_json_holds_the_settings_dataclass(workspace):
    data = tiny_dataset()
    manager = JobManager(max_parallel=0)  # nothing starts: only the spec is under test
    config = tiny_config(epochs=3, model="gru", layers=2)
    job = manager.submit("forecast", data.frame, data.describe(), config, "typed")
    spec = JobSpec.read(manager.jobs_dir / job.id)
    assert spec.config == config and job.config == config and job.total_epochs == 3
    assert (spec.kind, spec.label, spec.resume) == ("forecast", "typed", None)
    with pytest.raises(TypeError, match="TrainConfig"):
        manager.submit("forecast", data.frame, data.describe(), config.to_dict(), "a dict")
    with pytest.raises(TypeError, match="AnomalyConfig"):
        manager.submit("anomaly", data.frame, data.describe(), config, "wrong kind")
    manager.stop(job.id)


def test_every_kind_of_run_has_one_table_entry():
    assert set(RUN_KINDS) == set(CONFIGS)
    for key, kind in RUN_KINDS.items():
        assert kind.config_class is CONFIGS[key] and kind_of(kind.config_class()) is kind


SCHEMA2 = ROOT / "tests" / "fixtures" / "schema2_workspace"


def test_runs_saved_before_the_model_settings_moved_list_reload_and_repredict(workspace):
    """Runs written by the code of schema 2 (every architecture's knobs flat in the config):
    listed, read with only their own architecture's knobs, reloaded and repredicted."""
    shutil.copytree(SCHEMA2 / "runs", workspace / "runs")
    store = RunStore()
    whole, damaged = store.scan()
    assert not damaged
    runs = {run.name: run for run in whole}
    gru, attention = runs["schema2 gru multi 2 seeds"], runs["schema2 seq2seq bahdanau diff"]
    spread = runs["schema2 spread"]
    assert gru.config.model_settings.layers == 2 and gru.config.n_seeds == 2
    assert attention.config.model_settings.attention == "bahdanau"
    assert not hasattr(attention.config.model_settings, "layers")
    for run in (gru, attention, spread):
        saved = json.loads((run.path / "run.json").read_text())
        assert saved["schema"] == SCHEMA_VERSION == 4 and saved["owner"] == "local"
        assert "units" not in saved["config"] and saved["config"]["model_settings"]["units"] == 8
        pd.testing.assert_frame_equal(repredict(run.id, store), run.predictions)
    table = runs_table([gru, attention, spread]).set_index("name")
    assert table.loc[gru.name, "model"] == "GRU"
    assert table.loc[attention.name, "model"] == "seq2seq + attention"
    assert isinstance(runs["schema2 autoencoder"].config, AnomalyConfig)


def test_the_maths_has_no_keras_in_it():
    """core/forecasting/ is numbers in and out; Keras lives in core/models/."""
    for path in (ROOT / "core" / "forecasting").rglob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
        } | {
            n.module.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module
        }
        assert not imported & {"keras", "tensorflow", "jax"}, path.name
