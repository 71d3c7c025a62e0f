"""Decision-focused learning: data with a known optimum, both trainings, regret."""

import numpy as np

import moqlab
from moqlab import diff
from moqlab.lab._dfl import evaluate, fit, make_dataset, run_experiment, summarise


def test_dataset_optimal_decisions_are_valid_and_optimal():
    data = make_dataset(6, n_items=4, n_lines=2, seed=0)
    assert data.features.shape[:2] == data.reward.shape
    for reward, decision, value in zip(data.reward, data.optimal_decision, data.optimal_value):
        inst = diff.with_rewards(data.template, reward)
        assert moqlab.check(inst, decision.astype(bool), budget=data.budget).feasible
        exact = moqlab.solve(inst, budget=data.budget, method="enumerate")
        assert np.isclose(exact.reward, value)


def test_both_trainings_learn_and_regret_is_measured():
    train = make_dataset(40, n_items=4, n_lines=2, seed=0)
    test = make_dataset(40, n_items=4, n_lines=2, seed=1)
    zero = evaluate(np.zeros(train.features.shape[-1]), test)
    assert zero == 1.0  # zero rewards: the empty order, all value lost
    for method in ("two-stage", "fy"):
        weights = fit(train, method, steps=40, num_samples=4)
        regret = evaluate(weights, test)
        assert 0.0 <= regret < 0.5, (method, regret)
    table = run_experiment(seeds=[0], degrees=[2], n_train=20, n_test=20, steps=10)
    assert set(table["method"]) == {"two-stage", "fy"} and len(table) == 2
    assert {"mean", "std", "fy_wins_share"} <= set(summarise(table).columns)
