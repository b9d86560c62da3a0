// What the tab asks the plugin's routes for (the routes: docs/data-contract.md). Views and the app
// use this interface; http-api.ts implements it over HTTP, the tests with in-memory answers.
import type {
  ConfusionData,
  CurvesResponse,
  DataMap,
  DiffData,
  DynamicsCounts,
  DynamicsList,
  DynamicsListKind,
  PairsResponse,
  ReportResponse,
  SampleFilter,
  SampleHistory,
  SampleOrder,
  SamplesResponse,
  ScoresResponse,
  TagsResponse,
} from "./types";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Api {
  tags(): Promise<TagsResponse>;
  curves(run: string, name: string): Promise<CurvesResponse>;
  /** the latest step when `step` is null */
  confusion(run: string, name: string, step: number | null): Promise<ConfusionData>;
  pairs(run: string, name: string, step: number | null, limit?: number): Promise<PairsResponse>;
  /** (run, name)@step minus (baseRun, baseName)@baseStep; baseName defaults to name */
  diff(
    run: string,
    name: string,
    step: number,
    baseRun: string,
    baseStep: number,
    limit?: number,
    baseName?: string,
  ): Promise<DiffData>;
  report(run: string, name: string, step: number | null): Promise<ReportResponse>;
  /** one step's score histograms: every class's AP, AUROC and calibration, and the curves
   * (counts per threshold) and reliability of the listed classes (the latest step when null) */
  scores(
    run: string,
    name: string,
    step: number | null,
    classes: number[],
  ): Promise<ScoresResponse>;
  /** a permutation of the class indices (`by` = "cluster") */
  order(run: string, name: string, step: number | null, by: string): Promise<number[]>;
  /** the steps that have data of one kind ("stats", "confusion", "samples" or "scores") */
  steps(run: string, name: string, kind: string): Promise<number[]>;
  /** the kept mistakes at a step (the latest with kept samples when `step` is null) */
  samples(
    run: string,
    name: string,
    step: number | null,
    filter: SampleFilter,
    order: SampleOrder,
  ): Promise<SamplesResponse>;
  /** where a sample (by id) was kept as a mistake, step by step */
  sampleHistory(run: string, name: string, id: string): Promise<SampleHistory>;
  /** a text sample's content, from its (relative) blob URL */
  text(url: string): Promise<string>;
  /** the tracked samples' per-class counts at every step */
  dynamics(run: string, name: string): Promise<DynamicsCounts>;
  /** one snapshot's data map (the latest when `step` is null) */
  dataMap(run: string, name: string, step: number | null): Promise<DataMap>;
  /** one snapshot's ranked likely label errors or most forgotten samples */
  dynamicsList(
    run: string,
    name: string,
    step: number | null,
    list: DynamicsListKind,
    label: number | null,
    limit: number,
  ): Promise<DynamicsList>;
}
