"""Per-step overhead of the Trainer's PerClassCallback on a tiny text classifier (CPU).

Two `transformers.Trainer`s train the same tiny BERT (built from a config) on the same topic
sentences, one with `PerClassCallback` and one without. Each round runs both, in a shuffled
order, for `--steps` optimizer steps; a step's time is the interval between two
`on_step_begin` calls, so it includes the Trainer's logging and the callback's writes at each
logging step. The overhead is the median over rounds of the paired difference of the median
step times, relative to the step without the callback. The time spent inside the callback per
step (the median forward hook, plus the median train write divided by the logging interval),
measured in the same runs, is reported as a share of the step too: on a loaded machine it is the
steadier figure, since whole-step differences drown in preemption noise.

    python -m bench.transformers_callback [--rounds 5] [--steps 200] [--logging-steps 10]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import transformers  # noqa: E402

from tb_perclass.transformers import PerClassCallback  # noqa: E402
from tests import tiny_hf  # noqa: E402


class StepTimer(transformers.TrainerCallback):
    def __init__(self):
        self.starts: list[float] = []

    def on_step_begin(self, args, state, control, **kwargs):
        self.starts.append(time.perf_counter())

    def on_train_end(self, args, state, control, **kwargs):
        self.starts.append(time.perf_counter())

    def step_times(self) -> list[float]:
        return [b - a for a, b in zip(self.starts[2:], self.starts[3:])]  # first steps warm up


class TimedPerClassCallback(PerClassCallback):
    """Records the time of each call of the callback's own work: the forward hook (one
    update per batch) and the train writes (one per logging step)."""

    hook_times: list[float] = []
    write_times: list[float] = []

    def _on_forward(self, *args):
        start = time.perf_counter()
        try:
            return super()._on_forward(*args)
        finally:
            TimedPerClassCallback.hook_times.append(time.perf_counter() - start)

    def on_log(self, args, state, control, logs=None, **kwargs):
        start = time.perf_counter()
        try:
            return super().on_log(args, state, control, logs=logs, **kwargs)
        finally:
            if logs and "loss" in logs:  # a train write
                TimedPerClassCallback.write_times.append(time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--logging-steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    options = parser.parse_args()

    transformers.logging.set_verbosity_error()
    tokenizer = tiny_hf.whitespace_tokenizer()
    train, _, _, _ = tiny_hf.topic_datasets(tokenizer, train=options.batch_size * options.steps)
    workdir = tempfile.mkdtemp(prefix="bench-transformers-")

    def run(with_callback: bool) -> tuple[float, float]:
        timer = StepTimer()
        callbacks = [timer] + (
            [TimedPerClassCallback(os.path.join(workdir, "runs"))] if with_callback else []
        )
        args = tiny_hf.training_arguments(
            os.path.join(workdir, "out"), max_steps=options.steps, eval_strategy="no",
            logging_steps=options.logging_steps, per_device_train_batch_size=options.batch_size,
        )  # fmt: skip
        trainer = transformers.Trainer(
            model=tiny_hf.tiny_bert(tokenizer), args=args, train_dataset=train, callbacks=callbacks
        )
        trainer.remove_callback(transformers.PrinterCallback)  # no log lines on stdout
        TimedPerClassCallback.hook_times, TimedPerClassCallback.write_times = [], []
        trainer.train()
        spent = 0.0
        if with_callback:  # medians: a loaded machine preempts a few calls for 100 ms
            hooks, writes = TimedPerClassCallback.hook_times, TimedPerClassCallback.write_times
            spent = statistics.median(hooks[2:]) + statistics.median(writes) / options.logging_steps
        return statistics.median(timer.step_times()), spent

    run(True), run(False)  # warm-up: imports, allocator, first traces
    rng = random.Random(0)
    rows = []
    for round_index in range(options.rounds):
        order = [True, False]
        rng.shuffle(order)
        result = {flag: run(flag) for flag in order}
        (with_step, spent), (without_step, _) = result[True], result[False]
        rows.append((with_step, without_step, spent))
        print(
            f"round {round_index}: step {without_step * 1e3:.2f} ms without, "
            f"{with_step * 1e3:.2f} ms with the callback; inside the callback "
            f"{spent * 1e3:.3f} ms/step",
            flush=True,
        )
    overhead = statistics.median((w - wo) / wo for w, wo, _ in rows)
    share = statistics.median(spent / wo for _, wo, spent in rows)
    step = statistics.median(wo for _, wo, _ in rows)
    print(
        f"tiny BERT, batch {options.batch_size}, logging every {options.logging_steps} steps: "
        f"Trainer step {step * 1e3:.2f} ms; callback overhead {overhead:+.1%} of the step "
        f"(paired, median of {options.rounds} rounds); time inside the callback "
        f"{share:.2%} of the step"
    )


if __name__ == "__main__":
    main()
