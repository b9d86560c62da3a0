import { describe, expect, it } from "vitest";
import {
  reportingSkipped,
  SkippedLog,
  skippedText,
  summarizeSkipped,
  type SkipSource,
} from "../src/data/skipped";
import type { Skip } from "../src/data/types";
import { defaultApi } from "./helpers";

const entries: Skip[] = [
  { step: 7, kind: "confusion", reason: "cells out of range" },
  { step: 3, kind: "confusion", reason: "cells out of range" },
  { step: 4, kind: "confusion", reason: "cells out of range" },
  { step: 2, kind: "stats", reason: "dtype string" },
];

describe("skipped steps", () => {
  it("groups steps by kind and reason", () => {
    expect(summarizeSkipped(entries)).toEqual([
      { kind: "confusion", reason: "cells out of range", steps: [3, 4, 7] },
      { kind: "stats", reason: "dtype string", steps: [2] },
    ]);
  });

  it("names the series (and the compared run of a diff), the steps and the reasons", () => {
    expect(skippedText({ run: "exp", name: "val" }, entries)).toBe(
      "Skipped malformed data of exp · val: confusion at steps 3, 4 and 7 (cells out of range); stats at step 2 (dtype string). The other steps are shown.",
    );
    expect(
      skippedText({ run: "a/validation", name: "perclass", baseRun: "a/train" }, entries.slice(3)),
    ).toBe(
      "Skipped malformed data of a/validation (compared with a/train): stats at step 2 (dtype string). The other steps are shown.",
    );
    const many = ["a", "b", "c", "d", "e"].map((reason, step) => ({
      step,
      kind: "samples",
      reason,
    }));
    expect(skippedText({ run: "r", name: "perclass" }, many)).toMatch(
      /; 2 more\. The other steps are shown\.$/,
    );
  });

  it("keeps what was skipped per series; a dismissed notice comes back only with new entries", () => {
    const log = new SkippedLog();
    const val: SkipSource = { run: "exp", name: "val" };
    const train: SkipSource = { run: "exp", name: "train" };
    expect(log.add(val, entries.slice(0, 2))).toBe(true);
    expect(log.add(val, entries.slice(0, 2))).toBe(false); // the same answer again
    expect(log.add(train, [])).toBe(false);
    expect(log.pending().map((p) => [p.source, p.entries.length])).toEqual([[val, 2]]);
    log.dismiss(log.pending()[0].id);
    expect(log.pending()).toEqual([]);
    expect(log.add(val, entries.slice(0, 2))).toBe(false);
    expect(log.pending()).toEqual([]);
    expect(log.add(val, entries.slice(2))).toBe(true);
    expect(log.pending()[0].entries).toEqual(entries.slice(2));
  });

  it("reports the skipped steps of the answers, with the series they came from", async () => {
    const api = defaultApi();
    const c = api.curvesData.validation;
    c.skipped = [{ step: 1, kind: "stats", reason: "bad" }];
    const seen: [SkipSource, Skip[]][] = [];
    const wrapped = reportingSkipped(api, (source, list) => seen.push([source, list]));
    await wrapped.curves("train", "perclass");
    await wrapped.curves("validation", "perclass");
    expect(seen).toEqual([
      [{ run: "validation", name: "perclass" }, [{ step: 1, kind: "stats", reason: "bad" }]],
    ]);
    expect(await wrapped.tags()).toEqual(await api.tags());
  });
});
