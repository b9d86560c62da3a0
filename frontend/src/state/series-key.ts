// How the view state and links name a series (a (run, name) pair of the tags route): the run
// alone for the writer's default name, so that the state of a logdir of Keras-style runs reads
// as before series had names, `run NUL name` otherwise (NUL occurs in no run or tag name).

/** The writer's default name (tag prefix): left out of labels and keys. */
export const DEFAULT_NAME = "perclass";

const SEP = "\u0000";

/** A series' key: its identity in maps, the view state and links. */
export function seriesKey(run: string, name: string): string {
  return name === DEFAULT_NAME ? run : `${run}${SEP}${name}`;
}

export function parseSeriesKey(key: string): { run: string; name: string } {
  const at = key.indexOf(SEP);
  return at < 0
    ? { run: key, name: DEFAULT_NAME }
    : { run: key.slice(0, at), name: key.slice(at + 1) };
}
