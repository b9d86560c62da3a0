"""How fast the Per-Class tab draws a 1000 x 1000 confusion matrix, in headless Chromium.

Two measurements (medians over --repeats runs; reported, not asserted; target: draw <= 100 ms):

1. The heatmap module alone: frontend/src's HeatCanvas, rasteriser and ConfusionModel, bundled
   on the fly with the locked esbuild, drawing a 1000-class matrix into an 800 x 800 px canvas:
   - raster: the cells into ImageData (ui/heat-raster.ts), one pass over every cell
   - draw: raster + putImageData + labels + overlay (what a redraw costs on zoom or hover-free
     state changes)
   - decode: the route's JSON text -> parsed -> dense counts -> row-normalised values
     (what a new step costs before drawing), for the sparse and the dense encoding
2. The real tab (the committed bundle) in a real tensorboard process on a 1000-class logdir
   written by PerClassWriter: time from clicking the Confusion tab to the drawn matrix (route
   fetch + JSON decode + model + draw), and the draw time of switching the normalisation.

    python -m bench.heatmap_draw [--classes 1000] [--repeats 15] [--no-tensorboard]

Needs Node with `npm ci --prefix frontend` done, and Chromium (/usr/bin/chromium, or CHROMIUM).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"

from scripts import screenshot as shot  # noqa: E402

ENTRY = r"""
import { HeatCanvas } from "./ui/heat-canvas";
import { renderHeatmap } from "./ui/heat-raster";
import { BLUES, ColorScale } from "./ui/color-scale";
import { ConfusionModel } from "./confusion/matrix";
import { parseConfusion } from "./data/answers";

function synth(n) {
  // like a trained 1000-class model: a strong diagonal, ~30 confusions per class
  const counts = new Float64Array(n * n);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < n; i++) {
    counts[i * n + i] = 40 + Math.floor(rnd() * 20);
    for (let k = 0; k < 30; k++) counts[i * n + Math.floor(rnd() * n)] += 1 + Math.floor(rnd() * 3);
  }
  return counts;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

