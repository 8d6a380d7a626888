/**
 * Name patterns of recipes (`targets`, `ignore`, `overrides[].match`): a glob
 * or a `/regex/flags` over HF linear names such as
 * `model.layers.3.self_attn.q_proj`.
 */
import { SparqError } from '@sparq/tensor';

/** A compiled name pattern. */
export type NameMatcher = (name: string) => boolean;

/**
 * Compiles a name pattern.
 *
 * - `/…/flags`: a JavaScript regular expression, *searched* in the name
 *   (unanchored: `/q_proj$/` matches every q_proj).
 * - anything else: a glob over the *whole* name; `*` matches any run of
 *   characters (dots included, so `*.mlp.*` spans layers), `?` one character.
 *
 * An invalid regex is `E_CONFIG` naming `keyPath`.
 * @example
 * compileNamePattern('model.layers.*.mlp.down_proj')('model.layers.3.mlp.down_proj'); // true
 * compileNamePattern('/layers\\.(0|1)\\./')('model.layers.1.self_attn.o_proj'); // true
 */
export function compileNamePattern(pattern: string, keyPath = 'pattern'): NameMatcher {
  const re = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  if (re) {
    let rx: RegExp;
    try {
      // The g and y flags make .test() stateful; they never make sense here.
      rx = new RegExp(re[1]!, re[2]!.replace(/[gy]/g, ''));
    } catch (e) {
      throw new SparqError('E_CONFIG', `${keyPath}: invalid regular expression ${pattern}: ${(e as Error).message}`, {
        details: { found: pattern, expected: 'a valid JavaScript regular expression' },
        cause: e,
      });
    }
    return (name) => rx.test(name);
  }
  let src = '';
  for (const ch of pattern) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  const rx = new RegExp(`^${src}$`, 's');
  return (name) => rx.test(name);
}
