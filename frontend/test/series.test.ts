import { describe, expect, it } from "vitest";
import {
  allSeries,
  chooseGroup,
  chooseRankSeries,
  compactLabels,
  counterpartSeries,
  groupId,
  groupLabel,
  groupSeries,
  groupTitle,
  seriesLabel,
  shortRun,
  splitOfSeries,
  type Series,
} from "../src/data/series";
import { parseSeriesKey, seriesKey } from "../src/state/series-key";
import { assignDashes } from "../src/ui/colors";
import type { TagInfo, TagsResponse } from "../src/data/types";

const info = (classNames: string[], task = "multiclass"): TagInfo => ({
  kinds: ["stats"],
  task,
  class_names: classNames,
  num_classes: classNames.length,
  loss: "",
});
const TEN = Array.from({ length: 10 }, (_, i) => `c${i}`);

/** The two ways of organising one experiment: Keras-style runs, or one run with one name per split. */
const kerasRuns: TagsResponse = {
  "exp/validation": { perclass: info(TEN) },
  "exp/train": { perclass: info(TEN) },
};
const namedSplits: TagsResponse = { exp: { validation: info(TEN), train: info(TEN) } };

const ref = (run: string, name = "perclass") => ({ key: seriesKey(run, name), run, name });

describe("series keys and labels", () => {
  it("keys a series by its run for the default name, by run and name otherwise, and reads keys back", () => {
    expect(seriesKey("exp/train", "perclass")).toBe("exp/train");
    expect(seriesKey("exp", "train")).toBe("exp\u0000train");
    expect(parseSeriesKey("exp\u0000train")).toEqual({ run: "exp", name: "train" });
    expect(parseSeriesKey("exp/train")).toEqual({ run: "exp/train", name: "perclass" });
    expect(parseSeriesKey(seriesKey("a/b", "head/x"))).toEqual({ run: "a/b", name: "head/x" });
  });

  it("keeps an experiment's runs together when its name holds a number like another's", () => {
    const tags: TagsResponse = {
      "sweep/lr_0.1/validation": { perclass: info(TEN) },
      "sweep/lr_0.01/validation": { perclass: info(TEN) },
      "sweep/lr_0.1/train": { perclass: info(TEN) },
      "sweep/lr_0.01/train": { perclass: info(TEN) },
      "sweep/lr_0.01": { perclass: info(TEN) },
    };
    expect(allSeries(tags).map((s) => s.run)).toEqual([
      "sweep/lr_0.01",
      "sweep/lr_0.01/train",
      "sweep/lr_0.01/validation",
      "sweep/lr_0.1/train",
      "sweep/lr_0.1/validation",
    ]);
  });

  it("lists every (run, name) pair: runs naturally, the default name first", () => {
    const tags: TagsResponse = {
      "exp10/train": { perclass: info(TEN) },
      "exp2/train": { zeta: info(TEN), perclass: info(TEN), alpha: info(TEN) },
    };
    expect(allSeries(tags).map((s) => [s.run, s.name])).toEqual([
      ["exp2/train", "perclass"],
      ["exp2/train", "alpha"],
      ["exp2/train", "zeta"],
      ["exp10/train", "perclass"],
    ]);
  });

  it("gives both ways of organising a logdir the same series, in the same order, with the same splits", () => {
    const a = allSeries(kerasRuns);
    const b = allSeries(namedSplits);
    expect(a.map(splitOfSeries)).toEqual(["train", "validation"]);
    expect(b.map(splitOfSeries)).toEqual(["train", "validation"]);
    expect(a.map(seriesLabel)).toEqual(["exp/train", "exp/validation"]);
    expect(b.map(seriesLabel)).toEqual(["exp · train", "exp · validation"]);
    // train solid (0), validation dashed (1) either way
    for (const series of [a, b]) {
      const byKey = new Map(series.map((s) => [s.key, s]));
      const dashes = assignDashes(
        series.map((s) => s.key),
        (k) => splitOfSeries(byKey.get(k)!),
      );
      expect(series.map((s) => dashes.get(s.key))).toEqual([0, 1]);
    }
    expect(groupSeries(a).length).toBe(1);
    expect(groupSeries(b).length).toBe(1);
  });

  it("finds the split in the name's last path part first, then in the run's", () => {
    expect(splitOfSeries({ run: "exp", name: "val" })).toBe("validation");
    expect(splitOfSeries({ run: "exp", name: "head_a/validation" })).toBe("validation");
    expect(splitOfSeries({ run: "exp/train", name: "head_a" })).toBe("train");
    expect(splitOfSeries({ run: "exp/train", name: "perclass" })).toBe("train");
    expect(splitOfSeries({ run: "exp", name: "perclass" })).toBeNull();
    // a run literally named "perclass/..." is still a run
    expect(splitOfSeries({ run: "runs/test", name: "perclass" })).toBe("test");
  });

  it("labels: the run for the default name, run · name otherwise, the name alone for the root run", () => {
    expect(seriesLabel({ run: "exp/train", name: "perclass" })).toBe("exp/train");
    expect(seriesLabel({ run: "exp", name: "val" })).toBe("exp · val");
    expect(seriesLabel({ run: ".", name: "train" })).toBe("train");
  });

  it("shortens labels shown together to the parts that tell them apart", () => {
    const short = (series: ReturnType<typeof ref>[]) =>
      series.map((s) => compactLabels(series).get(s.key));
    expect(short([ref("exp1/train"), ref("exp1/validation")])).toEqual(["train", "validation"]);
    expect(short([ref("exp", "train"), ref("exp", "validation")])).toEqual(["train", "validation"]);
    expect(short([ref("a", "head"), ref("b", "head")])).toEqual(["a", "b"]);
    expect(short([ref("a", "train"), ref("b", "validation")])).toEqual([
      "a · train",
      "b · validation",
    ]);
    // runs and names both differ: the full labels, never a name that reads like a run
    expect(short([ref("exp", "train"), ref("exp2/train"), ref("exp2/validation")])).toEqual([
      "exp · train",
      "exp2/train",
      "exp2/validation",
    ]);
    expect(short([ref("exp", "perclass"), ref("exp", "head")])).toEqual(["exp", "head"]);
    expect(short([ref("exp", "head")])).toEqual(["head"]);
    expect(short([ref("exp")])).toEqual(["exp"]);
    expect(shortRun("exp1/train", ["exp1/train", "exp1/validation"])).toBe("train");
    expect(shortRun("a/train", ["a/train", "b/train"])).toBe("a/train");
  });
});

