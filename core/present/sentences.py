"""The sentences a user reads beside a result: the verdict, the lag diagnostic, what the
anomaly detector adds. The maths returns numbers and keys; the words are written here."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import fmt
from core.forecasting.detectors import AGREE_FROM, LEARNED_BELOW
from core.forecasting.evaluation import LAG_TIE_TOLERANCE, MIN_PAIRS, SIGNIFICANCE


def power_note(metrics: dict) -> str:
    """How large a difference from naive the test could have found on these days ("" when
    the run predates the measure)."""
    detectable, days = metrics.get("detectable_rel_mae"), metrics.get("test_days")
    if fmt.missing(detectable) or not days:
        return ""
    return (
        f" With {fmt.count(days, 'test day')}, only a difference of {fmt.pct(detectable)} or "
        "more from naive's errors could be detected (80 % power), so 'not significant' does "
        "not mean 'no difference'."
    )


def move_words(metrics: dict) -> str:
    """What the move test found, as its numbers ("" for a run saved before the move test)."""
    corr, p = metrics.get("move_corr"), metrics.get("move_pvalue")
    if corr is None and p is None:
        return ""
    if fmt.missing(corr):
        return "it predicts no moves at all"
    hac, sign = metrics.get("move_hac_pvalue"), metrics.get("move_sign_pvalue")
    if hac is None:  # a run saved before the robust test: Pearson's one-sided test
        return f"move correlation {fmt.num(corr, 2)}, one-sided {fmt.p_is(p)}"
    if fmt.missing(p):
        return f"move correlation {fmt.num(corr, 2)}; too few test days to test the moves"
    return (
        f"move correlation {fmt.num(corr, 2)}; with each day's moves scaled by the volatility "
        f"before it, regression {fmt.p_is(hac)} and sign test {fmt.p_is(sign)}, one-sided, "
        "both needed below 0.05"
    )


def verdict_sentence(metrics: dict, noun: str = "price") -> str:
    """The verdict in one plain sentence, with the numbers behind it."""
    v, rel, p, lag = (metrics[k] for k in ("verdict", "rel_mae", "dm_pvalue", "best_lag"))
    numbers = f"relative MAE {fmt.num(rel)}, Diebold-Mariano {fmt.p_is(p)}, best lag {lag}"
    change = f"{fmt.pct(abs(rel - 1))} {'smaller' if rel < 1 else 'larger'}"
    moves, power = move_words(metrics), power_note(metrics)
    if v == "beats naive":
        return (
            f"Beats naive: its errors are {change} than naive's, a difference unlikely to be "
            f"chance at the 5 % level ({numbers})."
        )
    if v == "worse than naive":
        return (
            f"Worse than naive: its errors are {change} than naive's, significantly so ({numbers})."
        )
    if v == "moves carry signal":
        return (
            "Moves carry signal, not enough to beat naive: its predicted day-to-day moves "
            f"follow the actual moves ({moves}), but there is no evidence that its errors are "
            f"smaller than those of 'tomorrow = today' ({numbers}).{power}"
        )
    if v == "echoes yesterday" and moves:
        return (
            f"Echoes yesterday: no evidence that its predicted moves carry information about "
            f"the actual moves ({moves}), nor that it is better than 'tomorrow = today' "
            f"({numbers}). It looks accurate on a {noun} chart because yesterday's {noun} is."
            f"{power}"
        )
    if v == "echoes yesterday":  # a run saved before the move test: decided by the lag
        return (
            f"Echoes yesterday: it lines up best with the previous day's {noun}, with no evidence "
            f"that it is better than 'tomorrow = today' ({numbers}). It looks accurate on a "
            f"{noun} chart because yesterday's {noun} is."
        )
    return f"No better than naive: no evidence of a difference from 'tomorrow = today' ({numbers})."


def seeds_sentence(seeds: list[dict], agreeing: int | None, verdict: str) -> str:
    """How far the verdict rests on one seed: a seed set's members, each scored on its own,
    against the verdict of their averaged forecast ("" for a run saved before seed sets)."""
    if not seeds or agreeing is None:
        return ""
    if len(seeds) == 1:
        return (
            f"One seed (seed {seeds[0]['seed']}) decides this verdict. A verdict near p = 0.05 "
            "can flip with the seed: train with more seeds (Seeds, trained together; CLI "
            "--n-seeds) to see whether it holds."
        )
    each = "; ".join(
        f"seed {row['seed']}: relative MAE {fmt.num(row['rel_mae'])}, {row['verdict'] or '-'}"
        for row in seeds
    )
    return (
        f"The verdict is on the average of {len(seeds)} seeds' forecasts, trained together. "
        f"{agreeing} of {len(seeds)} seeds agree with it on their own ({each})."
    )


def band_score_sentence(intervals: dict) -> str:
    """The band's interval score beside naive's own band's on the same days."""
    score, naive = intervals.get("score"), intervals.get("naive_score")
    if fmt.missing(score) or fmt.missing(naive):
        return ""
    better = "better than" if score < naive else "no better than"
    return (
        f"Its interval score (MSIS: width plus the misses' distance x 2 / miss rate, in units "
        f"of naive's training error; lower is better) is {fmt.num(score, 2)} against "
        f"{fmt.num(naive, 2)} for naive's own band on the same days: {better} naive's."
    )


