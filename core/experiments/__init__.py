"""Many runs answering one question: walk-forward backtests, sweeps on Ray, paired
answers."""
