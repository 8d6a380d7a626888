import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath } from '@sparq/test-utils';
import { expect, it } from 'vitest';
import { ropeInvFreq } from './rope';

it('llama3-scaled inverse frequencies match the reference fixture', () => {
  const ref = JSON.parse(readFileSync(join(sharedPath('reference', 'tiny', 'llama3-rope'), 'reference.json'), 'utf8')) as { rope_inv_freq: number[] };
  const got = ropeInvFreq(16, 500000, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 });
  ref.rope_inv_freq.forEach((v, i) => expect(Math.abs(got[i]! - v) / v).toBeLessThan(1e-12));
});