describe("groups of compatible series", () => {
  const multiHead: TagsResponse = {
    "exp/train": { perclass: info(TEN), aux: info(["no", "yes"], "binary") },
    "exp/validation": { perclass: info(TEN), aux: info(["no", "yes"], "binary") },
    other: { perclass: info(["x", "y", "z"]) },
  };

  it("groups series by task and class names, never mixing other class sets", () => {
    const groups = groupSeries(allSeries(multiHead));
    // the default first, then multiclass before the auxiliary binary head, then by size
    expect(groups.map((g) => g.series.map((s) => seriesLabel(s)))).toEqual([
      ["exp/train", "exp/validation"],
      ["other"],
      ["exp/train · aux", "exp/validation · aux"],
    ]);
    expect(groups.map((g) => g.task)).toEqual(["multiclass", "multiclass", "binary"]);
    // the same classes in another order, or another task, are another group
    expect(groupId("multiclass", ["a", "b"])).not.toBe(groupId("multiclass", ["b", "a"]));
    expect(groupId("multiclass", ["a", "b"])).not.toBe(groupId("binary", ["a", "b"]));
    expect(groupId("multiclass", ["a", "b"])).toBe(groupId("multiclass", ["a", "b"]));
  });

  it("lists an auxiliary head met first after the main one, and the largest multiclass set first", () => {
    // "aux" sorts before the default name of the run "a" only as a name; the run "0aux" comes first
    const tags: TagsResponse = {
      "0aux/train": { perclass: info(["no", "yes"], "binary") },
      "0aux/validation": { perclass: info(["no", "yes"], "binary") },
      "0aux/test": { perclass: info(["no", "yes"], "binary") },
      "exp/train": { perclass: info(TEN), aux: info(["p", "q", "r"]) },
      "exp/validation": { perclass: info(TEN), aux: info(["p", "q", "r"]) },
      small: { perclass: info(["x", "y"]) },
    };
    const groups = groupSeries(allSeries(tags));
    expect(groups.map(groupTitle)).toEqual([
      "10 classes",
      "aux · 3 classes",
      "2 classes",
      "binary · 2 classes",
    ]);
    expect(chooseGroup(groups, null)).toBe(groups[0]);
    // the multiclass set is shown first even when a binary set has more series
    expect(chooseGroup([...groups].reverse(), null)!.classNames).toEqual(TEN);
  });

  it("picks the user's group, else the most series, then the most classes", () => {
    const groups = groupSeries(allSeries(multiHead));
    expect(chooseGroup(groups, null)).toBe(groups[0]);
    expect(chooseGroup(groups, groups[2].id)).toBe(groups[2]);
    expect(chooseGroup(groups, "gone")).toBe(groups[0]);
    const tie = groupSeries(
      allSeries({ a: { perclass: info(["x", "y"]) }, b: { perclass: info(TEN) } }),
    );
    expect(chooseGroup(tie, null)!.classNames).toEqual(TEN);
    expect(chooseGroup([], null)).toBeNull();
  });

  it("labels groups by what tells them apart: names, task, class count, first classes", () => {
    const groups = groupSeries(allSeries(multiHead));
    expect(groupTitle(groups[0])).toBe("10 classes");
    expect(groupTitle(groups[2])).toBe("aux · binary · 2 classes");
    expect(groupLabel(groups[2])).toBe("aux · binary · 2 classes: no, yes");
    expect(groupLabel(groups[0])).toBe("10 classes: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9");
    // split names say nothing about the group
    const split = groupSeries(
      allSeries({
        exp: { "head_a/train": info(["p", "q"]), "head_a/val": info(["p", "q"]), train: info(TEN) },
      }),
    );
    expect(split.map(groupTitle)).toEqual(["head_a · 2 classes", "10 classes"]);
    const long = groupSeries(allSeries({ r: { perclass: info(["a".repeat(60), "b"]) } }))[0];
    expect(groupLabel(long).length).toBeLessThan(60);
  });
});