window.runBench = (n, repeats) => {
  const counts = synth(n);
  const names = Array.from({ length: n }, (_, i) => `class_${i}`);
  const model = new ConfusionModel(counts, n);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const values = model.values("counts");
  const scale = new ColorScale({ kind: "sequential", min: 0, max: model.maxValue("counts", false), log: true, eps: 1, stops: BLUES });
  const source = { values, stride: n, rowIdx: order, colIdx: order, maskDiagonal: false, pool: "max" };

  // 1. raster only, 800 x 800 device px
  const img = new ImageData(800, 800);
  const raster = [];
  for (let k = 0; k < repeats; k++) {
    const t = performance.now();
    renderHeatmap(img.data, 800, 800, source, { r0: 0, r1: n, c0: 0, c1: n }, scale);
    raster.push(performance.now() - t);
  }

  // 2. the component's full draw (raster + putImageData + labels), as the tab does it
  const box = document.createElement("div");
  box.style.cssText = "position:relative;width:900px;height:860px";
  document.body.appendChild(box);
  const heat = new HeatCanvas({ onViewport() {}, onHover() {} });
  box.appendChild(heat.element);
  const spec = {
    nRows: n, nCols: n, source, scale,
    rowLabel: (r) => names[r], colLabel: (c) => names[c],
    rowTitle: "True class", colTitle: "Predicted class", colLabelStyle: "names", square: true,
  };
  const draw = [];
  const rasterInDraw = [];
  for (let k = 0; k < repeats; k++) {
    heat.set(spec, null);
    draw.push(heat.lastDrawMs);
    rasterInDraw.push(heat.lastRasterMs);
  }
  // zoomed in: 21 x 21 cells with labels and values
  const zoomed = [];
  for (let k = 0; k < repeats; k++) {
    heat.set({ ...spec, cellText: (r, c) => String(values[r * n + c]) }, { r0: 490, r1: 511, c0: 490, c1: 511 });
    zoomed.push(heat.lastDrawMs);
  }

  // 3. decoding a step: JSON text -> parse -> model -> row-normalised values
  const rows = [], cols = [], vals = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (counts[i * n + j]) { rows.push(i); cols.push(j); vals.push(counts[i * n + j]); }
  const base = { run: "r", name: "perclass", task: "multiclass", step: 1, steps: [0, 1], class_names: names, total: 0 };
  const sparseText = JSON.stringify({ ...base, encoding: "sparse", rows, cols, counts: vals });
  const dense = [];
  for (let i = 0; i < n; i++) dense.push(Array.from(counts.subarray(i * n, (i + 1) * n)));
  const denseText = JSON.stringify({ ...base, encoding: "dense", matrix: dense });
  const decode = (text) => {
    const out = [];
    for (let k = 0; k < repeats; k++) {
      const t = performance.now();
      const cm = parseConfusion(JSON.parse(text));
      const m = new ConfusionModel(cm.counts, cm.n);
      m.values("row");
      m.maxValue("row", true);
      out.push(performance.now() - t);
    }
    return out;
  };
  const sparse = decode(sparseText);
  const denseT = decode(denseText);
  return {
    classes: n,
    nonzero: vals.length,
    raster_ms: median(raster),
    draw_ms: median(draw),
    draw_raster_ms: median(rasterInDraw),
    draw_zoomed_21_ms: median(zoomed),
    decode_sparse_ms: median(sparse),
    decode_dense_ms: median(denseT),
    sparse_json_bytes: sparseText.length,
    dense_json_bytes: denseText.length,
    canvas_px: `${heat.canvas.width}x${heat.canvas.height}`,
  };
};
"""

BUILD = r"""
import { build } from "esbuild";
const [entry, out] = process.argv.slice(1);
await build({
  stdin: { contents: entry, resolveDir: "src", loader: "ts", sourcefile: "bench-entry.ts" },
  bundle: true, format: "iife", platform: "browser", target: ["chrome100"], outfile: out,
  logLevel: "warning",
});
"""


def build_module_bench(out: Path) -> str:
    subprocess.run(
        ["node", "--input-type=module", "-e", BUILD, ENTRY, str(out)],
        cwd=FRONTEND,
        check=True,
        timeout=120,
    )
    return out.read_text()


def module_bench(browser, classes: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        code = build_module_bench(Path(tmp) / "bench.js")
    page = browser.new_page(viewport={"width": 1000, "height": 900}, device_scale_factor=1)
    page.set_content("<!doctype html><html><body style='margin:0'></body></html>")
    page.add_script_tag(content=code)
    result = page.evaluate("([n, r]) => window.runBench(n, r)", [classes, repeats])
    page.close()
    return result


def tab_bench(browser, classes: int, repeats: int) -> dict:
    from demo.synthetic_runs import write_runs
    from tests.helpers import TensorBoardProcess

    with tempfile.TemporaryDirectory(prefix="perclass-bench-") as tmp:
        write_runs(tmp, num_classes=classes, steps=4, samples_per_class=8)
        with TensorBoardProcess(tmp) as tb:
            tb.wait_for_runs(2)
            route = "/data/plugin/perclass/confusion?run=exp1/validation&name=perclass"
            t = time.perf_counter()
            status, body, _ = tb.get(route)
            fetch_ms = (time.perf_counter() - t) * 1000
            answer = json.loads(body)
            context = browser.new_context(viewport=shot.VIEWPORT, device_scale_factor=1)
            page = context.new_page()
            frame = shot.open_tab(page, tb.url)
            frame.wait_for_selector("[data-role=status]:has-text('Last loaded')", timeout=60_000)
            # time from the click to the drawn matrix, measured inside the page
            frame.evaluate(
                """(classes) => {
                    window.__drawn = new Promise((resolve) => {
                        const t0 = performance.now();
                        const obs = new MutationObserver(() => {
                            const heat = document.querySelector('[data-view=confusion] [data-role=heat]');
                            if (heat && heat.getAttribute('data-draw-ms') && heat.getAttribute('data-rows') === '0,' + classes) {
                                obs.disconnect();
                                resolve({ total: performance.now() - t0, draw: Number(heat.getAttribute('data-draw-ms')) });
                            }
                        });
                        obs.observe(document.body, { subtree: true, attributes: true, childList: true });
                    });
                    document.querySelector('[data-role=view-tab][data-value=confusion]').click();
                }""",
                classes,
            )
            first = frame.evaluate("() => window.__drawn")
            # redraws: switching the normalisation recomputes the values and redraws
            redraw = []
            for k in range(repeats):
                norm = ["row", "col", "counts"][k % 3]
                frame.click(f"[data-control=normalization] [data-value={norm}]")
                frame.wait_for_timeout(30)
                redraw.append(
                    float(
                        frame.locator("[data-view=confusion] [data-role=heat]").get_attribute(
                            "data-draw-ms"
                        )
                    )
                )
            context.close()
            return {
                "route_fetch_ms": round(fetch_ms, 1),
                "route_encoding": answer.get("encoding"),
                "route_bytes": len(body),
                "click_to_drawn_ms": round(first["total"], 1),
                "first_draw_ms": first["draw"],
                "redraw_median_ms": statistics.median(redraw),
            }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-tensorboard", action="store_true", help="only the module benchmark")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = shot.launch_browser(p)
        try:
            module = module_bench(browser, args.classes, args.repeats)
            print(
                f"heatmap module, {args.classes} x {args.classes} matrix ({module['nonzero']} nonzero cells), "
                f"canvas {module['canvas_px']}, median of {args.repeats}:"
            )
            print(f"  raster (cells -> ImageData, 800x800 px)   {module['raster_ms']:7.1f} ms")
            print(
                f"  draw (raster + putImageData + labels)      {module['draw_ms']:7.1f} ms   (target <= 100 ms)"
            )
            print(
                f"  draw zoomed to 21 x 21 cells with values   {module['draw_zoomed_21_ms']:7.1f} ms"
            )
            print(
                f"  decode a step, sparse JSON ({module['sparse_json_bytes'] / 1e6:.2f} MB)     "
                f"{module['decode_sparse_ms']:7.1f} ms"
            )
            print(
                f"  decode a step, dense JSON ({module['dense_json_bytes'] / 1e6:.2f} MB)      "
                f"{module['decode_dense_ms']:7.1f} ms"
            )
            if not args.no_tensorboard:
                tab = tab_bench(browser, args.classes, args.repeats)
                print(f"real tab (committed bundle, real tensorboard, {args.classes} classes):")
                print(
                    f"  confusion route: {tab['route_bytes'] / 1e3:.0f} kB {tab['route_encoding']}, "
                    f"{tab['route_fetch_ms']:.0f} ms from Python"
                )
                print(
                    f"  click on Confusion -> matrix drawn         {tab['click_to_drawn_ms']:7.1f} ms (fetch + decode + draw)"
                )
                print(
                    f"  of which the draw                           {tab['first_draw_ms']:7.1f} ms"
                )
                print(
                    f"  redraw on a normalisation switch (median)  {tab['redraw_median_ms']:7.1f} ms"
                )
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
