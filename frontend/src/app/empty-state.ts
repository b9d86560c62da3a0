// What the tab shows when the logdir holds no per-class data yet: how to write some.
import { h } from "../ui/dom";
import { REFRESH_SECONDS } from "./tab-data";

export const EMPTY_SNIPPET = `from tb_perclass import PerClassWriter

pc = PerClassWriter("runs/exp1/train", class_names=CLASSES)
for epoch in range(epochs):
    for x, y in train_loader:
        logits = model(x)
        ...
        pc.update(logits, y)      # per-class loss and accuracy, accumulated
    pc.write(step=epoch)          # one summary per step, then reset`;

export function emptyState(): HTMLElement {
  return h(
    "div",
    { class: "pc-empty", attrs: { "data-role": "empty-state" } },
    h("h2", null, "No per-class data was found"),
    h(
      "p",
      null,
      "This tab shows loss and accuracy per class, written by the tb_perclass logger. Log them from your training loop, for example in PyTorch:",
    ),
    h("pre", { class: "pc-code" }, EMPTY_SNIPPET),
    h("p", null, "then point TensorBoard at the log directory:"),
    h("pre", { class: "pc-code" }, "tensorboard --logdir runs"),
    h(
      "p",
      null,
      "Runs follow the Keras convention: write training and validation statistics to separate run directories (runs/exp1/train, runs/exp1/validation) and this tab overlays them. " +
        `It refreshes itself every ${REFRESH_SECONDS} seconds, so new runs appear here on their own.`,
    ),
  );
}
