import { describe, expect, it } from 'vitest';
import { AwsFault, clientFault } from '../../../src/local/aws-protocol/fault.ts';
import {
  constraintViolation,
  notNullViolation,
  requiredString,
  strictOptionalString,
} from '../../../src/local/aws-protocol/fields.ts';
import { parseJsonObject, queryCompatibleJsonFault } from '../../../src/local/aws-protocol/json.ts';
import { LostResponses } from '../../../src/local/aws-protocol/lost-responses.ts';
import {
  decodeIndexToken,
  encodeIndexToken,
  pageAt,
  readOffsetMarker,
} from '../../../src/local/aws-protocol/pages.ts';
import { parseQuery, queryFault } from '../../../src/local/aws-protocol/query.ts';

const invalid = clientFault('ValidationException');

function request(body: string) {
  return { method: 'POST', url: '/', headers: {}, body: Buffer.from(body) };
}

describe('aws-protocol pages', () => {
  it('pages a listing and says where the next page starts', () => {
    expect(pageAt(['a', 'b', 'c'], 0, 2)).toEqual({ items: ['a', 'b'], next: 2 });
    expect(pageAt(['a', 'b', 'c'], 2, 2)).toEqual({ items: ['c'] });
  });

  it('reads an offset marker and refuses one past the end or not a whole number', () => {
    expect(readOffsetMarker(undefined, 3, invalid, 'bad')).toBe(0);
    expect(readOffsetMarker('3', 3, invalid, 'bad')).toBe(3);
    for (const marker of ['4', '-1', '1.5', 'abc']) {
      expect(() => readOffsetMarker(marker, 3, invalid, 'bad marker')).toThrow(
        expect.objectContaining({ code: 'ValidationException', message: 'bad marker' }),
      );
    }
  });

  it('round-trips an index token and refuses one it did not issue', () => {
    expect(decodeIndexToken(encodeIndexToken(7), invalid, 'bad')).toBe(7);
    expect(decodeIndexToken(undefined, invalid, 'bad')).toBe(0);
    expect(() => decodeIndexToken('bogus', invalid, 'bad token')).toThrow('bad token');
    const negative = Buffer.from(JSON.stringify({ index: -1 })).toString('base64');
    expect(() => decodeIndexToken(negative, invalid, 'bad token')).toThrow(AwsFault);
  });
});

describe('aws-protocol fields', () => {
  it('reads required and optional strings with the service fault', () => {
    expect(requiredString({ Name: 'x' }, 'Name', invalid, 'Name is required.')).toBe('x');
    expect(() => requiredString({ Name: '' }, 'Name', invalid, 'Name is required.')).toThrow(
      'Name is required.',
    );
    expect(strictOptionalString({ State: null }, 'State', invalid)).toBeUndefined();
    expect(() => strictOptionalString({ State: 1 }, 'State', invalid)).toThrow(
      'State must be a string.',
    );
  });

  it('words constraint violations as AWS request validation does', () => {
    expect(notNullViolation('TargetGroupArn')).toBe(
      "1 validation error detected: Value null at 'targetGroupArn' failed to satisfy constraint: Member must not be null",
    );
    expect(
      constraintViolation("'401'", 'pageSize', 'Member must have value less than or equal to 400'),
    ).toBe(
      "1 validation error detected: Value '401' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 400",
    );
  });
});

describe('aws-protocol wire', () => {
  it('parses a JSON object body, and refuses anything else with the service fault', () => {
    expect(parseJsonObject(request(''), invalid, 'bad')).toEqual({});
    expect(parseJsonObject(request('{"a":1}'), invalid, 'bad')).toEqual({ a: 1 });
    for (const body of ['3', 'null', '{']) {
      expect(() => parseJsonObject(request(body), invalid, 'not JSON')).toThrow('not JSON');
    }
  });

  it('names the awsQuery code of a query-compatible JSON error in x-amzn-query-error', () => {
    const response = queryCompatibleJsonFault(new AwsFault(404, 'ResourceNotFound', 'gone'));
    expect(response.status).toBe(404);
    expect(response.headers).toMatchObject({
      'x-amzn-errortype': 'ResourceNotFound',
      'x-amzn-query-error': 'ResourceNotFound;Sender',
    });
  });

  it('nests awsQuery members and renders an XML error with the sender or receiver', () => {
    const form = new URLSearchParams(
      'Action=X&Version=1&Actions.member.1.Type=forward&Actions.member.1.Targets.member.2.Weight=3&Empty=',
    );
    expect(parseQuery(form)).toEqual({
      Actions: [{ Type: 'forward', Targets: [{ Weight: '3' }] }],
      Empty: [],
    });
    const body = String(
      queryFault(new AwsFault(500, 'InternalFailure', 'a<b'), 'urn:x', 'r-1').body,
    );
    expect(body).toContain(
      '<Type>Receiver</Type><Code>InternalFailure</Code><Message>a&lt;b</Message>',
    );
  });
});

describe('LostResponses', () => {
  it('loses the next N responses of a faultable operation and none of another', () => {
    const lost = new LostResponses({ UpdateAlias: 'UpdateAlias' } as const);
    lost.lose('UpdateAlias', 2);
    expect([lost.take('UpdateAlias'), lost.take('UpdateAlias'), lost.take('UpdateAlias')]).toEqual([
      true,
      true,
      false,
    ]);
    expect(lost.take('toString')).toBe(false);
  });
});
