import type { LocalResponse } from '../http.ts';
import type { AwsFault } from './fault.ts';

type Dict = Record<string, unknown>;

/**
 * Turns awsQuery form fields (`DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight`)
 * into nested objects and arrays. Values stay strings, as on the wire; a bare `Key=` is an empty list.
 */
export function parseQuery(form: URLSearchParams): Dict {
  const root: Dict = {};
  for (const [key, value] of form) {
    if (key === 'Action' || key === 'Version') continue;
    const raw = key.split('.');
    const path: (string | number)[] = [];
    for (let i = 0; i < raw.length; i += 1) {
      const segment = raw[i] as string;
      const next = raw[i + 1];
      if (
        (segment === 'member' || segment === 'entry') &&
        next !== undefined &&
        /^\d+$/.test(next)
      ) {
        path.push(Number(next) - 1);
        i += 1;
      } else {
        path.push(segment);
      }
    }
    let node: Dict | unknown[] = root;
    for (let i = 0; i < path.length; i += 1) {
      const segment = path[i] as string | number;
      const last = i === path.length - 1;
      const container = node as Record<string | number, unknown>;
      if (last) {
        container[segment] = value === '' && typeof segment === 'string' ? [] : value;
        break;
      }
      const nextIsIndex = typeof path[i + 1] === 'number';
      let child = container[segment];
      if (child === undefined || typeof child !== 'object' || child === null) {
        child = nextIsIndex ? [] : {};
        container[segment] = child;
      }
      node = child as Dict | unknown[];
    }
  }
  return compact(root) as Dict;
}

function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(compact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compact(v)]));
  }
  return value;
}

/** awsQuery XML: objects become elements, arrays become `<member>` lists, dates ISO 8601. */
function xmlElement(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    return `<${name}>${value.map((item) => xmlElement('member', item)).join('')}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value)
      .map(([key, child]) => xmlElement(key, child))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata/></ActionResponse>`. */
export function queryResult(
  action: string,
  result: unknown,
  xmlns: string,
  requestId: string,
): LocalResponse {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="${xmlns}">${xmlElement(`${action}Result`, result)}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

/** The awsQuery error document; the SDK maps `Code` to its typed exception. */
export function queryFault(fault: AwsFault, xmlns: string, requestId: string): LocalResponse {
  const type = fault.status >= 500 ? 'Receiver' : 'Sender';
  return {
    status: fault.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="${xmlns}"><Error><Type>${type}</Type><Code>${fault.code}</Code><Message>${escapeXml(fault.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}
