// @vitest-environment node
import { describe, expect, it } from "vitest";
import {
  classIndex,
  correctText,
  countSeries,
  evidenceText,
  latestCountsText,
  mapSelection,
} from "../src/dynamics/dynamics-model";
import { decodeColumns, parseDataMap, parseDynamicsList } from "../src/data/answers";
import type { DynamicsCounts } from "../src/data/types";
import { columnsBuffer, dataMap } from "./dynamics-fixtures";

describe("the Dynamics view's model", () => {
  it("reads the data map's columns and refuses what does not fit", () => {
    const map = dataMap();
    expect(map.count).toBe(5);
    expect(Array.from(map.label)).toEqual([0, 1, 1, 0, 1]);
    const short = columnsBuffer({ step: 0, count: 2, class_names: ["a"] }, [
      ["id", "u32", [0]],
      ["label", "u32", [0, 0]],
      ["confidence", "u8", [0, 0]],
      ["variability", "u8", [0, 0]],
      ["correctness", "u8", [0, 0]],
    ]);
    expect(() => parseDataMap(short)).toThrow(/id does not have one value per point/);
    const badLabel = columnsBuffer({ step: 0, count: 1, class_names: ["a"] }, [
      ["id", "u32", [0]],
      ["label", "u32", [4]],
      ["confidence", "u8", [0]],
      ["variability", "u8", [0]],
      ["correctness", "u8", [0]],
    ]);
    expect(() => parseDataMap(badLabel)).toThrow(/a label is no class/);
    expect(() => decodeColumns(new ArrayBuffer(2), "data_map")).toThrow(/too short/);
  });

  it("draws the points of a class, rarely-correct on top, never the unvisited", () => {
    const map = dataMap();
    const all = mapSelection(map, null);
    expect(all.shown).toBe(4); // sample 2 was never visited
    expect(Array.from(all.order)).toEqual([0, 4, 3, 1]); // most correct first, drawn under
    expect(Array.from(mapSelection(map, 1).order)).toEqual([4, 1]);
    expect(mapSelection(map, 1)).toBe(mapSelection(map, 1)); // cached per answer and class
    expect(classIndex(map.class_names, "b")).toBe(1);
    expect(classIndex(map.class_names, "zz")).toBeNull();
  });

  it("sums the counts over classes, or takes one class's", () => {
    const counts = {
      steps: [0, 1],
      visited: [
        [2, 3],
        [4, 5],
      ],
      easy: [
        [0, 1],
        [2, 2],
      ],
      ambiguous: [
        [1, 1],
        [1, 2],
      ],
      hard: [
        [1, 1],
        [1, 1],
      ],
      likely_errors: [
        [1, 0],
        [1, 1],
      ],
      forgotten: [
        [0, 0],
        [1, 0],
      ],
    } as unknown as DynamicsCounts;
    const all = countSeries(counts, null);
    expect(all.visited).toEqual([5, 9]);
    expect(all.easy).toEqual([1, 4]);
    expect(countSeries(counts, 1).hard).toEqual([1, 1]);
    expect(latestCountsText(all)).toBe(
      "9 visited at step 1: 4 easy (44.4%), 3 ambiguous (33.3%), 2 hard to learn (22.2%), 2 likely label errors (22.2%), 1 forgotten at least once (11.1%)",
    );
  });

  it("keeps only well-formed list entries, and only the route's own media URLs", () => {
    const list = parseDynamicsList({
      step: 4,
      class_names: ["cat", "dog"],
      list: "errors",
      total: 3,
      samples: [
        {
          id: 7,
          label: 0,
          preferred: 1,
          visits: 5,
          forgets: 1,
          confidence: 0.1,
          variability: 0.05,
          correctness: 0.2,
          margin: -0.6,
          media: "dynamics_media?run=r&name=perclass&step=4&index=3&v=1.5",
          media_type: "image/png",
        },
        { id: 8, label: 5, preferred: 0, margin: -0.5 }, // no such class: dropped
        {
          id: 9,
          label: 1,
          preferred: 0,
          margin: -0.2,
          media: "javascript:alert(1)",
          media_type: "image/png",
        },
      ],
    });
    expect(list.samples.map((s) => s.id)).toEqual([7, 9]);
    expect(list.samples[0].media).toContain("dynamics_media?");
    expect(list.samples[1].media).toBeNull();
    expect(correctText(list.samples[0])).toBe("1 / 5");
    expect(evidenceText(list.samples[0], list.class_names)).toBe(
      "mean p(cat) 0.100, margin -0.600 (the model prefers dog), right in 1 of 5 visits, forgotten 1×",
    );
  });
});
