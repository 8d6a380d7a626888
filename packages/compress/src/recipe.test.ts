import { describe, expect, it } from 'vitest';
import { compileNamePattern } from './name-match';
import { planCompression, type LinearShape } from './plan';
import { parseRecipe, validateRecipe } from './recipe';

/** Runs `f` and returns the SparqError it throws (fails when it does not throw). */
function caught(f: () => unknown): { code: string; message: string; hint?: string; details: Record<string, unknown> } {
  try {
    f();
  } catch (e) {
    return e as never;
  }
  throw new Error('expected an error');
}

const YAML = `
stages:
  - type: prune
    method: sparsegpt
    pattern: "2:4"
  - type: quantize
    method: rtn
    bits: 4
    group: 32
targets: ["*"]
ignore: ["*.mlp.down_proj"]
overrides:
  - match: "model.layers.0.*"
    pattern: "4:8"
calibration: { source: self, samples: 16, seqlen: 64, seed: 3 }
`;

describe('recipe validation', () => {
  it('parses YAML and fills every default', () => {
    const r = parseRecipe(YAML, 'r.yaml');
    expect(r.stages[0]).toEqual({ type: 'prune', method: 'sparsegpt', pattern: '2:4', blockSize: 128, percDamp: 0.01, tieRule: 'exact' });
    expect(r.stages[1]).toMatchObject({ type: 'quantize', method: 'rtn', bits: 4, group: 32, sym: false, actOrder: false, clipSearch: false });
    expect(r.calibration).toEqual({ source: 'self', samples: 16, seqlen: 64, seed: 3, batchSize: 8 });
    expect(r.overrides).toEqual([{ match: 'model.layers.0.*', pattern: '4:8' }]);
  });

  it('reads the same document written as JSON', () => {
    const json = JSON.stringify({
      stages: [
        { type: 'prune', method: 'sparsegpt', pattern: '2:4' },
        { type: 'quantize', method: 'rtn', bits: 4, group: 32 },
      ],
      targets: ['*'],
      ignore: ['*.mlp.down_proj'],
      overrides: [{ match: 'model.layers.0.*', pattern: '4:8' }],
      calibration: { source: 'self', samples: 16, seqlen: 64, seed: 3 },
    });
    expect(parseRecipe(json)).toEqual(parseRecipe(YAML));
  });

  it('defaults: all linears, self calibration of 128 sequences; per-channel spelled "channel" or -1', () => {
    const r = validateRecipe({ stages: [{ type: 'quantize', method: 'gptq', bits: 3, group: 'channel' }] });
    expect(r.targets).toEqual(['*']);
    expect(r.ignore).toEqual([]);
    expect(r.calibration).toEqual({ source: 'self', samples: 128, seed: 0, batchSize: 8 });
    expect((r.stages[0] as { group: number }).group).toBe(-1);
    const s = validateRecipe({ stages: [{ type: 'quantize', method: 'spqr' }] }).stages[0];
    expect(s).toMatchObject({ bits: 3, group: 16, spqr: { outlierThreshold: 0.2, statBits: 3, statGroupRows: 16 } });
  });

  it('is idempotent: a validated recipe (as stored in reports) validates to itself', () => {
    for (const doc of [
      parseRecipe(YAML),
      validateRecipe({ stages: [{ type: 'quantize', method: 'spqr', spqr: { outlierThreshold: 0.5 } }] }),
      validateRecipe({ stages: [{ type: 'joint', pattern: '4:8', bits: 3, group: 32, sym: true }], overrides: [{ match: '*', skip: true }] }),
    ]) {
      expect(validateRecipe(JSON.parse(JSON.stringify(doc)))).toEqual(doc);
    }
  });

  it.each([
    [{ stages: [{ type: 'prune', method: 'magnitude', pattern: '50%' }], bogus: 1 }, 'bogus', /unknown key/],
    [{ stages: [{ type: 'prune', method: 'magnitude', pattern: '50%', blocksize: 64 }] }, 'stages[0].blocksize', /unknown key/],
    [{ stages: [{ type: 'prune', method: 'magnitude', pattern: '5:4' }] }, 'stages[0].pattern', /N:M/],
    [{ stages: [{ type: 'prune', method: 'magnitude', pattern: '150%' }] }, 'stages[0].pattern', /\[0, 1\)/],
    [{ stages: [{ type: 'prune', method: 'obs', pattern: '50%' }] }, 'stages[0].method', /magnitude \| wanda \| sparsegpt/],
    [{ stages: [{ type: 'prune', method: 'wanda' }] }, 'stages[0].pattern', /required/],
    [{ stages: [{ type: 'quantize', method: 'rtn', bits: 9 }] }, 'stages[0].bits', /2, 3, 4, 8/],
    [{ stages: [{ type: 'quantize', method: 'rtn', bits: 4, group: 0 }] }, 'stages[0].group', /positive integer/],
    [{ stages: [{ type: 'quantize', method: 'rtn', bits: 4, actOrder: true }] }, 'stages[0].actOrder', /Hessian/],
    [{ stages: [{ type: 'quantize', method: 'gptq', bits: 4, group: 32, actOrder: true }] }, 'stages[0].staticGroups', /contiguous/],
    [{ stages: [{ type: 'quantize', method: 'spqr', spqr: { outlierThreshold: 0.2, statbits: 3 } }] }, 'stages[0].spqr.statbits', /unknown key/],
    [{ stages: [{ type: 'quantize', method: 'gptq', spqr: {} }] }, 'stages[0].spqr', /only applies to method spqr/],
    [{ stages: [] }, 'stages', /at least one/],
    [{ stages: [{ type: 'quantize', method: 'rtn' }, { type: 'prune', method: 'magnitude', pattern: '2:4' }] }, 'stages', /before quantize/],
    [{ stages: [{ type: 'prune', method: 'wanda', pattern: '2:4' }, { type: 'quantize', method: 'gptq' }] }, 'stages[1].method', /overwrite pruned/],
    [{ stages: [{ type: 'joint', pattern: '2:4' }, { type: 'quantize', method: 'rtn' }] }, 'stages', /joint/],
    [{ stages: [{ type: 'quantize', method: 'rtn' }], overrides: [{ match: '*', pattern: '2:4' }] }, 'overrides[0].pattern', /no prune/],
    [{ stages: [{ type: 'quantize', method: 'rtn' }], overrides: [{ match: '*' }] }, 'overrides[0]', /changes nothing/],
    [{ stages: [{ type: 'quantize', method: 'rtn' }], targets: ['/[/'] }, 'targets[0]', /invalid regular expression/],
    [{ stages: [{ type: 'quantize', method: 'rtn' }], calibration: { samples: 0 } }, 'calibration.samples', /integer in \[1,/],
    [{ stages: [{ type: 'quantize', method: 'rtn' }], calibration: { seqLen: 8 } }, 'calibration.seqLen', /unknown key/],
    [{ version: 2, stages: [{ type: 'quantize', method: 'rtn' }] }, 'version', /unsupported/],
  ])('rejects %j as E_CONFIG at %s', (doc, keyPath, why) => {
    const e = caught(() => validateRecipe(doc));
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toContain(`recipe ${keyPath}`);
    expect(e.message).toMatch(why);
  });

  it('names the file and the line of a YAML syntax error', () => {
    const e = caught(() => parseRecipe('stages:\n  - type: prune\n   method: x: y\n', 'bad.yaml'));
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toMatch(/bad\.yaml \(line \d+, column \d+\)/);
    const v = caught(() => parseRecipe('stages: [{type: quantize, method: rtn, bits: 5}]', 'five.yaml'));
    expect(v.message).toContain('recipe five.yaml: stages[0].bits');
  });
});

describe('name patterns', () => {
  it('globs match the whole name (* spans dots); /regex/ is searched', () => {
    const n = 'model.layers.3.self_attn.q_proj';
    expect(compileNamePattern('*')(n)).toBe(true);
    expect(compileNamePattern('*.q_proj')(n)).toBe(true);
    expect(compileNamePattern('q_proj')(n)).toBe(false);
    expect(compileNamePattern('model.layers.?.self_attn.*')(n)).toBe(true);
    expect(compileNamePattern('model.layers.?.self_attn.*')('model.layers.13.self_attn.q_proj')).toBe(false);
    expect(compileNamePattern('/q_proj$/')(n)).toBe(true);
    expect(compileNamePattern('/LAYERS\\.3/i')(n)).toBe(true);
    expect(compileNamePattern('/layers\\.4/')(n)).toBe(false);
    // Regex metacharacters in a glob are literal.
    expect(compileNamePattern('a+b')('a+b')).toBe(true);
    expect(compileNamePattern('a+b')('aab')).toBe(false);
  });
});

/** stories260K's linear shapes (dim 64, hidden 172, kv dim 32), two blocks. */
function shapes(blocks = 2): LinearShape[] {
  const out: LinearShape[] = [];
  for (let i = 0; i < blocks; i++) {
    const p = `model.layers.${i}`;
    out.push(
      { name: `${p}.self_attn.q_proj`, rows: 64, cols: 64 },
      { name: `${p}.self_attn.k_proj`, rows: 32, cols: 64 },
      { name: `${p}.self_attn.v_proj`, rows: 32, cols: 64 },
      { name: `${p}.self_attn.o_proj`, rows: 64, cols: 64 },
      { name: `${p}.mlp.gate_proj`, rows: 172, cols: 64 },
      { name: `${p}.mlp.up_proj`, rows: 172, cols: 64 },
      { name: `${p}.mlp.down_proj`, rows: 64, cols: 172 },
    );
  }
  return out;
}

describe('planCompression', () => {
  it('applies targets, ignore and overrides (later overrides win) and classifies the statistics needed', () => {
    const r = parseRecipe(YAML);
    const plan = planCompression(r, shapes());
    expect(plan.dense).toEqual(['model.layers.0.mlp.down_proj', 'model.layers.1.mlp.down_proj']);
    expect(plan.linears.size).toBe(12);
    const q0 = plan.linears.get('model.layers.0.self_attn.q_proj')!;
    expect(q0.prune).toMatchObject({ method: 'sparsegpt', patternText: '4:8', pattern: { kind: 'nm', n: 4, m: 8 } });
    expect(q0.quantize).toMatchObject({ method: 'rtn', bits: 4, groupSize: 32 });
    expect(q0.needs).toBe('hessian');
    expect(plan.linears.get('model.layers.1.self_attn.q_proj')!.prune!.patternText).toBe('2:4');

    const later = validateRecipe({
      stages: [{ type: 'quantize', method: 'rtn', bits: 4, group: 32 }],
      overrides: [
        { match: '*.mlp.*', bits: 8 },
        { match: '*.down_proj', bits: 2, group: -1 },
        { match: 'model.layers.1.*', skip: true },
      ],
    });
    const p2 = planCompression(later, shapes());
    expect(p2.linears.get('model.layers.0.mlp.down_proj')!.quantize).toMatchObject({ bits: 2, groupSize: 172 });
    expect(p2.linears.get('model.layers.0.mlp.up_proj')!.quantize).toMatchObject({ bits: 8, groupSize: 32 });
    expect(p2.linears.get('model.layers.0.mlp.up_proj')!.needs).toBe('none');
    expect([...p2.linears.keys()].some((n) => n.startsWith('model.layers.1.'))).toBe(false);
    expect(p2.dense).toHaveLength(7);

    const wanda = validateRecipe({ stages: [{ type: 'prune', method: 'wanda', pattern: '50%' }] });
    expect(planCompression(wanda, shapes()).linears.get('model.layers.0.mlp.up_proj')!.needs).toBe('meanSquare');
  });

  it('rejects a group that does not divide a layer input, naming key path, layer and the divisors', () => {
    const r = validateRecipe({ stages: [{ type: 'quantize', method: 'gptq', bits: 4, group: 32 }] });
    const e = caught(() => planCompression(r, shapes()));
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toContain('recipe stages[0].group: group 32 does not divide the input dimension 172');
    expect(e.message).toContain('model.layers.0.mlp.down_proj');
    expect(e.hint).toContain('1, 2, 4, 43, 86, 172');
    const fixed = validateRecipe({
      stages: [{ type: 'quantize', method: 'gptq', bits: 4, group: 32 }],
      overrides: [{ match: '*.down_proj', group: -1 }],
    });
    expect(planCompression(fixed, shapes()).linears.get('model.layers.1.mlp.down_proj')!.quantize!.groupSize).toBe(172);
    const ov = validateRecipe({ stages: [{ type: 'quantize', method: 'rtn' }], overrides: [{ match: '*.o_proj', group: 48 }] });
    expect(caught(() => planCompression(ov, shapes())).message).toContain('recipe overrides[0].group');
  });

  it('rejects N:M whose M does not divide the input, and N:M+quant groups that split N:M groups', () => {
    const r = validateRecipe({ stages: [{ type: 'prune', method: 'magnitude', pattern: '4:8' }] });
    const e = caught(() => planCompression(r, shapes()));
    expect(e.message).toContain('recipe stages[0].pattern: 4:8 needs the input dimension to be a multiple of 8');
    expect(e.details.tensor).toBe('model.layers.0.mlp.down_proj');
    const j = validateRecipe({ stages: [{ type: 'joint', pattern: '4:8', bits: 4, group: 4 }], ignore: ['*.down_proj'] });
    expect(caught(() => planCompression(j, shapes())).message).toMatch(/stages\[0\]\.group: group 4 must be a multiple of M = 8/);
  });

  it('rejects a target that matches nothing; warns for ignore/override entries that match nothing', () => {
    const r = validateRecipe({ stages: [{ type: 'quantize', method: 'rtn' }], targets: ['*.q_proj', 'layers.*'] });
    const e = caught(() => planCompression(r, shapes()));
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toContain('"layers.*" matches no linear layer');
    const w = validateRecipe({ stages: [{ type: 'quantize', method: 'rtn' }], ignore: ['*.c_fc'], overrides: [{ match: '/wq/', bits: 8 }] });
    expect(planCompression(w, shapes()).warnings).toEqual([
      'ignore "*.c_fc" matches no linear layer',
      'overrides[0] (match "/wq/") matches no linear layer',
    ]);
  });

  it("a 'dense' override (0 %) removes the pruning: the layer stays dense, or is only quantized", () => {
    const r = validateRecipe({ stages: [{ type: 'prune', method: 'sparsegpt', pattern: '2:4' }], overrides: [{ match: '*.o_proj', pattern: 'dense' }] });
    const p = planCompression(r, shapes(1));
    expect(p.dense).toEqual(['model.layers.0.self_attn.o_proj']);
    const q = validateRecipe({
      stages: [
        { type: 'prune', method: 'wanda', pattern: '50%' },
        { type: 'quantize', method: 'rtn', bits: 4 },
      ],
      overrides: [{ match: '*.o_proj', pattern: 'dense' }],
    });
    const o = planCompression(q, shapes(1)).linears.get('model.layers.0.self_attn.o_proj')!;
    expect(o.prune).toBeUndefined();
    expect(o.quantize).toMatchObject({ method: 'rtn', bits: 4 });
    expect(o.needs).toBe('none');
  });

  it('a joint stage plans SparseGPT with the column quantizer', () => {
    const r = validateRecipe({ stages: [{ type: 'joint', pattern: '2:4', bits: 4 }] });
    const p = planCompression(r, shapes(1)).linears.get('model.layers.0.mlp.down_proj')!;
    expect(p.joint).toBe(true);
    expect(p.prune).toMatchObject({ method: 'sparsegpt', patternText: '2:4' });
    expect(p.quantize).toMatchObject({ method: 'joint', bits: 4, groupSize: 172 });
    expect(p.needs).toBe('hessian');
  });
});
