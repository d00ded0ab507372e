import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  idempotencyTableInput,
  ledgerTableInput,
  registryTableInput,
} from '../aws/dynamo-tables.ts';
import type { GreenlightNames } from './names.ts';

/** Powertools idempotency's default expiry attribute (DynamoDBPersistenceLayer). */
export const idempotencyExpiryAttribute = 'expiration';

export interface TableSpec {
  name: string;
  hashKey: string;
  rangeKey?: string;
  attributes: { name: string; type: 'S' | 'N' | 'B' }[];
  ttlAttribute?: string;
  pointInTimeRecovery: true;
  deletionProtection: boolean;
}

/**
 * The deployed tables, from the same key schemas the local cloud creates (src/aws/dynamo-tables.ts),
 * so the two cannot drift.
 */
export function tableSpecs(names: GreenlightNames, production: boolean): TableSpec[] {
  return [
    toSpec(ledgerTableInput(names.ledgerTable), production),
    {
      ...toSpec(idempotencyTableInput(names.idempotencyTable), production),
      ttlAttribute: idempotencyExpiryAttribute,
    },
    toSpec(registryTableInput(names.registryTable), production),
  ];
}

function toSpec(input: CreateTableCommandInput, production: boolean): TableSpec {
  const key = (type: 'HASH' | 'RANGE') =>
    input.KeySchema?.find((k) => k.KeyType === type)?.AttributeName;
  const hashKey = key('HASH');
  const rangeKey = key('RANGE');
  if (!input.TableName || !hashKey) throw new Error('A table needs a name and a hash key');
  return {
    name: input.TableName,
    hashKey,
    ...(rangeKey ? { rangeKey } : {}),
    attributes: (input.AttributeDefinitions ?? []).map((a) => ({
      name: a.AttributeName ?? '',
      type: (a.AttributeType ?? 'S') as 'S' | 'N' | 'B',
    })),
    pointInTimeRecovery: true,
    deletionProtection: production,
  };
}
