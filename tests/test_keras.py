"""The Keras callback in real `fit()` runs: exact numbers, no extra forward pass over the
training data, MirroredStrategy, the compiled loss in every form, samples, bad set-ups."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from tests.helpers import read_summaries
from tests.keras_runs import counting_dense

pytestmark = pytest.mark.slow

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from tb_perclass.keras import PerClassCallback  # noqa: E402

rng = np.random.default_rng(0)
X = rng.normal(size=(300, 6)).astype(np.float32)
Y = rng.integers(0, 4, 300)
XV, YV = X[:90] + 0.1, Y[:90]


def dense_model(units=4, activation=None, seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(units, activation=activation),
        ]
    )


def softmax(x):
    e = np.exp(x - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def per_class(logits, targets, losses, classes=4):
    predicted = logits.argmax(1)
    count = np.bincount(targets, minlength=classes)
    correct = np.bincount(targets[predicted == targets], minlength=classes)
    mean = np.array([losses[targets == c].mean() for c in range(classes)])
    return mean, count, correct


def test_train_statistics_are_exact_and_cost_no_forward_pass(tmp_path):
    def run(with_callback):
        keras.utils.set_random_seed(0)
        counter = counting_dense(4)
        model = keras.Sequential([keras.Input((6,)), counter])
        model.compile(
            keras.optimizers.SGD(0.0), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        )
        callbacks = [PerClassCallback(str(tmp_path / "cb"))] if with_callback else []
        model.fit(
            X, Y, validation_data=(XV, YV), epochs=2, batch_size=32, callbacks=callbacks, verbose=0
        )
        return model, float(counter.calls.numpy())

    plain_model, plain_calls = run(False)
    model, calls = run(True)
    assert calls == plain_calls == 2 * (np.ceil(300 / 32) + np.ceil(90 / 32))

    logits = np.asarray(model.predict(X, verbose=0))
    losses = np.asarray(keras.losses.sparse_categorical_crossentropy(Y, logits, from_logits=True))
    mean, count, correct = per_class(logits, Y, losses)
    for _, matrix, meta in read_summaries(str(tmp_path / "cb" / "train")):
        np.testing.assert_array_equal(matrix[1], count)
        np.testing.assert_array_equal(matrix[2], correct)
        np.testing.assert_allclose(matrix[0], mean, rtol=1e-5)
        assert meta.loss == "sparse_categorical_crossentropy"
    (_, confusion, _), *_ = read_summaries(str(tmp_path / "cb" / "validation"), kind="confusion")
    v_logits = np.asarray(model.predict(XV, verbose=0))
    expected = np.zeros((4, 4), int)
    np.add.at(expected, (YV, v_logits.argmax(1)), 1)
    np.testing.assert_array_equal(confusion, expected)
    assert model.compute_metrics.__func__ is type(model).compute_metrics  # the hook is gone


@pytest.mark.parametrize(
    "loss,targets,activation",
    [
        ("sparse_categorical_crossentropy", Y, "softmax"),  # a string: probabilities
        (keras.losses.CategoricalCrossentropy(from_logits=True), np.eye(4)[Y], None),  # one-hot
        (keras.losses.categorical_crossentropy, np.eye(4)[Y], "softmax"),  # a function
    ],
    ids=["string", "one-hot-logits", "function"],
)
def test_the_compiled_loss_in_every_form(tmp_path, loss, targets, activation):
    model = dense_model(activation=activation)
    model.compile(keras.optimizers.SGD(0.0), loss)
    model.fit(
        X, targets, epochs=1, batch_size=50, callbacks=[PerClassCallback(str(tmp_path))], verbose=0
    )
    outputs = np.asarray(model.predict(X, verbose=0))
    keras_loss = keras.losses.get(loss) if isinstance(loss, str) else loss
    per_sample = keras_loss.call if isinstance(keras_loss, keras.losses.Loss) else keras_loss
    losses = np.asarray(per_sample(targets, outputs))
    ((_, matrix, _),) = read_summaries(str(tmp_path / "train"))
    mean, count, correct = per_class(outputs, Y, losses)
    np.testing.assert_array_equal(matrix[1:3], [count, correct])
    np.testing.assert_allclose(matrix[0], mean, rtol=1e-5)


def test_binary_and_multilabel_models(tmp_path):
    binary = dense_model(units=1)
    binary.compile(keras.optimizers.SGD(0.0), keras.losses.BinaryCrossentropy(from_logits=True))
    bits = (Y > 1).astype(np.float32)
    binary.fit(
        X,
        bits,
        epochs=1,
        batch_size=64,
        verbose=0,
        callbacks=[PerClassCallback(str(tmp_path / "b"), task="binary")],
    )
    scores = np.asarray(binary.predict(X, verbose=0))[:, 0]
    ((_, matrix, meta),) = read_summaries(str(tmp_path / "b" / "train"), kind="confusion")
    expected = np.zeros((2, 2), int)
    np.add.at(expected, (bits.astype(int), (scores > 0).astype(int)), 1)
    np.testing.assert_array_equal(matrix, expected)
    assert meta.class_names == ("negative", "positive")

    multi = dense_model(units=3)
    multi.compile(keras.optimizers.SGD(0.0), keras.losses.BinaryCrossentropy(from_logits=True))
    labels = (rng.random((300, 3)) < 0.4).astype(np.float32)
    multi.fit(
        X,
        labels,
        epochs=1,
        batch_size=64,
        verbose=0,
        callbacks=[PerClassCallback(str(tmp_path / "m"), ["a", "b", "c"], task="multilabel")],
    )
    logits = np.asarray(multi.predict(X, verbose=0))
    ((_, matrix, _),) = read_summaries(str(tmp_path / "m" / "train"), kind="confusion")
    from sklearn.metrics import multilabel_confusion_matrix

    np.testing.assert_array_equal(
        matrix, multilabel_confusion_matrix(labels.astype(int), (logits > 0).astype(int))
    )


def test_validation_data_gives_validation_statistics_and_samples(tmp_path):
    images = rng.random((90, 4, 4, 1)).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(4)]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    callback = PerClassCallback(str(tmp_path), validation_data=(images, YV), max_samples=10)
    model.fit(images, YV, epochs=2, batch_size=30, callbacks=[callback], verbose=0)
    steps = read_summaries(str(tmp_path / "validation"))
    assert [s for s, _, _ in steps] == [0, 1] and steps[0][1][1].sum() == 90
    (_, blobs, _), *_ = read_summaries(str(tmp_path / "validation"), kind="samples")
    manifest = json.loads(blobs[0])
    assert 0 < len(manifest) <= 10 and all(0 <= e["id"] < 90 for e in manifest)


def test_several_outputs_need_output(tmp_path):
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8)(inputs)
    model = keras.Model(
        inputs,
        {
            "kind": keras.layers.Dense(4, name="kind")(hidden),
            "size": keras.layers.Dense(1, name="size")(hidden),
        },
    )
    model.compile(
        "adam",
        loss={"kind": keras.losses.SparseCategoricalCrossentropy(from_logits=True), "size": "mse"},
    )
    targets = {"kind": Y, "size": X[:, :1]}
    with pytest.raises(ValueError, match=r"the model has 2 outputs \(kind, size\); pass output="):
        model.fit(
            X, targets, epochs=1, verbose=0, callbacks=[PerClassCallback(str(tmp_path / "x"))]
        )
    model.fit(
        X,
        targets,
        epochs=1,
        batch_size=100,
        verbose=0,
        callbacks=[PerClassCallback(str(tmp_path / "ok"), output="kind")],
    )
    ((_, matrix, _),) = read_summaries(str(tmp_path / "ok" / "train"))
    assert matrix[1].sum() == 300


MIRRORED = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from tests.helpers import read_summaries
    from tb_perclass.keras import PerClassCallback

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 6)).astype(np.float32)
    y = rng.integers(0, 4, 256)
    def train(directory, strategy):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4)])
            model.compile(keras.optimizers.SGD(0.0),
                          keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, validation_data=(x[:64], y[:64]), epochs=2, batch_size=64, verbose=0,
                  callbacks=[PerClassCallback(directory)])
        return {{split: [m.tolist() for _, m, _ in read_summaries(os.path.join(directory, split))]
                for split in ("train", "validation")}}
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    print(json.dumps({{"one": train({one!r}, tf.distribute.get_strategy()),
                      "two": train({two!r}, mirrored)}}))
    """
)


