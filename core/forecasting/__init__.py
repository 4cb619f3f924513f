"""The maths of forecasting: transforms, windows, the architecture table, baselines,
intervals, evaluation and detectors. Numbers in, numbers out; no sentences, no files."""
