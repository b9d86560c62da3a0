// What the Confusion view loads, latest-wins: the matrix of a step (with a few recent steps
// cached, a slider drag debounced), and what depends on it: the most-confused pairs, the
// clustered class order (or a probe that says why it is unavailable), the base run's steps and
// the difference to the base. A refresh drops what may have changed.
import type { Api } from "../data/api";
import { Keyed, Lru } from "../data/keyed";
import type { ConfusionData, DiffData, PairsResponse } from "../data/types";
import { cacheKey, keyStartsWith } from "../lib/keys";
import type { ViewState } from "../state/view-state";
import { ConfusionModel, PAIRS_LIMIT } from "./matrix";
import { defaultBaseStep } from "./compare";
import type { SeriesRef } from "../data/series";

export class MatrixData {
  readonly cm = new Keyed<ConfusionData>();
  readonly pairs = new Keyed<PairsResponse>();
  readonly diff = new Keyed<DiffData>();
  readonly baseSteps = new Keyed<number[]>();
  readonly cluster = new Keyed<number[]>();
  /** the answer of the cluster-order route when it refused (no SciPy): disables the option */
  clusterUnavailable: string | null = null;
  /** the refresh the keys belong to */
  refreshId = -1;
  private cmCache = new Lru<ConfusionData>(8);
  private clusterProbed = "";
  private timer: ReturnType<typeof setTimeout> | null = null;
  private model: ConfusionModel | null = null;
  private modelOf: ConfusionData | null = null;

  /** `debounceMs`: wait this long after the last slider move before loading a step. */
  constructor(private readonly debounceMs: number) {}

  /** A refresh: the latest step may have moved, more steps may exist. */
  refreshed(refreshId: number): void {
    if (refreshId === this.refreshId) return;
    if (this.refreshId !== -1) {
      this.cmCache.clear(); // cached steps carry the old list of steps
      this.cm.key = null;
      this.pairs.key = null;
      this.baseSteps.key = null;
      this.diff.key = null;
    }
    this.refreshId = refreshId;
  }

  /** Another run or tag: never show the old one's matrix meanwhile. */
  forgetOtherThan(run: string, name: string): void {
    if (this.cm.data && (this.cm.data.run !== run || this.cm.data.name !== name)) {
      this.cm.data = null;
      this.cm.error = null;
    }
  }

  /** Loads the matrix of a run's step (null: the latest): at once, from the cache, or after a
   * pause in a slider drag. `changed` runs when loading starts, `loaded` when the answer is in. */
  requestMatrix(
    api: Api,
    run: string,
    name: string,
    step: number | null,
    on: { changed(): void; loaded(): void },
  ): void {
    const key = cacheKey(run, name, step);
    if (key === this.cm.pending || (key === this.cm.key && !this.cm.pending)) return;
    const cached = step !== null ? this.cmCache.get(key) : undefined;
    if (cached) {
      this.cm.pending = null;
      this.cm.key = key;
      this.cm.data = cached;
      this.cm.error = null;
      return;
    }
    const go = () => {
      this.timer = null;
      this.cm.load(
        key,
        // stamped with what was asked for: the picture is never attributed to another run
        () => api.confusion(run, name, step).then((d) => ({ ...d, run, name })),
        () => {
          const d = this.cm.data;
          // kept as its own step's answer (not as the one asked for a step without a matrix)
          if (d) this.cmCache.set(cacheKey(run, name, d.step), { ...d, requested_step: null });
          on.loaded();
        },
      );
      on.changed();
    };
    if (this.timer) clearTimeout(this.timer);
    // a slider drag: wait for it to pause; anything else loads at once
    const sameRun = this.cm.data !== null && this.cm.data.run === run && this.cm.data.name === name;
    if (sameRun && this.debounceMs > 0) {
      this.cm.pending = key; // shows "loading" and keeps older answers out
      this.timer = setTimeout(() => {
        this.cm.pending = null;
        go();
      }, this.debounceMs);
    } else go();
  }

  /** Loads what depends on the matrix `cm`: its pairs, the clustered order (or, once per run,
   * a probe of the route so that the option can say why it is unavailable before anyone picks
   * it) and, comparing, the base run's steps and the diff. `changed` runs with each answer;
   * `again` with the base run's steps, which unlock the diff. */
  requestDependents(
    api: Api,
    cm: ConfusionData,
    name: string,
    s: ViewState,
    base: SeriesRef,
    on: { changed(): void; again(): void },
  ): void {
    const run = cm.run;
    const refresh = this.refreshId;
    this.pairs.load(
      cacheKey(run, name, cm.step, refresh),
      () => api.pairs(run, name, cm.step, PAIRS_LIMIT),
      on.changed,
    );
    const onCluster = () => {
      this.clusterUnavailable = this.cluster.error;
      on.changed();
    };
    if (s.order === "cluster")
      this.cluster.load(
        cacheKey(run, name, cm.step),
        () => api.order(run, name, cm.step, "cluster"),
        onCluster,
      );
    else if (this.clusterProbed !== cacheKey(run, name)) {
      this.clusterProbed = cacheKey(run, name);
      this.cluster.load(
        cacheKey(run, name, "probe"),
        () => api.order(run, name, null, "cluster"),
        onCluster,
      );
    }
    if (!s.diff.on) return;
    const own = base.run === run && base.name === name;
    let steps: number[] | null = null;
    if (own) steps = cm.steps;
    else {
      this.baseSteps.load(
        cacheKey(base.run, base.name, refresh),
        () => api.steps(base.run, base.name, "confusion"),
        on.again,
      );
      steps = this.baseStepsOf(base);
    }
    if (!steps) return;
    const baseStep = s.diff.baseStep ?? defaultBaseStep(steps, cm.step, own);
    if (baseStep !== undefined) {
      this.diff.load(
        cacheKey(run, name, cm.step, base.run, base.name, baseStep, refresh),
        () => api.diff(run, name, cm.step, base.run, baseStep, 2 * PAIRS_LIMIT, base.name),
        on.changed,
      );
    }
  }

  /** The steps of another series with matrices, once they are in. */
  baseStepsOf(base: SeriesRef): number[] | null {
    return keyStartsWith(this.baseSteps.key, base.run, base.name) ? this.baseSteps.data : null;
  }

  /** The clustered order of the matrix `cm`, when it is in and fits. */
  clusterOf(cm: ConfusionData, name: string): number[] | null {
    const c = this.cluster.data;
    return c && this.cluster.key === cacheKey(cm.run, name, cm.step) && c.length === cm.n
      ? c
      : null;
  }

  /** The answers of the pairs and diff routes are for the matrix `cm` (any refresh). */
  pairsFresh(cm: ConfusionData, name: string): boolean {
    return keyStartsWith(this.pairs.key, cm.run, name, cm.step);
  }

  diffFresh(cm: ConfusionData, name: string): boolean {
    return keyStartsWith(this.diff.key, cm.run, name, cm.step);
  }

  /** The counts model of a matrix (rebuilt only for another answer). */
  modelOfMatrix(cm: ConfusionData): ConfusionModel {
    if (this.modelOf !== cm || !this.model) {
      this.model = new ConfusionModel(cm.counts, cm.n);
      this.modelOf = cm;
    }
    return this.model;
  }

  /** The model of the matrix shown, once it exists. */
  get currentModel(): ConfusionModel | null {
    return this.model;
  }

  /** A pending slider step loads now (tests); false when none was pending. */
  flushPending(): boolean {
    if (!this.timer) return false;
    clearTimeout(this.timer);
    this.timer = null;
    this.cm.pending = null;
    return true;
  }

  destroy(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
