// The kept mistakes of a run that records samples but no confusion matrix
// (PerClassWriter(..., confusion=False), the escape hatch at thousands of classes): the
// Confusion tab shows the samples gallery on its own, with no cells to click. Scope "overall"
// (the most confident mistakes at the step) by default, a true class from the class finder
// or the gallery's breadcrumbs, and a step slider over the steps the samples route lists.
import { h } from "../ui/dom";
import { ClassFinder } from "../ui/class-finder";
import { StepSlider } from "../ui/step-slider";
import type { GalleryState } from "../state/view-state";
import { classScope, noConfusionNote, scopeClass, scopeFits } from "./scopes";
import { wording } from "./sample-info";
import { SamplesGallery } from "./gallery";
import type { View, ViewContext } from "../view-contract";
import { cacheKey } from "../lib/keys";

const lastOf = (steps: readonly number[]): number | null =>
  steps.length ? steps[steps.length - 1] : null;

export class MistakesView implements View {
  readonly id = "mistakes";
  readonly label = "Confusion";
  readonly element: HTMLElement;
  readonly settings = null;
  private ctx: ViewContext | null = null;
  private slider: StepSlider;
  private finder: ClassFinder;
  private note: HTMLElement;
  private classLabel: HTMLElement;
  private message: HTMLElement;
  private gallery: SamplesGallery;
  /** the steps with kept samples of the run shown, from the last answer listing them */
  private steps: { of: string; steps: number[] } | null = null;

  constructor() {
    this.slider = new StepSlider("samples", (step) => this.ctx?.setState({ step }));
    this.finder = new ClassFinder(
      "samples-class-find",
      (i) => this.pickClass(i),
      "Find a true class…",
    );
    this.classLabel = h("span", { class: "pc-label-inline" }, "True class");
    this.note = h("div", {
      class: "pc-card-note",
      attrs: { "data-role": "no-confusion-note", role: "note" },
    });
    this.message = h("div", {
      class: "pc-message",
      attrs: { "data-role": "mistakes-message", hidden: true },
    });
    this.gallery = new SamplesGallery();
    // emptying the box (its ✕, or deleting the name) goes back to every mistake
    for (const ev of ["search", "change"])
      this.finder.input.addEventListener(
        ev,
        () => this.finder.input.value.trim() || this.showAll(),
      );
    const classField = h("span", { class: "pc-row" }, this.classLabel, this.finder.element);
    const toolbar = h("div", { class: "pc-card-toolbar" }, this.slider.element, classField);
    const box = h("div", { class: "pc-mistakes-box" }, this.gallery.element, this.message);
    this.element = h(
      "div",
      { class: "pc-card pc-card-matrix pc-card-mistakes", attrs: { "data-view": "mistakes" } },
      toolbar,
      this.note,
      h("div", { class: "pc-card-body" }, box, this.gallery.lightbox),
    );
  }

  update(ctx: ViewContext): void {
    this.ctx = ctx;
    const run = ctx.run;
    const info = run ? ctx.tags[run]?.[ctx.name] : undefined;
    if (!run || !info) {
      // the app only picks this view for a run with samples; a vanished run lands here
      this.gallery.element.hidden = true;
      this.gallery.lightbox.hidden = true;
      this.message.hidden = false;
      this.message.textContent = "No run of this class set keeps misclassified samples.";
      return;
    }
    this.gallery.element.hidden = false;
    this.message.hidden = true;
    const names = info.class_names.length ? info.class_names : ctx.classNames;
    const state = this.galleryState(ctx, info.task, names.length);
    this.note.textContent = noConfusionNote(info.task);
    this.finder.setNames(names);
    const what = wording(info.task).trueWord;
    this.classLabel.textContent = what[0].toUpperCase() + what.slice(1);
    const find = `Find a ${what}…`;
    this.finder.input.placeholder = find;
    this.finder.input.setAttribute("aria-label", find);
    this.syncFinder(state, names);
    this.renderSlider(ctx, run);
    const last = () => lastOf(this.stepsOf(ctx, run));
    this.gallery.update({
      api: ctx.api,
      run,
      name: ctx.name,
      task: info.task,
      classNames: names,
      step: ctx.state.step,
      hasSamples: true,
      refreshId: ctx.refreshId,
      state,
      // counts need a matrix: the gallery says "no sample was kept" without a number
      mistakes: null,
      closable: false,
      setGallery: (next, opts) => ctx.setState({ gallery: next }, opts),
      // the latest step follows new steps, as the slider's last position does
      setStep: (step) => ctx.setState({ step: step !== null && step === last() ? null : step }),
      onSteps: (stepsOf, nameOf, steps) => this.onSteps(stepsOf, nameOf, steps),
    });
  }

  /** The open scope when it fits this run, else the most confident mistakes overall (the
   * state of a closed gallery is null, which here means the default). */
  private galleryState(ctx: ViewContext, task: string, n: number): GalleryState {
    const g = ctx.state.gallery;
    if (g && scopeFits(g.scope, task, n)) return g;
    return { scope: { kind: "overall" }, sort: g?.sort ?? "score", selected: null, large: false };
  }

  private pickClass(i: number): void {
    const ctx = this.ctx;
    const info = ctx?.run ? ctx.tags[ctx.run]?.[ctx.name] : undefined;
    if (!ctx || !info) return;
    const sort = ctx.state.gallery?.sort ?? "score";
    const names = info.class_names.length ? info.class_names : ctx.classNames;
    ctx.setState({
      focus: names[i] ?? null,
      gallery: { scope: classScope(info.task, i), sort, selected: null, large: false },
    });
    this.gallery.focus();
  }

  private showAll(): void {
    const ctx = this.ctx;
    const g = ctx?.state.gallery;
    if (!ctx || !g || g.scope.kind === "overall") return;
    ctx.setState({ gallery: { ...g, scope: { kind: "overall" }, selected: null, large: false } });
  }

  /** The finder shows the class the gallery is narrowed to (empty for all mistakes). */
  private syncFinder(state: GalleryState, names: readonly string[]): void {
    if (document.activeElement === this.finder.input) return;
    const i = scopeClass(state.scope);
    this.finder.input.value = i === null ? "" : (names[i] ?? "");
  }

  private stepsOf(ctx: ViewContext, run: string): number[] {
    return this.steps && this.steps.of === cacheKey(run, ctx.name) ? this.steps.steps : [];
  }

  private onSteps(run: string, name: string, steps: number[]): void {
    const ctx = this.ctx;
    // an answer for a run no longer shown changes nothing
    if (!ctx || ctx.run !== run || ctx.name !== name) return;
    this.steps = { of: cacheKey(run, name), steps };
    this.renderSlider(ctx, run);
  }

  private renderSlider(ctx: ViewContext, run: string): void {
    const steps = this.stepsOf(ctx, run);
    const following = ctx.state.step === null;
    this.slider.set(steps, following ? lastOf(steps) : ctx.state.step, following);
  }

  destroy(): void {
    this.gallery.destroy();
  }
}
