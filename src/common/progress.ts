/** One progress report from a long-running operation (pull, push, build, load, import). */
export interface ProgressEvent {
  id?: string;
  status: string;
  progress?: { current: number; total?: number };
  stream?: string;
  aux?: unknown;
}
export type ProgressSink = (event: ProgressEvent) => void;
export const nullSink: ProgressSink = () => {};
