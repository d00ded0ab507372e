import { describe, expect, it } from 'vitest';
import { checkExpectations } from '../../../src/core/expectations.ts';

describe('checkExpectations', () => {
  it('passes when every dotted path holds the expected value', () => {
    const response = { statusCode: 200, body: { status: 'ok', items: [{ id: 7 }] } };

    expect(
      checkExpectations(response, {
        statusCode: 200,
        'body.status': 'ok',
        'body.items.0.id': 7,
      }),
    ).toEqual({ passed: true, detail: '3 expectations met' });
  });

  it('passes with nothing to check', () => {
    expect(checkExpectations('anything', {})).toEqual({ passed: true, detail: 'no expectations' });
  });

  it('compares objects and arrays by value, not identity or key order', () => {
    const response = { body: { tags: ['a', 'b'], owner: { team: 'pay', on: true } } };

    expect(
      checkExpectations(response, {
        body: { owner: { on: true, team: 'pay' }, tags: ['a', 'b'] },
      }).passed,
    ).toBe(true);
  });

  it('fails naming the first mismatched path with expected and actual values', () => {
    const response = { statusCode: 200, body: { status: 'degraded', version: '1.4.1' } };

    expect(
      checkExpectations(response, {
        statusCode: 200,
        'body.status': 'ok',
        'body.version': '1.4.2',
      }),
    ).toEqual({ passed: false, detail: 'body.status: expected "ok", got "degraded"' });
  });

  it('fails when a path is absent from the response', () => {
    expect(checkExpectations({ body: {} }, { 'body.status': 'ok' })).toEqual({
      passed: false,
      detail: 'body.status: expected "ok", but the response has no such field',
    });
  });

  it('fails when a path runs through a value that is not an object', () => {
    expect(checkExpectations({ body: 'ok' }, { 'body.status': 'ok' }).passed).toBe(false);
  });

  it('tells an array with extra items from the expected one', () => {
    expect(checkExpectations({ tags: ['a', 'b', 'c'] }, { tags: ['a', 'b'] })).toEqual({
      passed: false,
      detail: 'tags: expected ["a","b"], got ["a","b","c"]',
    });
  });

  it('tells null from a missing value and 1 from "1"', () => {
    expect(checkExpectations({ a: null }, { a: null }).passed).toBe(true);
    expect(checkExpectations({ a: 1 }, { a: '1' }).passed).toBe(false);
    expect(checkExpectations({ a: {} }, { a: [] }).passed).toBe(false);
  });

  it('checks the whole response with an empty path', () => {
    expect(checkExpectations('pong', { '': 'pong' }).passed).toBe(true);
  });
});