def band_warning(
    level: int, coverage: float, first: str, last: str, outside: int, days: int
) -> str:
    """A band that missed its level: where it broke."""
    return (
        f"The {level} % band covered {fmt.pct(coverage)} of test days, below its level: it broke "
        f"from {first} to {last}, {outside} of {days} days outside."
    )


ECHO_MOVES = 0.2  # predicted moves at most this share of the actual moves' size: an echo


def moves_sentence(moves: dict, verdict: str = "", noun: str = "price") -> str:
    """The forecast as yesterday's price (or spread: `noun`) plus a move, and how large those moves are; worded
    with the verdict, so that small moves the move test found informative are not called an
    echo beside "moves carry signal"."""
    if not moves or fmt.missing(moves.get("ratio")):
        return ""
    ratio = moves["ratio"]
    size = (
        f"its predicted moves have a standard deviation of {fmt.sig(moves['predicted_sd'])} "
        f"against {fmt.sig(moves['actual_sd'])} for the actual moves ({fmt.pct(ratio)} of them)"
    )
    if ratio <= ECHO_MOVES and verdict in ("moves carry signal", "beats naive"):
        return (
            f"Forecast = yesterday's {noun} + a predicted move, and {size}: small moves, but as "
            f"the verdict says they point the way the {noun} moves more often than chance would. "
            f"Most of each forecast is yesterday's {noun}."
        )
    if ratio <= ECHO_MOVES:
        return (
            f"Forecast = yesterday's {noun} + a predicted move, and {size}: an echo. Nearly all "
            f"of each forecast is yesterday's {noun}."
        )
    return f"Forecast = yesterday's {noun} + a predicted move, and {size}."


def attribution_sentence(summary: dict) -> str:
    """Where the predicted move comes from, in one sentence."""
    if not summary:
        return ""
    top, days = summary["top_input"], summary["top_days"]
    last = "last day" if days == 1 else f"last {days} days"
    text = (
        f"{fmt.pct(summary['top_share'], 0)} of the predicted move's attribution falls on "
        f"{input_name(top)}'s {last}"
    )
    others = {k: v for k, v in summary["inputs"].items() if k != top}
    if others:
        text += (
            f" ({fmt.pct(summary['inputs'][top], 0)} on {input_name(top)} in all; "
            + ", ".join(f"{input_name(k)} {fmt.pct(v, 0)}" for k, v in others.items())
            + ")"
        )
    return text + " (integrated gradients over the test windows)."


def input_name(column: str) -> str:
    """An input column in a sentence: an extra ticker's close by its ticker."""
    return column.removesuffix("_close") if column.endswith("_close") else column