def test_mirrored_strategy_gives_the_numbers_of_one_device(tmp_path):
    script = MIRRORED.format(one=str(tmp_path / "one"), two=str(tmp_path / "two"))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=root
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    for split in ("train", "validation"):
        one, two = np.array(found["one"][split]), np.array(found["two"][split])
        assert one.shape == two.shape == (2, 5, 4)
        np.testing.assert_array_equal(one[:, 1:], two[:, 1:])  # counts exactly
        np.testing.assert_allclose(one[:, 0], two[:, 0], rtol=1e-6)  # loss sums, any order
        assert one[0, 1].sum() == (256 if split == "train" else 64)


def test_shares_its_directories_with_the_tensorboard_callback(tmp_path):
    from tensorboard.backend.event_processing import event_file_loader

    model = dense_model()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(
        X,
        Y,
        validation_data=(XV, YV),
        epochs=2,
        batch_size=64,
        verbose=0,
        callbacks=[keras.callbacks.TensorBoard(str(tmp_path)), PerClassCallback(str(tmp_path))],
    )
    for split in ("train", "validation"):
        directory = tmp_path / split
        tags = set()
        for name in os.listdir(directory):
            if "tfevents" in name:
                for event in event_file_loader.EventFileLoader(str(directory / name)).Load():
                    tags.update(value.tag for value in event.summary.value)
        assert "epoch_loss" in tags  # Keras' own scalars
        assert [s for s, _, _ in read_summaries(str(directory))] == [0, 1]  # and ours


