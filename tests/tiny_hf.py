"""Tiny Hugging Face classifiers built from configs (nothing downloaded) and small data sets made
here: topic sentences with a whitespace tokenizer built offline, and scikit-learn's digits."""

from __future__ import annotations

import numpy as np
import torch

TOPICS = {
    "sport": "goal match team score coach league referee".split(),
    "weather": "rain sunny cloud storm wind cold forecast".split(),
    "food": "bread cheese soup spicy cook dinner recipe".split(),
    "music": "song guitar concert band melody drums choir".split(),
}
FILLER = "the a today very really i think it was and so quite".split()
MAX_LENGTH = 12


def topic_texts(count: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """Sentences of filler, two words of their topic and one of another: learnable, not
    trivially (the odd word confuses a young model)."""
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    texts, labels = [], []
    for _ in range(count):
        label = int(rng.integers(0, len(names)))
        other = names[(label + 1 + int(rng.integers(0, len(names) - 1))) % len(names)]
        words = (
            list(rng.choice(FILLER, 4))
            + list(rng.choice(TOPICS[names[label]], 2))
            + list(rng.choice(TOPICS[other], 1))
        )
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def whitespace_tokenizer():
    """A PreTrainedTokenizerFast over a word-level vocabulary of the topic words."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}
    for word in FILLER + [w for words in TOPICS.values() for w in words]:
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
    )


class DictDataset(torch.utils.data.Dataset):
    """Rows of equal-length tensors as the dicts the Trainer feeds to the model."""

    def __init__(self, **columns):
        self.columns = columns

    def __len__(self):
        return len(next(iter(self.columns.values())))

    def __getitem__(self, index):
        return {key: column[index] for key, column in self.columns.items()}


def topic_datasets(tokenizer, train: int = 256, evaluation: int = 72, with_labels: bool = True):
    texts, labels = topic_texts(train + evaluation)
    encoded = tokenizer(
        texts, padding="max_length", max_length=MAX_LENGTH, truncation=True, return_tensors="pt"
    )
    columns = dict(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"])
    label_column = torch.tensor(labels)

    def part(rows, labelled=True):
        chosen = {k: v[rows] for k, v in columns.items()}
        if labelled:
            chosen["labels"] = label_column[rows]
        return DictDataset(**chosen)

    train_rows, eval_rows = slice(0, train), slice(train, train + evaluation)
    return part(train_rows), part(eval_rows, with_labels), texts[train:], labels[train:]


def tiny_bert(tokenizer, num_labels: int = len(TOPICS), **config):
    from transformers import BertConfig, BertForSequenceClassification

    names = (
        list(TOPICS)[:num_labels]
        if num_labels <= len(TOPICS)
        else [f"t{i}" for i in range(num_labels)]
    )
    torch.manual_seed(0)
    return BertForSequenceClassification(
        BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=MAX_LENGTH + 4,
            num_labels=num_labels,
            id2label=dict(enumerate(names)),
            label2id={n: i for i, n in enumerate(names)},
            **config,
        )
    )


DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def digits_datasets(train: int = 320, evaluation: int = 96):
    """scikit-learn's 8x8 digits as (N, 1, 8, 8) pixel_values normalised to mean 0.5, std 0.5."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = torch.tensor(digits.images[: train + evaluation] / 16.0, dtype=torch.float32)[:, None]
    pixels = (pixels - 0.5) / 0.5
    labels = torch.tensor(digits.target[: train + evaluation])
    return (
        DictDataset(pixel_values=pixels[:train], labels=labels[:train]),
        DictDataset(pixel_values=pixels[train:], labels=labels[train:]),
    )


def digits_image_processor():
    from transformers import ViTImageProcessor

    return ViTImageProcessor(size={"height": 8, "width": 8}, image_mean=[0.5], image_std=[0.5])


def tiny_vit():
    from transformers import ViTConfig, ViTForImageClassification

    torch.manual_seed(0)
    return ViTForImageClassification(
        ViTConfig(
            image_size=8,
            patch_size=2,
            num_channels=1,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            num_labels=10,
            id2label=dict(enumerate(DIGIT_NAMES)),
            label2id={n: i for i, n in enumerate(DIGIT_NAMES)},
        )
    )


def training_arguments(output_dir, **overrides):
    from transformers import TrainingArguments

    options = dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=32,
        per_device_eval_batch_size=32,
        num_train_epochs=2,
        learning_rate=5e-3,
        logging_steps=4,
        eval_strategy="epoch",
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
        dataloader_num_workers=0,
    )
    options.update(overrides)
    return TrainingArguments(**options)
