// Dynamics answers for the tests: the data_map route's binary layout built in memory.
import { parseDataMap } from "../src/data/answers";
import type { DataMap } from "../src/data/types";

/** The data_map route's binary layout (tb_perclass/plugin/binary_encoding.encode_columns). */
export function columnsBuffer(
  header: Record<string, unknown>,
  columns: [string, "u8" | "u32", number[]][],
): ArrayBuffer {
  const described = columns.map(([k, t, v]) => [k, t, v.length]);
  let text = JSON.stringify({ ...header, columns: described });
  text += " ".repeat((4 - (text.length % 4)) % 4);
  const parts: Uint8Array[] = [new TextEncoder().encode(text)];
  for (const [, t, v] of columns) {
    const data = t === "u8" ? Uint8Array.from(v) : new Uint8Array(Uint32Array.from(v).buffer);
    const padded = new Uint8Array(data.length + ((4 - (data.length % 4)) % 4));
    padded.set(data);
    parts.push(padded);
  }
  const total = 4 + parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, parts[0].length, true);
  let offset = 4;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out.buffer;
}

export function dataMap(): DataMap {
  return parseDataMap(
    columnsBuffer({ step: 3, steps: [0, 3], count: 5, size: 5, class_names: ["a", "b"] }, [
      ["id", "u32", [0, 1, 2, 3, 4]],
      ["label", "u32", [0, 1, 1, 0, 1]],
      ["confidence", "u8", [254, 10, 255, 127, 200]],
      ["variability", "u8", [0, 20, 255, 200, 50]],
      ["correctness", "u8", [254, 0, 255, 127, 254]],
    ]),
  );
}
