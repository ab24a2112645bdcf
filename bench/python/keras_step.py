"""Times Keras 3 (TensorFlow backend) training steps for Strata's benchmark.

Prints one JSON object: {"keras": version, "tensorflow": version,
"mlp_ms": ..., "cnn_ms": ...} with the median milliseconds of one
`train_on_batch` step (the compiled tf.function Keras builds), for the same
models, batch sizes and optimizer as bench/training.ts.
Run by `npm run bench` when a Python with Keras and TensorFlow is available
(STRATA_BENCH_PYTHON, or python3); the benchmark skips it otherwise.
"""
import json
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import keras
import tensorflow as tf


def time_steps(model, x, y, budget_s=6.0, warmup=5):
    for _ in range(warmup):
        model.train_on_batch(x, y)
    times = []
    end = time.perf_counter() + budget_s
    while len(times) < 10 or (time.perf_counter() < end and len(times) < 300):
        t0 = time.perf_counter()
        model.train_on_batch(x, y)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    rng = np.random.default_rng(0)
    mlp = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(10),
    ])
    mlp.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = rng.random((128, 784), dtype=np.float32)
    y = rng.integers(0, 10, (128,)).astype(np.int32)
    mlp_ms = time_steps(mlp, x, y)

    cnn = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10),
    ])
    cnn.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    xc = rng.random((64, 28, 28, 1), dtype=np.float32)
    yc = rng.integers(0, 10, (64,)).astype(np.int32)
    cnn_ms = time_steps(cnn, xc, yc)
    print(json.dumps({"keras": keras.__version__, "tensorflow": tf.__version__, "threads": threads or "default", "mlp_ms": mlp_ms, "cnn_ms": cnn_ms}))


if __name__ == "__main__":
    main()
