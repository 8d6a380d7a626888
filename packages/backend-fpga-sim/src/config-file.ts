/** Reading an architecture config from a JSON file. */
import { readFileSync } from 'node:fs';
import { SparqError } from '@sparq/tensor';
import { type FpgaConfig, resolveFpgaConfig } from './config';

/** Reads, merges over the defaults and validates the architecture config in `file`. */
export function readFpgaConfigFile(file: string): FpgaConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SparqError('E_IO', `cannot read architecture config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      details: { file },
      cause: e,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SparqError('E_CONFIG', `architecture config ${file} is not valid JSON: ${(e as Error).message}`, { details: { file }, cause: e });
  }
  return resolveFpgaConfig(json, file);
}
