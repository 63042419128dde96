"""Optuna's TPESampler (defaults) on the tuning benchmark's functions, for bench/tuning.ts. Prints one JSON object.

  python3 bench/optuna_baseline.py quality branin|hartmann6 TRIALS SEEDS
      -> {"optuna": VERSION, "curves": [[best after trial 1, 2, ...] per seed], "seconds": S}
  python3 bench/optuna_baseline.py speed N REPS
      -> {"optuna": VERSION, "ms_per_trial": MS}: one TPE suggestion on a 6-D space given N finished trials
"""
import json
import math
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def branin(t):
    x1 = t.suggest_float("x1", -5, 10)
    x2 = t.suggest_float("x2", 0, 15)
    b, c, tt = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - tt) * math.cos(x1) + 10


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[v * 1e-4 for v in row] for row in [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]]


def hartmann6_value(x):
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6))) for i in range(4))


def hartmann6(t):
    return hartmann6_value([t.suggest_float(f"x{j + 1}", 0, 1) for j in range(6)])


def quality(name, trials, seeds):
    objective = {"branin": branin, "hartmann6": hartmann6}[name]
    curves = []
    t0 = time.perf_counter()
    for seed in range(seeds):
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(objective, n_trials=trials)
        best, curve = math.inf, []
        for t in study.trials:
            best = min(best, t.value)
            curve.append(best)
        curves.append(curve)
    return {"optuna": optuna.__version__, "curves": curves, "seconds": time.perf_counter() - t0}


def speed(n, reps):
    import random

    rnd = random.Random(0)
    dists = {f"x{j + 1}": optuna.distributions.FloatDistribution(0, 1) for j in range(6)}
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    for _ in range(n):
        params = {k: rnd.random() for k in dists}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=hartmann6_value(list(params.values()))))
    t0 = time.perf_counter()
    for _ in range(reps):
        trial = study.ask()
        for k in dists:
            trial.suggest_float(k, 0, 1)
        # Not told: every timed suggestion sees the same n finished trials.
    return {"optuna": optuna.__version__, "ms_per_trial": (time.perf_counter() - t0) * 1000 / reps}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "quality":
        out = quality(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "speed":
        out = speed(int(sys.argv[2]), int(sys.argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(out))
