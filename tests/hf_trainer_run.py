"""A Trainer run for the data parallel test, as a module: `python -m tests.hf_trainer_run
OUTPUT_DIR LOGDIR`, alone or under `torch.distributed.run -m` (each rank runs it).

No dropout and no learning: every process computes the same function of its samples, so two
ranks must give the numbers of one process. `evaluate()` before training, then one epoch.
"""

from __future__ import annotations

import sys

import transformers

from tb_perclass.transformers import PerClassCallback
from tests import tiny_hf


def main(output_dir: str, logdir: str) -> None:
    tokenizer = tiny_hf.whitespace_tokenizer()
    train, evaluation, _, _ = tiny_hf.topic_datasets(tokenizer, evaluation=70)
    model = tiny_hf.tiny_bert(tokenizer, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    args = tiny_hf.training_arguments(
        output_dir,
        learning_rate=0.0,
        num_train_epochs=1,
        logging_strategy="epoch",
        per_device_train_batch_size=16,
        per_device_eval_batch_size=16,
    )
    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
        callbacks=[PerClassCallback(logdir)],
    )
    trainer.evaluate()
    trainer.train()
    # Under torch.distributed.run: a process group left to interpreter exit can abort a rank
    # ("terminate called without an active exception", seen once in CI) after its work is done.
    import torch.distributed

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
