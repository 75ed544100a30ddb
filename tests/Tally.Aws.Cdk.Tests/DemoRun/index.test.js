// Tests of the deploy-time demo run's handler (src/Tally.Aws.Cdk/DemoRun/index.js), in process, with a Step Functions
// client that answers as the service does. Run by .ci/aws-checks.sh:  node --test tests/Tally.Aws.Cdk.Tests/DemoRun/
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { createHandler } = require(path.join(__dirname, '..', '..', '..', 'src', 'Tally.Aws.Cdk', 'DemoRun', 'index.js'));

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Pipeline';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:Pipeline:demo-hour-2026-11-24T13';
const INPUT = '{"target_datetime": "2026-11-24T14:00:00Z"}';

class StartExecutionCommand { constructor(input) { this.name = 'StartExecution'; this.input = input; } }
class DescribeExecutionCommand { constructor(input) { this.name = 'DescribeExecution'; this.input = input; } }

/** A client whose DescribeExecution answers `statuses` one after another (the last one from then on). */
function client(statuses, { startError } = {}) {
  const calls = [];
  return {
    calls,
    async send(command) {
      calls.push({ name: command.name, input: command.input });
      if (command.name === 'StartExecution') {
        if (startError) throw Object.assign(new Error(startError), { name: startError });
        return { executionArn: EXECUTION };
      }
      const answer = statuses.length > 1 ? statuses.shift() : statuses[0];
      return { executionArn: command.input.executionArn, ...answer };
    },
  };
}

function handler(sfn) {
  return createHandler({ client: sfn, StartExecutionCommand, DescribeExecutionCommand, sleep: async () => {}, pollMs: 1 });
}

const create = {
  RequestType: 'Create',
  ResourceProperties: { StateMachineArn: STATE_MACHINE, ExecutionName: 'demo-hour-2026-11-24T13', Input: INPUT },
};
const context = (remaining = 600000) => ({ getRemainingTimeInMillis: () => remaining });

test('create starts the demo hour once and waits until the execution succeeds', async () => {
  const sfn = client([{ status: 'RUNNING' }, { status: 'RUNNING' }, { status: 'SUCCEEDED' }]);

  const result = await handler(sfn)(create, context());

  assert.deepEqual(result, { PhysicalResourceId: EXECUTION, Data: { Status: 'SUCCEEDED' } });
  assert.deepEqual(sfn.calls[0], { name: 'StartExecution', input: { stateMachineArn: STATE_MACHINE, name: 'demo-hour-2026-11-24T13', input: INPUT } });
  assert.equal(sfn.calls.filter((c) => c.name === 'StartExecution').length, 1);
  assert.equal(sfn.calls.filter((c) => c.name === 'DescribeExecution').length, 3);
});

for (const status of ['FAILED', 'TIMED_OUT', 'ABORTED']) {
  test(`create fails with the run's error and cause when the execution ends ${status}`, async () => {
    const sfn = client([{ status: 'RUNNING' }, { status, error: 'AggregationFailed', cause: 'The hour was not aggregated; a failure event was published.' }]);

    await assert.rejects(handler(sfn)(create, context()), (e) => {
      assert.match(e.message, new RegExp(`^The demo run demo-hour-2026-11-24T13 \\(${EXECUTION}\\) ended ${status}: AggregationFailed: The hour was not aggregated`));
      return true;
    });
  });
}

test('create fails, naming the execution, when it is still running as the function runs out of time', async () => {
  const sfn = client([{ status: 'RUNNING' }]);

  await assert.rejects(handler(sfn)(create, context(30000)), /was still running when the deployment stopped waiting/);
});

test('a retried create waits for the execution of that name that already started', async () => {
  const sfn = client([{ status: 'SUCCEEDED' }], { startError: 'ExecutionAlreadyExists' });

  const result = await handler(sfn)(create, context());

  assert.equal(result.PhysicalResourceId, EXECUTION);
  assert.deepEqual(sfn.calls[1], { name: 'DescribeExecution', input: { executionArn: EXECUTION } });
});

test('any other error starting the execution fails the create', async () => {
  const sfn = client([{ status: 'SUCCEEDED' }], { startError: 'AccessDeniedException' });

  await assert.rejects(handler(sfn)(create, context()), { name: 'AccessDeniedException' });
});

for (const requestType of ['Update', 'Delete']) {
  test(`${requestType.toLowerCase()} does nothing and keeps the resource's id`, async () => {
    const sfn = client([{ status: 'SUCCEEDED' }]);

    const result = await handler(sfn)({ ...create, RequestType: requestType, PhysicalResourceId: EXECUTION }, context());

    assert.deepEqual(result, { PhysicalResourceId: EXECUTION });
    assert.equal(sfn.calls.length, 0);
  });
}
