import { describe, expect, it } from 'vitest';
import {
  consoleExecutionUrl,
  errorCommand,
  formatOutputs,
  readActionInputs,
  releaseArgv,
} from '../../../src/action/github-action.ts';
import { markdownCell } from '../../../src/action/timeline-markdown.ts';

describe('readActionInputs', () => {
  it('reads INPUT_* as the runner names them, hyphens kept, blanks as absent', () => {
    expect(
      readActionInputs({
        INPUT_SERVICE: 'checkout',
        INPUT_VERSION: ' 1.4.2 ',
        INPUT_ARTIFACT: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4.2',
        INPUT_STRATEGY: '',
        INPUT_WAIT: 'false',
        'INPUT_ENDPOINT-URL': 'http://127.0.0.1:4010',
      }),
    ).toEqual({
      service: 'checkout',
      version: '1.4.2',
      artifact: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4.2',
      wait: false,
      endpointUrl: 'http://127.0.0.1:4010',
    });
  });

  it('refuses a wait that is neither true nor false', () => {
    expect(() =>
      readActionInputs({
        INPUT_SERVICE: 's',
        INPUT_VERSION: 'v',
        INPUT_ARTIFACT: 'a',
        INPUT_WAIT: 'yes',
      }),
    ).toThrow('Input wait must be "true" or "false", got "yes".');
  });
});

describe('releaseArgv', () => {
  it('is the release command line: --s3 for s3:// artifacts, --wait with its timeout, --json', () => {
    expect(
      releaseArgv({
        service: 'checkout',
        version: '2.0.0',
        artifact: 's3://bucket/checkout/2.0.0.zip',
        strategy: 'canary',
        wait: true,
        timeoutSeconds: '600',
      }),
    ).toEqual([
      '--service',
      'checkout',
      '--version',
      '2.0.0',
      '--s3',
      's3://bucket/checkout/2.0.0.zip',
      '--strategy',
      'canary',
      '--wait',
      '--timeout',
      '600',
      '--json',
    ]);
  });
});

describe('formatOutputs', () => {
  it('writes each output as a delimited block no value can end early', () => {
    expect(formatOutputs({ outcome: 'RolledBack', 'release-id': 'a\nb' }, 'EOF1')).toBe(
      'outcome<<EOF1\nRolledBack\nEOF1\nrelease-id<<EOF1\na\nb\nEOF1\n',
    );
  });
});

describe('errorCommand', () => {
  it('keeps a multi-line reason in one annotation', () => {
    expect(errorCommand('RolledBack: 100%\nline two')).toBe(
      '::error title=greenlight::RolledBack: 100%25%0Aline two',
    );
  });
});

describe('consoleExecutionUrl', () => {
  it('links the execution in its region of the aws partition, and nothing elsewhere', () => {
    expect(
      consoleExecutionUrl('arn:aws:states:eu-west-1:123456789012:execution:greenlight-release:x'),
    ).toBe(
      'https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn%3Aaws%3Astates%3Aeu-west-1%3A123456789012%3Aexecution%3Agreenlight-release%3Ax',
    );
    expect(
      consoleExecutionUrl('arn:aws-cn:states:cn-north-1:123456789012:execution:m:x'),
    ).toBeUndefined();
  });
});

describe('markdownCell', () => {
  it('cannot close a cell, open a tag or span lines', () => {
    expect(markdownCell('a | b <img src=x>\n`c`')).toBe('a \\| b \\<img src=x\\> \\`c\\`');
  });
});
