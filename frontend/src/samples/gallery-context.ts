// What the samples gallery is given by the view it sits in (the matrix view, or the samples view
// of a run without a matrix), and how it tells that view what changed.
import type { Api } from "../data/api";
import type { GalleryState } from "../state/view-state";

export interface GalleryContext {
  api: Api;
  run: string;
  name: string;
  task: string;
  classNames: string[];
  /** the step the matrix shows: the gallery follows it; null = the latest step with kept
   * samples (a run without a matrix: the samples route resolves it) */
  step: number | null;
  /** the run keeps samples (the tags route lists "samples" among its kinds) */
  hasSamples: boolean;
  refreshId: number;
  state: GalleryState;
  /** the matrix's count of mistakes in the scope at this step; null when unknown */
  mistakes: number | null;
  /** changes the gallery's state (null closes it) */
  setGallery(next: GalleryState | null, opts?: { rerender?: boolean }): void;
  /** moves the step slider */
  setStep(step: number | null): void;
  /** false: the gallery is the whole view (no close button, Escape does not close it) */
  closable?: boolean;
  /** told the run's steps with kept samples whenever an answer lists them (they drive the
   * slider of a run without a matrix) */
  onSteps?(run: string, name: string, steps: number[]): void;
}
