import { describe, expect, it } from 'vitest';
import {
  describeUnsafeCharacter,
  InertTextPattern,
  inertBeyondC0,
  inertText,
  inertValue,
  isInertText,
} from '../../../src/core/inert-text.ts';

/** Clear the screen, home the cursor, draw an OSC 8 hyperlink, then overwrite the line. */
const hostile = '\u001b[2J\u001b[H\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007\rok';

describe('inertText', () => {
  it('shows ESC sequences, BEL and CR as escapes instead of obeying them', () => {
    expect(inertText(hostile)).toBe(
      '\\u001b[2J\\u001b[H\\u001b]8;;https://evil.example\\u0007click\\u001b]8;;\\u0007\\rok',
    );
  });

  it('escapes C0, DEL and C1 controls, the CSI of C1 included', () => {
    expect(inertText('a\u0000b\tc\nd\u007fe\u0080f\u009b2Jg')).toBe(
      'a\\u0000b\\tc\\nd\\u007fe\\u0080f\\u009b2Jg',
    );
  });

  it('escapes bidi controls, so that text reads in the order it was sent', () => {
    for (const char of [
      '\u061c',
      '\u200e',
      '\u200f',
      '\u202a',
      '\u202b',
      '\u202c',
      '\u202d',
      '\u202e',
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069',
    ]) {
      expect(inertText(`a${char}b`)).toBe(
        `a\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}b`,
      );
    }
  });

  it('escapes line separators and lone surrogates, and keeps surrogate pairs', () => {
    expect(inertText('a\u2028b\u2029c')).toBe('a\\u2028b\\u2029c');
    expect(inertText('x\ud800y\udc00z')).toBe('x\\ud800y\\udc00z');
    expect(inertText('deploy 🚀')).toBe('deploy 🚀');
  });

  it('leaves printable text of any script alone', () => {
    const text = 'Zoë Ångström, 山田太郎, Łukasz, عمر, résumé #42 (ci-bot) "quoted" \\ back';
    expect(inertText(text)).toBe(text);
    expect(isInertText(text)).toBe(true);
  });

  it('is idempotent: its escapes are printable', () => {
    expect(inertText(inertText(hostile))).toBe(inertText(hostile));
    expect(isInertText(inertText(hostile))).toBe(true);
  });
});

describe('inertBeyondC0', () => {
  it('keeps C0 (colours, line breaks) and escapes the rest as JSON does', () => {
    expect(inertBeyondC0('\u001b[31mred\u001b[0m\n\u009b2J\u202e')).toBe(
      '\u001b[31mred\u001b[0m\n\\u009b2J\\u202e',
    );
  });

  it('keeps a JSON document the same value', () => {
    const value = { actor: 'a\u009bb\u202ec\u2028d\u007f', n: 1, nested: ['\u0085'] };
    const json = JSON.stringify(value, null, 2);
    const shown = inertBeyondC0(json);

    expect(JSON.parse(shown)).toEqual(value);
    expect(isInertText(shown.replaceAll('\n', ''))).toBe(true);
  });
});

describe('inertValue', () => {
  it('makes every string inert, keys and array items included, and keeps other values', () => {
    const record = {
      actor: '\u001b[2J',
      plan: [{ percent: 10, note: '\u202e' }],
      evidence: { '\u001bkey': true, count: 3, none: null },
    };
    expect(inertValue(record)).toEqual({
      actor: '\\u001b[2J',
      plan: [{ percent: 10, note: '\\u202e' }],
      evidence: { '\\u001bkey': true, count: 3, none: null },
    });
    expect(record.actor).toBe('\u001b[2J');
  });
});

describe('describeUnsafeCharacter', () => {
  it('names the first character that is not inert, what it is and where', () => {
    expect(describeUnsafeCharacter('ok\u001b[2J')).toBe(
      'U+001B (a control character) at position 2',
    );
    expect(describeUnsafeCharacter('\u202eabc')).toBe(
      'U+202E (a bidirectional control) at position 0',
    );
    expect(describeUnsafeCharacter('a\u2028')).toBe('U+2028 (a line separator) at position 1');
    expect(describeUnsafeCharacter('ab\udc00')).toBe('U+DC00 (a lone surrogate) at position 2');
    expect(describeUnsafeCharacter('fine')).toBeUndefined();
  });
});

describe('InertTextPattern', () => {
  it('agrees with isInertText on every UTF-16 code unit', () => {
    const disagreements: number[] = [];
    for (let unit = 0; unit <= 0xffff; unit++) {
      const text = `a${String.fromCharCode(unit)}b`;
      if (InertTextPattern.test(text) !== isInertText(text)) disagreements.push(unit);
    }
    expect(disagreements).toEqual([]);
  });

  it('agrees on surrogate pairs and lone surrogates next to text', () => {
    for (let high = 0xd800; high <= 0xdbff; high += 0x3f) {
      for (const low of [0xdc00, 0xde00, 0xdfff]) {
        const pair = String.fromCharCode(high, low);
        expect(InertTextPattern.test(pair)).toBe(true);
        expect(isInertText(pair)).toBe(true);
      }
      const lone = `${String.fromCharCode(high)}x`;
      expect(InertTextPattern.test(lone)).toBe(false);
      expect(isInertText(lone)).toBe(false);
    }
  });
});
