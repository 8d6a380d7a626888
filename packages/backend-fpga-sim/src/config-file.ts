/** Reading the simulator's JSON files (architecture configs, plans) with clear errors. */
import { readFileSync } from 'node:fs';
import { SparqError } from '@sparq/tensor';
import { type FpgaConfig, resolveFpgaConfig } from './config';

/** Reads and parses JSON `file`; `what` names it in errors (`architecture config`, `plan file`). */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SparqError('E_IO', `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      details: { file },
      cause: e,
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SparqError('E_CONFIG', `${what} ${file} is not valid JSON: ${(e as Error).message}`, { details: { file }, cause: e });
  }
}

/** Reads, merges over the defaults and validates the architecture config in `file`. */
export function readFpgaConfigFile(file: string): FpgaConfig {
  return resolveFpgaConfig(readJsonFile(file, 'architecture config'), file);
}
