export interface FileTimeStart {
  at: number;
  cpu: { cpu: number; childCpu: number } | undefined;
}
export function startFileTime(): FileTimeStart;
export function recordFileTime(file: string, started: FileTimeStart): void;
