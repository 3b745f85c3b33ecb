import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import {
  InputTransformerError,
  applyInputTransformer,
  matchesEventPattern,
  renderInputTemplate,
  selectPath,
} from './eventbridge';

const event = {
  version: '0',
  id: 'e-1',
  'detail-type': 'CloudWatch Alarm State Change',
  source: 'aws.cloudwatch',
  time: '2025-03-14T09:26:53Z',
  resources: ['arn:aws:cloudwatch:us-west-2:111122223333:alarm:a'],
  detail: {
    alarmName: 'a',
    state: { value: 'ALARM', reason: 'checks failing: "order gateway" is down\nsince 09:26' },
    configuration: { metrics: [{ id: 'm1' }], threshold: 3, actionsEnabled: true },
  },
};
const rule = { ruleArn: 'arn:aws:events:us-west-2:111122223333:rule/r', ruleName: 'r' };

describe('the EventBridge input transformer stand-in', () => {
  test('JSON paths: dot notation, dashes, array indices; nothing selected is undefined', () => {
    expect(selectPath(event, '$.detail.state.value')).toBe('ALARM');
    expect(selectPath(event, '$.detail-type')).toBe('CloudWatch Alarm State Change');
    expect(selectPath(event, '$.resources[0]')).toBe(event.resources[0]);
    expect(selectPath(event, '$.detail.configuration.metrics[0].id')).toBe('m1');
    expect(selectPath(event, '$.detail.nope')).toBeUndefined();
    expect(() => selectPath(event, "$['detail']")).toThrow(InputTransformerError);
  });

  test('a value-position placeholder is the value as JSON: strings quoted and escaped, others as they are', () => {
    const out = applyInputTransformer(
      {
        InputPathsMap: {
          reason: '$.detail.state.reason',
          threshold: '$.detail.configuration.threshold',
          enabled: '$.detail.configuration.actionsEnabled',
          metrics: '$.detail.configuration.metrics',
        },
        InputTemplate: '{"reason": <reason>, "n": [<threshold>, <enabled>], "metrics": <metrics>}',
      },
      event,
      rule,
    );
    expect(out).toEqual({
      reason: event.detail.state.reason,
      n: [3, true],
      metrics: [{ id: 'm1' }],
    });
  });

  test('inside a JSON string the value is inserted unescaped, so a quote in it breaks the JSON', () => {
    const template = {
      InputPathsMap: { state: '$.detail.state.value' },
      InputTemplate: '{"s": "now <state>"}',
    };
    expect(applyInputTransformer(template, event, rule)).toEqual({ s: 'now ALARM' });
    const quoted = { InputPathsMap: { reason: '$.detail.state.reason' }, InputTemplate: '{"s": "<reason>"}' };
    expect(renderInputTemplate(quoted, event, rule)).toContain('"checks failing: "order gateway"');
    expect(() => applyInputTransformer(quoted, event, rule)).toThrow(/not JSON/);
    const object = {
      InputPathsMap: { m: '$.detail.configuration.metrics' },
      InputTemplate: '"metrics <m>"',
    };
    expect(applyInputTransformer(object, event, rule)).toBe('metrics [{id:m1}]');
  });

  test('predefined variables; undefined placeholders, reserved names and paths that select nothing are errors', () => {
    expect(
      applyInputTransformer(
        {
          InputTemplate:
            '{"rule": <aws.events.rule-name>, "arn": <aws.events.rule-arn>, "at": <aws.events.event.ingestion-time>, "e": <aws.events.event>, "all": <aws.events.event.json>}',
        },
        event,
        rule,
      ),
    ).toEqual({
      rule: 'r',
      arn: rule.ruleArn,
      at: event.time,
      e: Object.fromEntries(Object.entries(event).filter(([k]) => k !== 'detail')),
      all: event,
    });
    expect(() => applyInputTransformer({ InputTemplate: '{"a": <x>}' }, event, rule)).toThrow(
      /does not define/,
    );
    expect(() =>
      applyInputTransformer({ InputPathsMap: { 'aws.x': '$.id' }, InputTemplate: '{"a": 1}' }, event, rule),
    ).toThrow(/reserved/);
    expect(() =>
      applyInputTransformer(
        { InputPathsMap: { x: '$.detail.nope' }, InputTemplate: '{"a": <x>}' },
        event,
        rule,
      ),
    ).toThrow(/selects nothing/);
  });

  test('renders what CDK synthesizes for RuleTargetInput.fromObject with EventFields', () => {
    const stack = new Stack(new App(), 'Probe');
    const message = RuleTargetInput.fromObject({
      kind: 'alarm',
      name: EventField.fromPath('$.detail.alarmName'),
      reason: EventField.fromPath('$.detail.state.reason'),
      label: `alarm ${EventField.fromPath('$.detail.state.value')}`,
    });
    new Rule(stack, 'Rule', {
      eventPattern: { source: ['aws.cloudwatch'] },
      targets: [new SqsQueue(new Queue(stack, 'Queue'), { message })],
    });
    const [target] = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule'))[0]!
      .Properties.Targets as {
      InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
    }[];
    const transformer = target!.InputTransformer;
    expect(transformer.InputTemplate).toContain('"label":"alarm <detail-state-value>"');
    expect(applyInputTransformer(transformer, event, rule)).toEqual({
      kind: 'alarm',
      name: 'a',
      reason: event.detail.state.reason,
      label: 'alarm ALARM',
    });
  });
});

describe('the EventBridge event pattern stand-in', () => {
  test('exact values at any depth; arrays in the event match when one element does', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      resources: ['arn:aws:cloudwatch:us-west-2:111122223333:alarm:a'],
      detail: { alarmName: ['a', 'b'], state: { value: ['ALARM'] } },
    };
    expect(matchesEventPattern(pattern, event)).toBe(true);
    expect(matchesEventPattern(pattern, { ...event, detail: { ...event.detail, alarmName: 'c' } })).toBe(
      false,
    );
    expect(
      matchesEventPattern(pattern, { ...event, detail: { ...event.detail, state: { value: 'OK' } } }),
    ).toBe(false);
    expect(matchesEventPattern({ detail: { missing: ['x'] } }, event)).toBe(false);
    expect(() => matchesEventPattern({ source: [{ prefix: 'aws.' }] }, event)).toThrow(/not supported/);
  });
});
