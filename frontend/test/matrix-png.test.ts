// @vitest-environment node
// The words of the matrix PNG: what a picture pasted into a report must say by itself.
import { describe, expect, it } from "vitest";
import { pngText } from "../src/confusion/matrix-png";

describe("the matrix PNG's title", () => {
  const look = { norm: "counts" as const, log: true, errorsOnly: false };

  it("names the series, the step, the classes and what the cells are", () => {
    expect(
      pngText({
        series: "digits/validation",
        step: 14,
        classes: 10,
        look,
        base: null,
        zoom: null,
        legendTitle: "Samples · log scale",
      }),
    ).toEqual({
      title: "Confusion matrix · digits/validation",
      subtitle: "step 14 · 10 classes · counts",
      legendTitle: "Samples · log scale",
    });
  });

  it("says when it is a difference, a share or a zoomed window", () => {
    const t = pngText({
      series: "exp · validation",
      step: 7,
      classes: 1000,
      look: { ...look, norm: "row" },
      base: "exp · train @ 7",
      zoom: "rows 1–21, columns 1–21 of 1000",
      legendTitle: "Change",
    });
    expect(t.subtitle).toBe(
      "step 7 · 1000 classes · change since exp · train @ 7 · rows 1–21, columns 1–21 of 1000",
    );
    expect(
      pngText({
        series: "r",
        step: 0,
        classes: 3,
        look: { ...look, norm: "col" },
        base: null,
        zoom: null,
        legendTitle: "",
      }).subtitle,
    ).toBe("step 0 · 3 classes · share of the predicted class (column)");
  });
});
