/** What a loaded model is made of and where it came from (shared by the Node and browser loaders). */
import type { CausalLM } from './model';
import type { Tokenizer } from './tokenizer/types';

/** Where a model came from. */
export interface ModelSource {
  /** `sparq`: a sparq container (an HF-shaped folder with `sparq.json`; packed weights decoded on read). */
  kind: 'hf' | 'llama2c' | 'sparq';
  path: string;
}

/** Progress of {@link loadModel}: blocks loaded so far. */
export interface LoadProgress {
  done: number;
  total: number;
}

/** What {@link loadModel} returns. */
export interface LoadedModel {
  model: CausalLM;
  tokenizer: Tokenizer;
  source: ModelSource;
}
