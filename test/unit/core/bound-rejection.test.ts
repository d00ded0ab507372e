import { describe, expect, it } from 'vitest';
import {
  boundRejection,
  cutText,
  echoEvent,
  RejectionBudget,
} from '../../../src/core/bound-rejection.ts';
import { type FieldIssue, InvalidReleaseEvent } from '../../../src/core/errors.ts';

const utf8 = (text: string) => new TextEncoder().encode(text).byteLength;

function manyIssues(count: number, path = (i: number) => `detail.f${i}`): FieldIssue[] {
  return Array.from({ length: count }, (_, i) => ({
    path: path(i),
    message: 'is not a known field; remove it or fix its spelling',
  }));
}

describe('boundRejection', () => {
  it('keeps every issue of a small rejection and lists them all in the reason', () => {
    const issues = manyIssues(2);

    expect(boundRejection(issues)).toEqual({
      reason:
        'Release event rejected: detail.f0: is not a known field; remove it or fix its spelling; detail.f1: is not a known field; remove it or fix its spelling',
      issues,
      issuesOmitted: 0,
    });
  });

  it('keeps the first 20 issues and counts the others', () => {
    const bounded = boundRejection(manyIssues(4000));

    expect(bounded.issues).toEqual(manyIssues(20));
    expect(bounded.issuesOmitted).toBe(3980);
    expect(bounded.reason).toMatch(
      /^Release event rejected: detail\.f0: is not a known field.*; detail\.f19: is not a known field; remove it or fix its spelling; …and 3,980 more issues$/,
    );
  });

  it('cuts long paths and messages, saying how much was cut', () => {
    const [issue] = boundRejection([
      { path: `detail.${'k'.repeat(10_000)}`, message: `repository "${'a'.repeat(133_000)}"` },
    ]).issues;

    expect(issue?.path.length).toBeLessThanOrEqual(RejectionBudget.pathChars);
    expect(issue?.path).toMatch(/^detail\.k+…\(\+9,\d{3} characters\)$/);
    expect(issue?.message.length).toBeLessThanOrEqual(RejectionBudget.messageChars);
    expect(issue?.message).toMatch(/^repository "a+…\(\+132,\d{3} characters\)$/);
  });

  it('lists issues in the reason only up to its budget, and counts the rest there', () => {
    const long = manyIssues(20, (i) => `detail.${String(i).padStart(2, '0')}${'x'.repeat(400)}`);
    const bounded = boundRejection(long);

    expect(bounded.issues).toHaveLength(20);
    expect(bounded.reason.length).toBeLessThan(RejectionBudget.reasonChars + 100);
    expect(bounded.reason).toMatch(/; …and \d+ more issues$/);
  });

  it('gives a bounded rejection back unchanged', () => {
    const once = boundRejection([
      ...manyIssues(30),
      { path: 'detail.x', message: '€'.repeat(5000) },
    ]);
    expect(boundRejection(once.issues, once.issuesOmitted)).toEqual(once);
  });

  it('keeps a worst-case rejection far below the item and entry limits', () => {
    // Control characters cost 6 bytes each in JSON; astral characters 4 bytes per 2 units.
    const worst = [
      ...manyIssues(10_000, () => '\u0001'.repeat(50_000)).map((issue) => ({
        path: issue.path,
        message: '\u0002'.repeat(50_000),
      })),
    ];
    const bounded = boundRejection(worst);
    const detail = JSON.stringify({ reason: bounded.reason, issues: bounded.issues });
    expect(utf8(detail)).toBeLessThan(125 * 1024);

    const astral = boundRejection(
      manyIssues(10_000).map(() => ({ path: '😀'.repeat(5_000), message: '😀'.repeat(5_000) })),
    );
    const texts = [astral.reason, ...astral.issues.flatMap((i) => [i.path, i.message])];
    expect(texts.reduce((sum, text) => sum + utf8(text), 0)).toBeLessThan(64 * 1024);
  });
});

describe('cutText', () => {
  it('keeps text that fits', () => {
    expect(cutText('short', 10)).toBe('short');
  });

  it('never splits a surrogate pair', () => {
    const cut = cutText('😀'.repeat(100), 30);
    expect(cut.length).toBeLessThanOrEqual(30);
    expect(cut.isWellFormed()).toBe(true);
    expect(cut).toMatch(/^(😀)+…\(\+\d+ characters\)$/);
  });
});

describe('echoEvent', () => {
  it('keeps a small event whole, with its size', () => {
    expect(echoEvent({ id: 'e-1', detail: { actor: 'zoë' } })).toEqual({
      json: '{"id":"e-1","detail":{"actor":"zoë"}}',
      bytes: 38,
      truncated: false,
    });
  });

  it('cuts a large event at a character boundary and keeps its whole size', () => {
    const event = { detail: { key: '€'.repeat(100_000) } };
    const echo = echoEvent(event);

    expect(echo.truncated).toBe(true);
    expect(echo.bytes).toBe(utf8(JSON.stringify(event)));
    expect(utf8(echo.json)).toBeLessThanOrEqual(RejectionBudget.eventBytes);
    expect(utf8(echo.json)).toBeGreaterThan(RejectionBudget.eventBytes - 3);
    expect(echo.json.endsWith('€')).toBe(true);
  });

  it('writes lone surrogates as JSON escapes, and anything JSON cannot hold as text', () => {
    expect(echoEvent({ actor: 'a\ud800' }).json).toBe('{"actor":"a\\ud800"}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(echoEvent(cyclic).json).toBe('[object Object]');
    expect(echoEvent(undefined).json).toBe('null');
  });
});

describe('InvalidReleaseEvent', () => {
  it('carries bounded issues and a bounded message, however many issues it is given', () => {
    const error = new InvalidReleaseEvent(manyIssues(4000));

    expect(error.issues).toHaveLength(RejectionBudget.issues);
    expect(error.issuesOmitted).toBe(3980);
    expect(error.message.length).toBeLessThan(RejectionBudget.reasonChars + 100);
    expect(error.details).toEqual({ issues: error.issues, issuesOmitted: 3980 });
  });
});