def returns_sentence(returns: dict) -> str:
    """The run on the scale a trader reads: log-return errors against naive's zero return,
    the hit rate with its interval, and the long/flat illustration."""
    if not returns:
        return ""
    low, high = returns["hit_rate_ci"]
    hit = (
        f"it called the direction right on {fmt.pct(returns['hit_rate'])} of "
        f"{fmt.count(returns['hit_days'], 'day')} it predicted a move (95 % interval "
        f"{fmt.pct(low)} to {fmt.pct(high)})"
        if returns.get("hit_days")
        else "it never predicted a move"
    )
    return (
        f"On log returns its MAE is {fmt.num(returns['mae'] * 1e4, 1)} bp against "
        f"{fmt.num(returns['naive_mae'] * 1e4, 1)} bp for naive's zero-return forecast; {hit}. "
        f"Illustration only, not advice: long when it predicts a rise, flat otherwise, after "
        f"{returns['cost_bp']:g} bp a trade, would have returned "
        f"{fmt.signed_pct(returns['strategy_return'])} over the test days against "
        f"{fmt.signed_pct(returns['buy_hold_return'])} buying and holding."
    )


def stationarity_sentence(pvalues: dict[str, float]) -> str:
    """What the ADF results say about this series, written from them: the price's result
    first (usually not stationary, but not always), then its differences'."""
    price = pvalues.get("price", float("nan"))
    diffs = [v for k, v in pvalues.items() if k != "price"]
    diff_words = (
        "its differences are (a model of changes has a steady target)"
        if diffs and all(v < SIGNIFICANCE for v in diffs)
        else "its differences are not all stationary either"
    )
    if fmt.missing(price):
        return "Too few days for the ADF test."
    if price < SIGNIFICANCE:
        return (
            f"Unusually for a price, this one passes the ADF test ({fmt.p_is(price)}): a "
            f"stretch that keeps returning to a level or trend can. {diff_words.capitalize()}. "
            "A model trained on raw prices can still look accurate by echoing yesterday's price."
        )
    return (
        f"No evidence that the price is stationary ({fmt.p_is(price)}), as prices almost "
        f"never are; "
        f"{diff_words}. A model trained on raw prices can look accurate by echoing yesterday's "
        "price."
    )


def lag_sentence(lag: int, diagnostic: pd.DataFrame, noun: str = "price") -> str:
    """One plain sentence on what the lag diagnostic says, for the one best lag."""
    rmse0, rmse_best = diagnostic.loc[0, "rmse"], diagnostic.loc[lag, "rmse"]
    rmse = diagnostic["rmse"]
    if rmse.max() <= rmse.min() * (1 + LAG_TIE_TOLERANCE):
        return (
            f"The prediction lines up with no day in particular: its RMSE against the actual "
            f"{noun} is within {fmt.pct(LAG_TIE_TOLERANCE)} for every k from {rmse.index.min()} to "
            f"{rmse.index.max()} (about {rmse0:.3f}). It tracks neither today's {noun} nor "
            "yesterday's; typically it stays near a level it learned in training."
        )
    if lag == 0:
        return (
            f"The prediction is closest to the same day's actual {noun} (RMSE {rmse0:.3f} at k = 0): "
            f"it is not simply yesterday's {noun}. The verdict above says whether it adds skill."
        )
    if lag == 1:
        return (
            f"The prediction is closest to the actual {noun} of the day before (RMSE {rmse_best:.3f} "
            f"at k = 1 vs {rmse0:.3f} at k = 0). Every forecast anchored on yesterday's {noun} "
            "lines up this way, a forecast that echoes yesterday and one with some skill "
            "alike; whether its own moves carry information is what the verdict above tests."
        )
    if lag > 0:
        return (
            f"The prediction lines up best with the actual {noun} {lag} days before (k = {lag}): "
            "it trails the market."
        )
    return f"The prediction lines up best with the actual {noun} {-lag} day(s) later (k = {lag})."