describe("rank series and counterparts", () => {
  it("ranks by a validation series unless told otherwise", () => {
    const named = [ref("exp", "train"), ref("exp", "validation")];
    expect(chooseRankSeries(named, null)!.name).toBe("validation");
    expect(chooseRankSeries(named, named[0].key)!.name).toBe("train");
    expect(chooseRankSeries([ref("exp2/train"), ref("exp2/validation")], null)!.run).toBe(
      "exp2/validation",
    );
    expect(chooseRankSeries([ref("a"), ref("b")], "gone")!.run).toBe("a");
    expect(chooseRankSeries([], null)).toBeNull();
  });

  it("finds the train/validation counterpart among runs, as before", () => {
    const runs = ["exp1/train", "exp1/validation", "exp2/train", "exp2/val", "other"].map((r) =>
      ref(r),
    );
    const other = (run: string, all = runs) => counterpartSeries(ref(run), all)?.run ?? null;
    expect(other("exp1/validation")).toBe("exp1/train");
    expect(other("exp1/train")).toBe("exp1/validation");
    expect(other("exp2/val")).toBe("exp2/train");
    expect(other("other")).toBeNull();
    expect(other("train", [ref("train"), ref("validation")])).toBe("validation");
    expect(other("exp3/train")).toBeNull();
  });

  it("finds it among the names of one run, per head", () => {
    const series: Series[] = allSeries({
      exp: {
        train: info(TEN),
        validation: info(TEN),
        "b/train": info(["p"]),
        "b/val": info(["p"]),
      },
      exp2: { validation: info(TEN) },
    });
    const find = (run: string, name: string) => {
      const s = series.find((x) => x.run === run && x.name === name)!;
      const c = counterpartSeries(s, series);
      return c ? seriesLabel(c) : null;
    };
    expect(find("exp", "train")).toBe("exp · validation");
    expect(find("exp", "validation")).toBe("exp · train");
    expect(find("exp", "b/val")).toBe("exp · b/train");
    expect(find("exp2", "validation")).toBeNull();
  });
});
