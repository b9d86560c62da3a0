// Builds src/index.ts into one reproducible ES module:
//   tb_perclass/plugin/static/index.js
// Usage: npm run build [-- --outdir <dir>]   (or PERCLASS_OUTDIR=<dir> npm run build)
// The output carries no timestamps, absolute paths or sourcemaps, so a fresh build
// is byte-for-byte equal to the committed file (tests/test_frontend_bundle.py checks it).
import { build, transform } from "esbuild";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
process.chdir(here);

function outdirFromArgs(argv) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--outdir") return argv[i + 1];
    if (argv[i].startsWith("--outdir=")) return argv[i].slice("--outdir=".length);
  }
  return undefined;
}

const outdir = resolve(
  outdirFromArgs(process.argv.slice(2)) ??
    process.env.PERCLASS_OUTDIR ??
    resolve(here, "../tb_perclass/plugin/static"),
);

// `import text from "./file.css?raw"` gives the file's text (same as Vite, so vitest agrees).
const rawPlugin = {
  name: "raw",
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, async (args) => {
      const r = await b.resolve(args.path.slice(0, -"?raw".length), {
        kind: args.kind,
        resolveDir: args.resolveDir,
      });
      if (r.errors.length) return { errors: r.errors };
      return { path: r.path, namespace: "raw" };
    });
    b.onLoad({ filter: /.*/, namespace: "raw" }, async (args) => {
      let contents = await readFile(args.path, "utf8");
      if (args.path.endsWith(".css")) {
        contents = (await transform(contents, { loader: "css", minify: true, target: ["chrome100"] })).code;
      }
      return { contents, loader: "text" };
    });
  },
};

const result = await build({
  entryPoints: ["src/index.ts"],
  outfile: resolve(outdir, "index.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  minify: true,
  sourcemap: false,
  legalComments: "eof",
  charset: "utf8",
  plugins: [rawPlugin],
  logLevel: "warning",
  absWorkingDir: here,
  metafile: true,
});

const out = Object.entries(result.metafile.outputs)[0];
console.log(`built ${resolve(outdir, "index.js")} (${out[1].bytes} bytes)`);
