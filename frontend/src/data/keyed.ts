// Latest-wins async loading by key: a view asks for the data of a key; answers for keys it
// no longer wants are dropped. The data of the previous key stays readable while the next
// one loads (a slider drag does not blank the picture), an error replaces it.

export class Keyed<T> {
  /** the key whose answer `data`/`error` hold */
  key: string | null = null;
  data: T | null = null;
  error: string | null = null;
  /** the key being loaded */
  pending: string | null = null;

  get loading(): boolean {
    return this.pending !== null;
  }

  /** Loads `key` unless it is already held or on its way; `done` runs when its answer is applied. */
  load(key: string, fetcher: () => Promise<T>, done: () => void): void {
    if (key === this.pending || (key === this.key && this.pending === null)) return;
    this.pending = key;
    fetcher().then(
      (data) => {
        if (this.pending !== key) return;
        this.pending = null;
        this.key = key;
        this.data = data;
        this.error = null;
        done();
      },
      (e: unknown) => {
        if (this.pending !== key) return;
        this.pending = null;
        this.key = key;
        this.data = null;
        this.error = (e as Error)?.message || String(e);
        done();
      },
    );
  }

  /** Forgets everything (answers still on their way are dropped). */
  reset(): void {
    this.key = null;
    this.data = null;
    this.error = null;
    this.pending = null;
  }
}

/** A small least-recently-used cache. */
export class Lru<T> {
  private map = new Map<string, T>();
  constructor(private readonly size: number) {}
  get(key: string): T | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: T): void {
    this.map.delete(key);
    this.map.set(key, v);
    while (this.map.size > this.size) this.map.delete(this.map.keys().next().value as string);
  }
  clear(): void {
    this.map.clear();
  }
}