def detector_sentence(comparison: dict, ratio: float | None) -> str:
    """What the autoencoder adds on this series, in one sentence (with the numbers)."""
    n, common = comparison["n"], len(comparison["common"])
    if n == 0:
        return "The autoencoder flags no day at this threshold, so there is nothing to compare."
    share = common / n
    overlap = (
        f"{common} of its {fmt.count(n, 'flagged day')} are also among the rolling z-score's top "
        f"{n} ({fmt.pct(share, 0)}; two random lists would share about "
        f"{fmt.num(comparison['chance'], 1)})"
    )
    if ratio is None or not np.isfinite(ratio):
        return (
            f"{overlap[0].upper() + overlap[1:]}. How much it learned was not measured: the run "
            "predates the check; train it again to see."
        )
    learned = ratio < LEARNED_BELOW
    how = f"its reconstruction error is {fmt.num(ratio, 2)} x that of predicting each window's mean"
    only = len(comparison["only_ae"])
    if not learned and share >= AGREE_FROM:
        return f"It adds nothing on this series: {how}, so it learned little, and {overlap}."
    if not learned:
        return (
            f"It learned little ({how}), so the {only} day(s) only it flags reflect how it "
            f"fails to reconstruct noise rather than structure; {overlap}. Trust the z-score."
        )
    if share >= AGREE_FROM:
        return f"It adds little on this series: {how}, but {overlap}."
    return (
        f"It learned some structure ({how}) and flags {only} day(s) the z-score does not "
        f"(marked on the chart): those are what it adds. {overlap[0].upper() + overlap[1:]}."
    )


SCORE_EXPLANATION = (
    "A day's score is the squared reconstruction error of that day's values (log return"
    "{volume}, standardized), averaged over every {window}-day window that contains the day. "
    "Days scoring above the {percentile:g}th percentile of the training days' scores are anomalous."
)


def answer_sentence(answer: dict, label: str) -> str:
    n, better, med, p = (answer[k] for k in ("pairs", "tried_better", "median_change", "pvalue"))
    significant = p < SIGNIFICANCE
    if significant:
        verb = "helped" if med < 0 else "hurt"
    else:
        verb = "did not clearly help" if med < 0 else "did not help"
    text = (
        f"{label} {verb}: better in {better} of {n} pair{'s' if n != 1 else ''}, median change "
        f"{fmt.signed_pct(med)} relative MAE, {fmt.p_is(p)} (Wilcoxon signed-rank)."
    )
    if answer.get("unit"):
        text += f" A pair is {answer['unit']}."
    if n < MIN_PAIRS:
        text += (
            f" With {n} pair{'s' if n != 1 else ''} no test can reach p < 0.05: one run is an "
            "anecdote. Add datasets or backtest folds (more seeds make each pair steadier, "
            "not more numerous)."
        )
    return text


def sweep_power(result: dict) -> str:
    """What the SPA could have found on these days ("" for a sweep saved before)."""
    detectable = result.get("detectable_rel_mae")
    if detectable is None or fmt.missing(detectable):
        return ""
    return (
        f" With {fmt.count(result['days'], 'test day')} and {result['settings']} tries, only a "
        f"setting with errors about {fmt.pct(detectable)} or more below naive's would have "
        "been found (80 % power), so no evidence is not evidence of none."
    )


def many_tries_sentence(result: dict) -> str:
    """A sweep's settings against naive, the number of tries accounted for (SPA and the
    Model Confidence Set)."""
    n, p, best = result["settings"], result["spa_pvalue"], result["best"]
    tries = f"{n} tr{'y' if n == 1 else 'ies'}"
    others = [s for s in result["confidence_set"] if s != "naive"]
    held = (
        "holds naive" + (f" and {fmt.count(len(others), 'setting')}" if others else " alone")
        if result["naive_in_set"]
        else f"holds {', '.join(others)}, not naive"
    )
    best_words = f"{best} (relative MAE {fmt.num(result['best_rel_mae'])})"
    if p < SIGNIFICANCE:
        return (
            f"Of {fmt.count(n, 'setting')}, at least one beats naive after accounting for the "
            f"{tries} (SPA {fmt.p_is(p)}); the best is {best_words}. The 90 % confidence set "
            f"of the best {held}."
        )
    return (
        f"Of {fmt.count(n, 'setting')}, no evidence that any beats naive after accounting "
        f"for the {tries} (SPA {fmt.p_is(p)}): the best-looking, {best_words}, is within what "
        f"the best of {tries} without skill reaches by chance. The 90 % confidence set of the "
        f"best {held}.{sweep_power(result)}"
    )


