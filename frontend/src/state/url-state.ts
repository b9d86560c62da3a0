// The view state in TensorBoard's URL, so that a copied link opens the same view.
//
// TensorBoard 2.21 keeps its tab in the hash and parses the hash as `tab&key=value&...`
// (tf_storage: split on "&", then on "=", decodeURIComponent on both sides) and, when it
// switches tabs or reloads, rewrites only its own keys: unknown keys survive. Checked with a
// real tensorboard and Chromium: `#perclass&pcv=...` opens the Per-Class tab, survives
// TensorBoard's reload button, its auto-reload, switching tabs and back/forward. So the tab
// writes one key, `pcv`, with history.replaceState on the parent (same origin; no hashchange
// event, no history entries) and only while its own tab is the active one.
import { defaultState, type ViewState } from "./view-state";
import { parseState } from "./saved-state";

export const LINK_KEY = "pcv";
export const TAB_ID = "perclass";
/** Class selections longer than this (as JSON) stay out of links: localStorage keeps them. */
export const MAX_CLASSES_CHARS = 1500;

/** The hash's parts the way TensorBoard's tf_storage reads them. */
export function parseHash(hash: string): { tab: string | null; params: Map<string, string> } {
  const params = new Map<string, string>();
  let tab: string | null = null;
  const body = hash.startsWith("#") ? hash.slice(1) : hash;
  if (!body) return { tab, params };
  for (const part of body.split("&")) {
    const kv = part.split("=");
    try {
      if (kv.length === 1) tab = decodeURIComponent(kv[0]);
      else if (kv.length === 2) params.set(decodeURIComponent(kv[0]), decodeURIComponent(kv[1]));
    } catch {
      // a malformed escape: TensorBoard would throw; we ignore the part
    }
  }
  return { tab, params };
}

/** The hash with `key` set (or removed for null), in TensorBoard's own format. */
export function hashWith(hash: string, key: string, value: string | null): string {
  const { tab, params } = parseHash(hash);
  if (value === null) params.delete(key);
  else params.set(key, value);
  const rest = [...params.entries()]
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
  const head = tab ?? ""; // as TensorBoard writes it
  return "#" + (rest ? `${head}&${rest}` : head);
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
  const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** What a link never carries: how this browser shows the tab, not what it shows. */
const LOCAL_FIELDS: ReadonlySet<string> = new Set(["autoRefresh", "settingsOpen"]);

/** The fields of a state that differ from the defaults (the local ones stay local). */
export function linkFields(s: ViewState): Record<string, unknown> {
  const d = defaultState() as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (LOCAL_FIELDS.has(k)) continue;
    if (JSON.stringify(v) !== JSON.stringify(d[k])) out[k] = v;
  }
  if (out.classes !== undefined && JSON.stringify(out.classes).length > MAX_CLASSES_CHARS) {
    delete out.classes;
    out.classesOmitted = true;
  }
  return out;
}

/** A state as a compact, URL-safe token. */
export function encodeLink(s: ViewState): string {
  return toBase64Url(JSON.stringify(linkFields(s)));
}

/** The state a link describes, on top of `local` for what links do not carry; null if invalid. */
export function decodeLink(token: string, local: ViewState): ViewState | null {
  let raw: unknown;
  try {
    raw = JSON.parse(fromBase64Url(token));
  } catch {
    return null;
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return null;
  const o = raw as Record<string, unknown>;
  const s = parseState(o);
  s.autoRefresh = local.autoRefresh;
  s.settingsOpen = local.settingsOpen;
  if (o.classesOmitted === true) s.classes = local.classes;
  return s;
}

/** Reads and writes the link in the parent window (TensorBoard's), when reachable. */
export class LinkSync {
  private last: string | null = null;
  private listener: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private queued: ViewState | null = null;

  /** `delayMs`: writes wait this long for the state to settle (a slider drag or a wheel zoom
   * would otherwise call replaceState dozens of times a second, which browsers throttle). */
  constructor(
    private readonly win: Window | null,
    private readonly delayMs = 0,
  ) {}

  private location(): Location | null {
    try {
      const loc = this.win?.location;
      // cross-origin parents throw on read; a missing one gives undefined
      return loc && typeof loc.hash === "string" ? loc : null;
    } catch {
      return null;
    }
  }

  /** The token in the URL, if any. */
  read(): string | null {
    const loc = this.location();
    if (!loc) return null;
    const token = parseHash(loc.hash).params.get(LINK_KEY) ?? null;
    this.last = token;
    return token;
  }

  /** Puts the state into the URL while the Per-Class tab is the active one. */
  write(s: ViewState): void {
    if (this.delayMs <= 0) {
      this.writeNow(s);
      return;
    }
    this.queued = JSON.parse(JSON.stringify(s)) as ViewState;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const q = this.queued;
      this.queued = null;
      if (q) this.writeNow(q);
    }, this.delayMs);
  }

  private writeNow(s: ViewState): void {
    const loc = this.location();
    if (!loc || !this.win) return;
    const { tab } = parseHash(loc.hash);
    if (tab !== TAB_ID) return;
    const token = encodeLink(s);
    if (token === this.last && parseHash(loc.hash).params.get(LINK_KEY) === token) return;
    const empty = token === encodeLink(defaultState());
    const hash = hashWith(loc.hash, LINK_KEY, empty ? null : token);
    try {
      const h = this.win.history;
      h.replaceState(h.state, "", `${loc.pathname}${loc.search}${hash}`);
      this.last = empty ? null : token;
    } catch {
      // not allowed: links just do not carry the state
    }
  }

  /** Calls `cb(token)` when the user changes the link by hand (e.g. pastes another one). */
  listen(cb: (token: string) => void): void {
    if (!this.win || !this.location()) return;
    this.listener = () => {
      const loc = this.location();
      if (!loc) return;
      const { tab, params } = parseHash(loc.hash);
      const token = params.get(LINK_KEY) ?? null;
      if (tab === TAB_ID && token !== null && token !== this.last) {
        this.last = token;
        cb(token);
      }
    };
    try {
      this.win.addEventListener("hashchange", this.listener);
    } catch {
      this.listener = null;
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.listener && this.win) {
      try {
        this.win.removeEventListener("hashchange", this.listener);
      } catch {
        // ignore
      }
    }
    this.listener = null;
  }
}