# --- off the happy path: written, and warned ----------------------------------------------------


def fit_messages(model, x, y, callback, **fit_options):
    """The RuntimeWarnings a fit() raised (ours: the callback's)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, verbose=0, callbacks=[callback], **fit_options)
    return [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_logits_under_a_loss_that_takes_probabilities_are_warned(tmp_path):
    """Keras' classic slip: no softmax, and a loss with its default from_logits=False."""
    model = dense_model()
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    messages = fit_messages(model, X, Y, PerClassCallback(str(tmp_path)), epochs=2, batch_size=50)
    (message,) = [m for m in messages if "from_logits" in m]  # once, not per epoch or phase
    assert message.startswith("PerClassCallback(name='perclass'), train epoch 0:")
    assert "below 0 or above 1" in message and "pass from_logits=True" in message
    assert "the compiled loss" in message


def test_nan_outputs_and_invalid_targets_are_written_and_warned(tmp_path):
    """Targets of 2 for a binary model are found on the device, so at the epoch's end: written
    apart and warned (not a lost epoch). NaN scores count apart per true class."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,))
    scores = keras.layers.Dense(1)(inputs)
    nan = keras.layers.Lambda(lambda pair: tf.where(pair[0][:, :1] > 1.0, float("nan"), pair[1]))(
        [inputs, scores]
    )
    model = keras.Model(inputs, nan)
    model.compile(keras.optimizers.SGD(0.0), keras.losses.BinaryCrossentropy(from_logits=True))
    bits = (Y > 1).astype(np.float32)
    bits[:7] = 2.0
    messages = fit_messages(
        model, X, bits, PerClassCallback(str(tmp_path), task="binary"), epochs=1, batch_size=100
    )
    ((_, matrix, _),) = read_summaries(str(tmp_path / "train"), raw=True)
    valid = bits != 2
    unusable = X[:, 0] > 1.0
    assert matrix[1, 2] == 7  # the invalid_targets column
    np.testing.assert_array_equal(matrix[1, :2], np.bincount(bits[valid].astype(int), minlength=2))
    np.testing.assert_array_equal(
        matrix[4, :2], np.bincount(bits[valid & unusable].astype(int), minlength=2)
    )
    ((_, confusion, _),) = read_summaries(str(tmp_path / "train"), kind="confusion")
    assert confusion.sum() == (valid & ~unusable).sum()
    assert any("7 targets since the last write were not 0 or 1" in m for m in messages)
    assert any(
        f"{(valid & unusable).sum()} samples had NaN or infinite outputs" in m for m in messages
    )


def test_a_second_fit_whose_epochs_restart_is_warned(tmp_path):
    model = dense_model()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    callback = PerClassCallback(str(tmp_path))
    assert fit_messages(model, X, Y, callback, epochs=2, batch_size=100) == []
    messages = fit_messages(model, X, Y, callback, epochs=1, batch_size=100)
    (message,) = messages
    assert "train epoch 0: step 0 is lower than step 1" in message
    assert "initial_epoch" in message
    assert [s for s, _, _ in read_summaries(str(tmp_path / "train"))] == [0, 1, 0]


def test_track_samples_takes_the_ids_from_dict_inputs_and_finds_flipped_labels(tmp_path):
    from tests.helpers import wsgi_client

    x = rng.normal(size=(240, 6)).astype(np.float32)
    y = np.argmax(x[:, :4], axis=1)
    y[:12] = (y[:12] + 1) % 4  # twelve wrong labels
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,), name="features")
    model = keras.Model(inputs, keras.layers.Dense(4)(inputs))
    model.compile(
        keras.optimizers.Adam(0.05), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    data = tf.data.Dataset.from_tensor_slices(({"features": x, "sample_id": np.arange(240)}, y))
    callback = PerClassCallback(str(tmp_path), track_samples=240)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the model never sees the extra key
        batches = data.shuffle(240, seed=0).batch(32)
        model.fit(batches, epochs=8, verbose=0, shuffle=False, callbacks=[callback])
    client = wsgi_client(str(tmp_path))
    counts = client.get("/data/plugin/perclass/dynamics?run=train&name=perclass").get_json()
    assert counts["steps"] == list(range(8))
    assert np.sum(counts["visited"][-1]) == 240 and counts["invalid_id_visits"][-1] == 0
    found = client.get(
        "/data/plugin/perclass/dynamics_samples?run=train&name=perclass&list=errors&limit=12"
    ).get_json()
    assert len({e["id"] for e in found["samples"]} & set(range(12))) >= 10
    # The same model fed arrays alone: the callback cannot know the rows; it says how to fix it.
    with pytest.raises(ValueError, match="a dict input with a 'sample_id' key"):
        model.fit(
            x,
            y,
            epochs=1,
            verbose=0,
            callbacks=[PerClassCallback(str(tmp_path / "b"), track_samples=240)],
        )


def test_scores_from_fit_match_the_predictions(tmp_path):
    """scores=True in the callback: the same histograms a writer makes from the predictions,
    train and validation (graph ops on Keras variables)."""
    from tb_perclass import PerClassWriter
    from tb_perclass.format import metadata

    model = dense_model(units=6)
    model.compile(keras.optimizers.SGD(0.0), keras.losses.SparseCategoricalCrossentropy(True))
    targets = rng.integers(0, 6, 300)
    callback = PerClassCallback(str(tmp_path / "cb"), scores=True, top_k=2)
    model.fit(
        X,
        targets,
        validation_data=(XV, targets[:90]),
        epochs=1,
        batch_size=64,
        callbacks=[callback],
        verbose=0,
    )
    for phase, inputs, truth in (("train", X, targets), ("validation", XV, targets[:90])):
        logits = np.asarray(model.predict(inputs, verbose=0))
        with PerClassWriter(
            str(tmp_path / f"ref-{phase}"), num_classes=6, scores=True, top_k=2
        ) as w:
            w.update(logits, truth)
            w.write(0)
        ((_, got, meta),) = read_summaries(str(tmp_path / "cb" / phase), metadata.KIND_SCORES)
        ((_, want, _),) = read_summaries(str(tmp_path / f"ref-{phase}"), metadata.KIND_SCORES)
        assert meta.extra["top_k"] == 2
        # The same bins and counts; confidence sums may differ in float rounding only.
        np.testing.assert_allclose(got, want, atol=2)
        assert got.sum() > 0


def test_confusion_every_counts_epochs_and_writes_the_last_at_the_end_of_fit(tmp_path):
    with pytest.raises(ValueError, match="confusion_every=0; it must be at least 1"):
        PerClassCallback(str(tmp_path), confusion_every=0)
    model = dense_model()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    callback = PerClassCallback(str(tmp_path), confusion_every=3)
    model.fit(
        X, Y, epochs=5, batch_size=100, verbose=0, callbacks=[callback], validation_data=(XV, YV)
    )
    for phase in ("train", "validation"):
        run = str(tmp_path / phase)
        assert [s for s, _, _ in read_summaries(run)] == [0, 1, 2, 3, 4]
        # epochs 0 and 3 (every 3rd), and the last one at the end of fit()
        assert [s for s, _, _ in read_summaries(run, kind="confusion")] == [0, 3, 4]
    # the validation matrix of the last epoch is the model's, on the validation data
    ((_, matrix, _),) = read_summaries(str(tmp_path / "validation"), kind="confusion")[-1:]
    predicted = model.predict(XV, verbose=0).argmax(1)
    expected = np.zeros((4, 4), dtype=np.int64)
    np.add.at(expected, (YV, predicted), 1)
    np.testing.assert_array_equal(matrix, expected)