def kept_sentence(epochs: int, total: int) -> str:
    if not epochs:
        return "No epoch had finished, so nothing was kept; Resume starts it again."
    return (
        f"{epochs} of {total} epochs are kept: save them as a run (marked interrupted) "
        "or resume training from them with the same settings."
    )


def head_to_head_sentence(answer: dict, tried: str, reference: str) -> str:
    """One run (or the seeds of one setting) against another on the same days, in a
    sentence: the MAE change, the DM p-value on the seed-averaged forecasts, whether it is
    distinguishable, and what the single seeds would have said."""
    ratio, p, n = answer["rel_mae_ratio"], answer["dm_pvalue"], answer["seeds"]
    change = f"MAE {fmt.pct(abs(ratio - 1))} {'lower' if ratio < 1 else 'higher'}"
    on = "one seed" if n == 1 else f"{n} seeds averaged"
    days = fmt.count(answer["common_days"], "common test day")
    head = f"{tried[0].upper() + tried[1:]} against {reference}: {change}, {fmt.p_is(p)} on {on}"
    won = answer.get("better", "")
    if won == "tried":
        text = f"{head}: better, a difference unlikely to be chance at the 5 % level ({days})."
    elif won == "reference":
        text = f"{head}: worse, significantly so ({days})."
    else:
        text = f"{head}: not distinguishable ({days})."
    if n > 1:
        text += f" {answer['seeds_agreeing']} of {n} seeds point the same way."
        alone = answer["significant_seeds"]
        if not won and alone:
            text += (
                " One seed alone would have called it significant."
                if alone == 1
                else f" {alone} seeds alone would have called it significant."
            )
    else:
        text += " One seed is an anecdote: train more seeds to tell the setting from its luck."
    return text


def lead_sentence(target: str, other: str, pair: dict) -> str:
    """Which series leads, on the training days, and whether it lasted on the test days;
    then, when prices correlate and returns do not, the spurious-correlation lesson."""
    k, r, r_test = pair["lead_days"], pair["corr_at_lead"], pair["test_corr_at_lead"]
    if pair.get("perfect"):
        when = "on the same day" if not k else f"{fmt.count(abs(k), 'day')} apart"
        return (
            f"{other} and {target} are one series: their returns correlate at "
            f"r = {fmt.num(r, 3)} {when} (the same prices, a multiple of them, or a copy "
            "shifted in time). There is nothing to test: relate series that are not copies."
        )
    if k:
        first, second = (other, target) if k > 0 else (target, other)
        granger = pair["granger_p_to_target"] if k > 0 else pair["granger_p_from_target"]
        on_test = {
            "held": "it held on the test days",
            "reversed": "it reversed on the test days",
            "faded": "no evidence it held on the test days",
        }.get(pair["lead_on_test"], "no test days to check it on")
        tested = (
            f"; r = {fmt.num(r_test, 2)} on {fmt.count(pair['test_days'], 'test day')}, "
            f"{fmt.p_is(pair['test_pvalue'])}, whose 95 % band is "
            f"±{fmt.num(pair['test_band'], 2)}"
            if pair["lead_on_test"]
            else ""
        )
        text = (
            f"{first}'s returns lead {second}'s by {fmt.count(abs(k), 'day')} (r = {fmt.num(r, 2)}, "
            f"Granger {fmt.p_is(granger)} on training days{tested}): {on_test}."
        )
    elif abs(pair["corr_same_day"]) > pair["band"]:
        text = (
            f"No lead: {other} and {target} move together on the same day "
            f"(r = {fmt.num(pair['corr_same_day'], 2)} at k = 0)."
        )
    else:
        text = (
            f"No lead and no same-day link between {other} and {target} "
            f"(r = {fmt.num(pair['corr_same_day'], 2)} at k = 0)."
        )
    # The lesson of levels only where the returns show no link at all: none on the same day,
    # none at a lead, and no Granger evidence either way.
    unlinked = (
        not k
        and abs(pair["return_corr"]) < pair["band"]
        and min(pair["granger_p_to_target"], pair["granger_p_from_target"]) >= 0.05
    )
    if abs(pair["level_corr"]) >= 0.5 and unlinked:
        text += (
            f" Their prices correlate (r = {fmt.num(pair['level_corr'], 2)}) while their "
            f"returns do not (r = {fmt.num(pair['return_corr'], 2)}): two unrelated series "
            "that trend often correlate in levels. That correlation is spurious."
        )
    return text


