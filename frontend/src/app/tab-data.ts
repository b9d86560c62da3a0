// The data the tab holds between renders: the tags, the curves of the series it needs, what
// failed to load and when it last loaded. A refresh reloads the tags and the wanted curves whose
// series changed (the tags' `version`); an answer to an older refresh is dropped (latest wins).
import type { Api } from "../data/api";
import type { Series } from "../data/series";
import type { CurvesResponse, TagsResponse } from "../data/types";

/** The period of the tab's own refresh (TensorBoard's reload does not reach plugin iframes). */
export const REFRESH_SECONDS = 30;

export class TabData {
  tags: TagsResponse | null = null;
  /** curves by series key */
  readonly curves = new Map<string, CurvesResponse>();
  /** the curves route's errors by series key */
  readonly curvesErrors = new Map<string, string>();
  /** why the tags could not be loaded */
  loadError: string | null = null;
  lastLoaded: Date | null = null;
  loading = false;
  /** bumped by every curves answer (the class list redraws) */
  version = 0;
  /** bumped by every completed refresh: views reload what may have changed */
  refreshId = 0;
  private token = 0;

  /** `tagsApi` answers the tags; `api` the curves (it may report their skipped steps). */
  constructor(
    private readonly tagsApi: Api,
    private readonly api: Api,
    private readonly now: () => Date,
  ) {}

  /** Reloads the tags and the curves `wanted` of them; keeps nothing of series no longer
   * wanted (their curves would go stale: they are fetched again when needed). `started` runs
   * once loading is on. True when this is still the latest refresh. */
  async refresh(wanted: (tags: TagsResponse) => Series[], started: () => void): Promise<boolean> {
    const token = ++this.token;
    this.loading = true;
    started();
    try {
      const tags = await this.tagsApi.tags();
      if (token !== this.token) return false;
      this.tags = tags;
      this.loadError = null;
      const series = wanted(tags);
      const keep = new Set(series.map((s) => s.key));
      for (const key of [...this.curves.keys()]) if (!keep.has(key)) this.curves.delete(key);
      for (const key of [...this.curvesErrors.keys()])
        if (!keep.has(key)) this.curvesErrors.delete(key);
      // a series whose version in the tags did not change keeps its curves: on a long run the
      // periodic refresh then costs the tags answer only
      const changed = series.filter((s) => {
        const held = this.curves.get(s.key);
        const version = tags[s.run]?.[s.name]?.version;
        return !held || !version || held.version !== version;
      });
      await this.fetchCurves(changed, token);
      if (token !== this.token) return false;
      this.lastLoaded = this.now();
      this.refreshId++;
    } catch (e) {
      if (token !== this.token) return false;
      this.loadError = (e as Error).message || String(e);
    } finally {
      if (token === this.token) this.loading = false;
    }
    return true;
  }

  /** Loads the curves of wanted series not loaded (nor failed) yet, without a refresh; true
   * when some were asked for and no refresh came in between. */
  async loadMissing(wanted: Series[]): Promise<boolean> {
    const missing = wanted.filter((s) => !this.curves.has(s.key) && !this.curvesErrors.has(s.key));
    if (!missing.length) return false;
    const token = this.token;
    await this.fetchCurves(missing, token);
    return token === this.token;
  }

  private async fetchCurves(series: Series[], token: number): Promise<void> {
    await Promise.all(
      series.map(async (s) => {
        try {
          const version = this.tags?.[s.run]?.[s.name]?.version;
          const c = await this.api.curves(s.run, s.name);
          if (token !== this.token) return;
          if (version) c.version = version;
          this.curves.set(s.key, c);
          this.version++;
          this.curvesErrors.delete(s.key);
        } catch (e) {
          if (token !== this.token) return;
          this.curvesErrors.set(s.key, (e as Error).message || String(e));
        }
      }),
    );
  }
}