def error_correction_words(target: str, other: str, pair: dict) -> str:
    """Which series the spread pulls back (the VECM's loadings), and what that means for a
    Granger test on returns alone ("" when neither loading is significant or not known)."""
    pulled = [
        (name, pair.get(f"ec_alpha_{side}"), pair.get(f"ec_p_{side}"))
        for name, side in ((target, "target"), (other, "other"))
    ]
    pulled = [(n, a, p) for n, a, p in pulled if p is not None and not fmt.missing(p) and p < 0.05]
    if not pulled:
        return ""
    which = " and ".join(
        f"{name}'s returns (error-correction loading {fmt.num(a, 3)}, {fmt.p_is(p)})"
        for name, a, p in pulled
    )
    return (
        f" The pull back runs through {which}: yesterday's deviation predicts them, a channel "
        "a Granger test on returns alone does not see."
    )


def spread_sentence(target: str, other: str, pair: dict) -> str:
    """The spread of the two, in one sentence: cointegrated or not, and its half-life."""
    beta, p, life = pair["beta"], pair["coint_p"], pair["half_life_days"]
    if pair.get("perfect"):
        return "One series is a copy of the other: their spread is no relationship to test."
    sign = "-" if beta >= 0 else "+"
    spread = f"The spread log {target} {sign} {fmt.num(abs(beta), 2)} x log {other}"
    if p < 0.05:
        return (
            f"{spread} is cointegrated on the training days (Engle-Granger {fmt.p_is(p)}): it "
            f"reverts to its mean, deviations halving in about {fmt.num(life, 1)} days."
            + error_correction_words(target, other, pair)
        )
    return (
        f"{spread} shows no evidence of cointegration on the training days (Engle-Granger "
        f"{fmt.p_is(p)}): nothing says it reverts to a mean."
    )


def compared_days_note(flagged: int, compared: int, window: int) -> str:
    """Why the z-score comparison counts fewer days than were flagged ("" when it counts them
    all): the rolling z-score needs `window` days before a day to score it."""
    left_out = flagged - compared
    if left_out <= 0:
        return ""
    return (
        f"{fmt.count(left_out, 'flagged day')} of the {flagged} fall in the first {window} "
        f"days, which the rolling z-score cannot score (it needs {window} days before a day), "
        f"so the comparison counts {compared}."
    )


def extrapolation_warning(found: dict | None) -> list[str]:
    """core.forecasting.windows.extrapolation's finding, as the warning a run carries."""
    if found is None:
        return []
    (later_lo, later_hi), (lo, hi) = found["later"], found["train"]
    return [
        f"The validation and test prices run from {later_lo:.2f} to {later_hi:.2f}, "
        f"but the scaler was fit on training prices from {lo:.2f} to {hi:.2f}: "
        f"{fmt.pct(found['share_outside'])} of those days lie outside that range. The network "
        "cannot reach values it never saw, so its predictions will saturate near the "
        "training range. Use window-relative scaling or a differenced transform."
    ]
